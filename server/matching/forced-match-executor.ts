import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { decimalString, isoDate } from "@/server/ledger/schemas";
import { formatMoney, money } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import type { Executor } from "@/server/approvals/registry";
import { FORCED_MATCH_KIND } from "@/server/exceptions/waiting";
import { assertFree, differenceOf, loadManualMatchRecords, lockMatching, recordManualMatch, type ManualMatchRecords, type MatchedRecord } from "./manual-match";
import { counterpartSchema } from "./run-matching";

/**
 * A manual match whose sides differ by more than the tolerance accepts a difference nobody can
 * point to an outside record for, so it waits for a second person. The request holds the records
 * exactly as the maker saw them; approval writes the match only if every one is still there,
 * free and unchanged, through the same code as an immediate manual match (manual-match.ts).
 */

const matchedRecord = z.object({ key: z.string().regex(/^(ct|jl):\d{1,18}$/), amount: decimalString, date: isoDate });

export const forcedMatchContent = z
  .object({
    sourceId: z.string().uuid(),
    against: counterpartSchema,
    currency: z.string().regex(/^[A-Z]{3}$/),
    left: z.array(matchedRecord).min(1).max(50),
    right: z.array(matchedRecord).min(1).max(50),
    /** sum(right) − sum(left), in the source's currency. */
    difference: decimalString,
    /** What the tolerance allowed when the maker matched. */
    tolerance: decimalString,
    reason: z.string().trim().min(3).max(500),
  })
  .superRefine((c, issues) => {
    // The left side is the source's transactions; the right side the ledger's lines or the other source's transactions.
    if (c.left.some((r) => !r.key.startsWith("ct:"))) issues.addIssue({ code: "custom", path: ["left"], message: "The source side holds transactions only" });
    const right = c.against.kind === "ledger" ? "jl:" : "ct:";
    if (c.right.some((r) => !r.key.startsWith(right))) issues.addIssue({ code: "custom", path: ["right"], message: "The counterpart side holds records of the counterpart only" });
  });
export type ForcedMatchContent = z.output<typeof forcedMatchContent>;

const idsOf = (rs: MatchedRecord[]) => rs.map((r) => r.key.split(":")[1]);

/** One pending request per set of records: the same records proposed twice are one request. */
export function forcedMatchTarget(c: Pick<ForcedMatchContent, "sourceId" | "left" | "right">): string {
  const keys = [...c.left.map((r) => `L${r.key}`), ...c.right.map((r) => `R${r.key}`)].sort();
  return `forced_match:${createHash("sha256").update(`${c.sourceId}|${keys.join(",")}`).digest("hex").slice(0, 40)}`;
}

/**
 * Reads the records again (under the matching lock) and refuses unless each is still there,
 * free, and has the amount and date the request holds, so that what is approved is what is written.
 */
async function recheck(tx: Db, ctx: Ctx, c: ForcedMatchContent): Promise<ManualMatchRecords> {
  await lockMatching(tx, ctx);
  const gone = new AppError("conflict", "A record of this match no longer exists (or is not this organisation's); nothing was matched.");
  const now = await loadManualMatchRecords(tx, ctx, { sourceId: c.sourceId, against: c.against, left: idsOf(c.left), right: idsOf(c.right) }, gone);
  assertFree(now);
  const held = new Map([...c.left, ...c.right].map((r) => [r.key, r]));
  const changed = [...now.left, ...now.right].filter((r) => {
    const h = held.get(r.key);
    return !h || !money(h.amount).eq(r.amount) || h.date !== r.date;
  });
  if (changed.length) throw new AppError("conflict", `${changed.length} of the records changed since the match was proposed (amount or date); nothing was matched. Propose it again.`);
  if (now.source.currency !== c.currency) throw new AppError("conflict", "The source's currency changed since the match was proposed; nothing was matched.");
  return now;
}

export const forcedMatch: Executor<ForcedMatchContent> = {
  kind: FORCED_MATCH_KIND,
  label: "Manual match outside the tolerance",
  submitPermission: "matching.decide",
  content: forcedMatchContent,
  async describe(tx, ctx, c) {
    const [source] = await tx.execute<{ name: string; entity_id: string }>(sql`select name, entity_id from sources where org_id = ${ctx.orgId} and id = ${c.sourceId}`);
    const dates = [...c.left, ...c.right].map((r) => r.date).sort();
    return {
      entityId: source?.entity_id ?? null,
      // A pending forced match keeps the period of its latest record from closing unreconciled.
      effectiveDate: dates[dates.length - 1],
      // The tier is picked by the difference being accepted, not by the matched amounts: the
      // records tie to each other except for it, and it is what nobody can show an outside
      // record for. It stays in the source's currency: the difference exists only there, and
      // converting it would make the control depend on a rate that may not be loaded yet.
      amount: money(c.difference).abs().toFixed(),
      currency: c.currency,
      summary: `Match ${c.left.length} ↔ ${c.right.length} record(s) on ${source?.name ?? "a source"} with a difference of ${formatMoney(c.difference, c.currency)} ${c.currency} (tolerance ${formatMoney(c.tolerance, c.currency)})`,
    };
  },
  outcome: (_r, c) => ({ text: `The records are matched with a difference of ${formatMoney(c.difference, c.currency)} ${c.currency}.`, href: "/matches" }),
  async present(tx, ctx, c) {
    const ct = [...c.left, ...c.right].filter((r) => r.key.startsWith("ct:")).map((r) => r.key.slice(3));
    const jl = c.right.filter((r) => r.key.startsWith("jl:")).map((r) => r.key.slice(3));
    const texts = new Map<string, string>();
    if (ct.length) {
      for (const r of await tx.execute<{ id: string; text: string }>(sql`
        select id::text, concat_ws(' · ', counterparty_name, reference, description) as text from canonical_transactions
        where org_id = ${ctx.orgId} and id = any(${`{${ct.join(",")}}`}::bigint[])`)) texts.set(`ct:${r.id}`, r.text);
    }
    if (jl.length) {
      for (const r of await tx.execute<{ id: string; text: string }>(sql`
        select l.id::text, concat_ws(' · ', 'Entry ' || j.entry_number, coalesce(l.memo, j.description)) as text from journal_lines l join journal_entries j on j.id = l.entry_id
        where l.org_id = ${ctx.orgId} and l.id = any(${`{${jl.join(",")}}`}::bigint[])`)) texts.set(`jl:${r.id}`, r.text);
    }
    const [source] = await tx.execute<{ name: string }>(sql`select name from sources where org_id = ${ctx.orgId} and id = ${c.sourceId}`);
    const [other] = c.against.kind === "source" ? await tx.execute<{ name: string }>(sql`select name from sources where org_id = ${ctx.orgId} and id = ${c.against.sourceId}`) : [];
    const row = (side: string) => (r: MatchedRecord) => [side, texts.get(r.key) ?? r.key, r.date, formatMoney(r.amount, c.currency)];
    return {
      fields: [
        { label: "Source", value: source?.name ?? c.sourceId },
        { label: "Against", value: c.against.kind === "ledger" ? "the ledger (the source's GL account)" : (other?.name ?? c.against.sourceId) },
        { label: "Difference", value: `${formatMoney(c.difference, c.currency)} ${c.currency}` },
        { label: "Tolerance", value: `${formatMoney(c.tolerance, c.currency)} ${c.currency}` },
        { label: "Why the difference is accepted", value: c.reason },
      ],
      table: {
        caption: "Matched records",
        columns: ["Side", "Record", "Date", "Amount"],
        numeric: [3],
        rows: [...c.left.map(row(source?.name ?? "Source")), ...c.right.map(row(c.against.kind === "ledger" ? "Ledger" : (other?.name ?? "Counterpart")))],
      },
    };
  },
  async check(tx, ctx, c) {
    const now = await recheck(tx, ctx, c);
    // The request's difference must be the records' own: an approver reads it as the amount accepted.
    if (!differenceOf(now).eq(c.difference)) {
      throw new AppError("validation", "The difference does not follow from the records.");
    }
  },
  async execute(tx, ctx, c, request) {
    const now = await recheck(tx, ctx, c);
    return recordManualMatch(tx, ctx, {
      ...now,
      difference: money(c.difference).toFixed(),
      note: `Matched by hand: ${c.reason} (approved, request ${request.id.slice(0, 8)})`,
      decidedBy: request.makerId,
      reason: c.reason,
      approvalId: request.id,
    });
  },
};
