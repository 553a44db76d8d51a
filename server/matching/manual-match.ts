import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { money, sum } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { counterpartSchema, type Counterpart } from "./run-matching";
import { loadSourceRow, recordKey, type SourceRow } from "./records";
import type { MatchSettings } from "./types";

/**
 * The one mechanism behind a person's own match, whether it is written at once (within the
 * tolerance) or on the approval of a forced match (server/matching/forced-match-executor.ts):
 * read the records under the matching lock, then write the match, its members, close their
 * unmatched exceptions and audit it. Both paths call the same two functions.
 */

const recordId = z.union([z.number().int().positive(), z.string().regex(/^\d{1,18}$/)]).transform(String);

export const manualMatchInput = z.object({
  sourceId: z.string().uuid(),
  against: counterpartSchema,
  /** Canonical transaction ids of the source. */
  left: z.array(recordId).min(1, "Pick at least one record on each side").max(50),
  /** Ledger line ids (against the ledger) or the other source's canonical transaction ids. */
  right: z.array(recordId).min(1, "Pick at least one record on each side").max(50),
  /** Needed when the sums do not tie within the tolerance: the match then waits for approval. */
  reason: z.string().trim().max(500).optional(),
});
export type ManualMatchInput = z.output<typeof manualMatchInput>;

/** One record of a manual match as it was read: its key ("ct:1", "jl:2"), signed amount and date. */
export type MatchedRecord = { key: string; amount: string; date: string };
type LoadedRecord = MatchedRecord & { active: boolean };

export type ManualMatchRecords = { source: SourceRow; other: SourceRow | null; against: Counterpart; left: LoadedRecord[]; right: LoadedRecord[] };

/** Serialises manual matches with runs and each other, per organisation (the same lock runMatching takes). */
export const lockMatching = (tx: Db, ctx: Ctx) => tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.matching:' || ${ctx.orgId}, 0))`);

/**
 * The records of a manual match, this organisation's only: every id must be a record of the
 * source (left) and of the counterpart (right), else "not found" — a foreign or made-up id reads
 * as missing (or `gone`, when the caller had them before). `active` says whether a record is
 * already in an active match of the pairing.
 */
export async function loadManualMatchRecords(
  tx: Db,
  ctx: Ctx,
  inp: { sourceId: string; against: Counterpart; left: string[]; right: string[] },
  gone: AppError = notFound("One of the records"),
): Promise<ManualMatchRecords> {
  const source = await loadSourceRow(tx, ctx.orgId, inp.sourceId);
  if (!source) throw notFound("The source");
  const other = inp.against.kind === "source" ? await loadSourceRow(tx, ctx.orgId, inp.against.sourceId) : null;
  if (inp.against.kind === "source" && !other) throw notFound("The counterpart source");
  const pairing = inp.against.kind;
  const ids = (xs: string[]) => `{${xs.join(",")}}`;
  const flip = (s: { kind: string }) => (other && s.kind === "psp" ? sql`-t.amount` : sql`t.amount`);
  type Row = { id: string; amount: string; date: string; active: boolean };
  const transactions = (s: SourceRow, xs: string[]) => tx.execute<Row>(sql`
    select t.id::text, (${flip(s)})::text as amount, t.booked_date::text as date,
           exists (select 1 from match_members m where m.canonical_transaction_id = t.id and m.pairing = ${pairing} and m.active) as active
    from canonical_transactions t where t.org_id = ${ctx.orgId} and t.source_id = ${s.id} and t.id = any(${ids(xs)}::bigint[]) order by t.id`);
  const left = await transactions(source, inp.left);
  const right = other
    ? await transactions(other, inp.right)
    : await tx.execute<Row>(sql`
        select l.id::text, l.amount::text, l.entry_date::text as date,
               exists (select 1 from match_members m where m.journal_line_id = l.id and m.active) as active
        from journal_lines l where l.org_id = ${ctx.orgId} and l.account_id = ${source.gl_account_id} and l.id = any(${ids(inp.right)}::bigint[]) order by l.id`);
  if (left.length !== new Set(inp.left).size || right.length !== new Set(inp.right).size) throw gone;
  const rightKind = other ? "ct" : "jl";
  return {
    source, other: other ?? null, against: inp.against,
    left: left.map((r) => ({ key: recordKey("ct", r.id), amount: r.amount, date: r.date, active: r.active })),
    right: right.map((r) => ({ key: recordKey(rightKind, r.id), amount: r.amount, date: r.date, active: r.active })),
  };
}

export function assertFree(m: ManualMatchRecords) {
  const taken = [...m.left, ...m.right].filter((r) => r.active);
  if (taken.length) throw new AppError("conflict", `${taken.length} of the records are already in an active match. Undo that match first.`);
}

/** sum(right) − sum(left): "0" when the records tie out. */
export function differenceOf(m: Pick<ManualMatchRecords, "left" | "right">) {
  return sum(m.right.map((r) => r.amount)).minus(sum(m.left.map((r) => r.amount)));
}

/** The engine's tolerance for these records: the larger of an absolute amount and a percent of the larger side. */
export function allowedDifference(m: Pick<ManualMatchRecords, "left" | "right">, settings: MatchSettings) {
  const sumLeft = sum(m.left.map((r) => r.amount)).abs();
  const sumRight = sum(m.right.map((r) => r.amount)).abs();
  const pct = money(settings.amountTolerance.percent).dividedBy(100).times(sumLeft.gt(sumRight) ? sumLeft : sumRight);
  const absolute = money(settings.amountTolerance.absolute);
  return pct.gt(absolute) ? pct : absolute;
}

/**
 * Writes a confirmed manual match of records already read (and checked free) under the matching
 * lock, closes their unmatched exceptions and audits it. `decidedBy` is the person whose match it
 * is (the maker, for a forced match executed on approval).
 */
export async function recordManualMatch(
  tx: Db,
  ctx: Ctx,
  m: ManualMatchRecords & { difference: string; note: string; decidedBy: string | null; reason: string | null; approvalId?: string },
): Promise<{ matchId: string }> {
  const pairing = m.against.kind;
  const [{ id }] = await tx.execute<{ id: string }>(sql`
    insert into matches (org_id, source_id, pairing, level, confidence, decision, status, signals, difference, currency, reason, decided_by, decided_at)
    values (${ctx.orgId}, ${m.source.id}, ${pairing}, 'manual', 1, 'manual', 'confirmed', '{}'::jsonb, ${m.difference}, ${m.source.currency},
            ${m.note}, ${m.decidedBy}, now())
    returning id`);
  const member = (side: "left" | "right") => (r: MatchedRecord) => {
    const [kind, rid] = r.key.split(":");
    return { side, ct: kind === "ct" ? rid : null, jl: kind === "jl" ? rid : null, amount: r.amount, date: r.date };
  };
  const members = [...m.left.map(member("left")), ...m.right.map(member("right"))];
  try {
    await tx.execute(sql`
      insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, journal_line_id, amount, record_date)
      select ${ctx.orgId}, ${id}, ${pairing}, side, ct, jl, amount, date
      from json_to_recordset(${JSON.stringify(members)}::json) as r(side text, ct bigint, jl bigint, amount numeric, date date)`);
  } catch (e) {
    const err = e as { code?: string; cause?: { code?: string } };
    if ((err.code ?? err.cause?.code) === "23505") throw new AppError("conflict", "One of the records was just matched by someone else.");
    throw e;
  }
  const keys = [...m.left, ...m.right].map((r) => r.key);
  await tx.execute(sql`
    update exceptions set status = 'resolved', resolved_at = now(), snoozed_until = null, resolution = 'matched_manually', resolved_by = ${m.decidedBy},
           details = details || jsonb_build_object('matchId', ${id}::text)
    where org_id = ${ctx.orgId} and status <> 'resolved' and subject_key = any(${`{${keys.join(",")}}`}::text[])
      and kind in ('unmatched_transaction', 'unmatched_ledger_line')`);
  const idsOf = (rs: MatchedRecord[]) => rs.map((r) => r.key.split(":")[1]);
  await appendAudit(tx, ctx, [{
    action: "matching.match.manual", entityType: "match", entityId: id,
    data: { sourceId: m.source.id, against: m.against, left: idsOf(m.left), right: idsOf(m.right), difference: m.difference, reason: m.reason, ...(m.approvalId ? { approvalId: m.approvalId } : {}) },
  }]);
  return { matchId: id };
}
