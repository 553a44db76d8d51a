import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError, notFound } from "@/server/errors";
import { postJournalEntries, type PostingInput } from "@/server/ledger/post-journal-entries";
import { isoDate, journalLineInput } from "@/server/ledger/schemas";
import { assertPeriodOpen } from "@/server/period-close/open-period";
import { dryRunPosting, manualJournal, postedEntry } from "@/server/approvals/executors/manual-journal";
import type { Executor, RequestRef } from "@/server/approvals/registry";
import type { Ctx } from "@/server/tenancy/context";
import { RESOLUTIONS } from "./kinds";
import { ADJUSTMENT_KIND, adjustmentTargetKey, refuseWaiting } from "./waiting";

/**
 * Writing off or adjusting an exception drafts a journal entry that goes through four-eyes
 * approval; the exception stays open (marked as waiting) until the entry is approved and posted,
 * and is then resolved in the same transaction as the posting.
 *
 * The entry moves the reconciled cash account by what the outside world says and the ledger does
 * not: + the amount of an unmatched bank line, − an unmatched ledger line, − the difference
 * inside a mismatched match; the other side goes to the write-off account (organisation policy)
 * or an account the accountant chooses. An unmatched bank line's entry is an ordinary cash line,
 * so the next run matches it to the bank line; the other two correct a difference rather than
 * record a movement, so they are booked with source `reconciliation_adjustment`, which matching
 * leaves out (records.ts), and the mismatched match is confirmed with the posting.
 */

/** Matching leaves entries booked with this source out (server/matching/records.ts). */
export const ADJUSTMENT_SOURCE = "reconciliation_adjustment";

export const adjustmentContent = z.object({
  /** Lower case, as the database prints it: requests holding an exception are found by it (waiting.ts). */
  exceptionId: z.string().uuid().transform((id) => id.toLowerCase()),
  resolution: z.enum(["written_off", "adjusted"]),
  entityId: z.string().uuid(),
  entryDate: isoDate,
  description: z.string().trim().min(1).max(500),
  /** Where the entry is booked: a cash movement matching will pair, or a correction it ignores. */
  entrySource: z.enum(["manual", ADJUSTMENT_SOURCE]),
  lines: z.array(journalLineInput).length(2),
  /** A mismatched suggestion confirmed with the posting. */
  matchId: z.string().uuid().nullable(),
});
export type AdjustmentContent = z.output<typeof adjustmentContent>;

const asJournal = (c: AdjustmentContent) => ({ entityId: c.entityId, entryDate: c.entryDate, description: c.description, lines: c.lines, draftId: null, draftUpdatedAt: null });

const postingOf = (c: AdjustmentContent, idempotencyKey: string): PostingInput => ({ ...asJournal(c), idempotencyKey, source: c.entrySource });

/** One exception written off or adjusted: the entry that did it. */
export type Adjusted = { exceptionId: string; entryId: string; entryNumber: number };

/**
 * Locks the exceptions in id order (two requests over the same exceptions cannot deadlock) and
 * refuses if any is gone or already resolved, naming it when there are several.
 */
async function lockUnresolved(tx: Db, ctx: Ctx, items: AdjustmentContent[]): Promise<Map<string, { id: string; title: string }>> {
  const ids = [...new Set(items.map((c) => c.exceptionId))];
  const rows = await tx.execute<{ id: string; status: string; title: string }>(sql`
    select id, status, title from exceptions where org_id = ${ctx.orgId} and id = any(${`{${ids.join(",")}}`}::uuid[]) order by id for update`);
  if (rows.length !== ids.length) throw notFound(ids.length === 1 ? "The exception" : "One of the exceptions");
  const done = rows.find((e) => e.status === "resolved");
  if (done) {
    throw new AppError("conflict", ids.length === 1
      ? "The exception was resolved meanwhile; nothing was posted."
      : `The exception “${done.title}” was resolved meanwhile; nothing was posted and none of the ${ids.length} exceptions was written off.`);
  }
  return new Map(rows.map((e) => [e.id, e]));
}

/** Refuses entries dated in a closed (or missing) period: each distinct entity and date once. */
async function assertPeriodsOpen(tx: Db, ctx: Ctx, items: AdjustmentContent[]): Promise<void> {
  const seen = new Set<string>();
  for (const c of items) {
    const key = `${c.entityId}|${c.entryDate}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await assertPeriodOpen(tx, ctx.orgId, c.entityId, c.entryDate);
  }
}

/** Confirms the mismatched suggestions the entries settle; refuses if one was decided meanwhile. */
async function confirmMatches(tx: Db, ctx: Ctx, items: AdjustmentContent[], locked: Map<string, { title: string }>): Promise<void> {
  const withMatch = items.filter((c) => c.matchId);
  if (!withMatch.length) return;
  const ids = `{${[...new Set(withMatch.map((c) => c.matchId!))].join(",")}}`;
  const rows = await tx.execute<{ id: string; status: string }>(sql`select id, status from matches where org_id = ${ctx.orgId} and id = any(${ids}::uuid[]) order by id for update`);
  const status = new Map(rows.map((m) => [m.id, m.status]));
  for (const c of withMatch) {
    const s = status.get(c.matchId!);
    if (s === "suggested") continue;
    const now = s ? s.replace("_", " ") : "gone";
    throw new AppError("conflict", items.length === 1
      ? `The proposed match is ${now} now; nothing was posted.`
      : `The proposed match of “${locked.get(c.exceptionId)?.title ?? c.exceptionId}” is ${now} now; nothing was posted.`);
  }
  await tx.execute(sql`update matches set status = 'confirmed', decided_by = ${ctx.userId}, decided_at = now() where org_id = ${ctx.orgId} and id = any(${ids}::uuid[])`);
}

/**
 * Refuses at submission what could not execute now: an exception resolved or already held by
 * another pending request, a closed period, an entry the ledger would refuse (tried in a rolled-back
 * savepoint). `own` is the request being submitted (kind and target key).
 */
export async function checkAdjustments(tx: Db, ctx: Ctx, items: AdjustmentContent[], own: { kind: string; targetKey: string }): Promise<void> {
  const locked = await lockUnresolved(tx, ctx, items);
  await refuseWaiting(tx, ctx, [...locked.values()], own);
  await assertPeriodsOpen(tx, ctx, items);
  const check = `approval-check:${crypto.randomUUID()}`;
  await dryRunPosting(tx, ctx, (sp) => postJournalEntries(sp, { ...ctx, role: "system" }, items.map((c) => postingOf(c, `${check}:${c.exceptionId}`))));
}

/**
 * Writes off or adjusts the exceptions of an approved request, all or nothing: locks them in id
 * order, refuses if any was resolved meanwhile or its period closed, confirms the mismatched
 * suggestions, posts every entry in one call (so one batch of entry numbers and audit rows), and
 * resolves each exception naming its entry and the approval.
 */
export async function executeAdjustments(tx: Db, ctx: Ctx, items: AdjustmentContent[], request: RequestRef, keyOf: (c: AdjustmentContent) => string): Promise<Adjusted[]> {
  const locked = await lockUnresolved(tx, ctx, items);
  await assertPeriodsOpen(tx, ctx, items);
  await confirmMatches(tx, ctx, items, locked);
  const posted = await postJournalEntries(tx, ctx, items.map((c) => postingOf(c, keyOf(c))));
  const done = items.map((c, i) => ({ exceptionId: c.exceptionId, entryId: posted[i].entryId, entryNumber: posted[i].entryNumber }));
  const rows = items.map((c, i) => ({ id: c.exceptionId, resolution: c.resolution, entry_id: done[i].entryId, note: `Entry ${done[i].entryNumber} (approval ${request.id.slice(0, 8)})` }));
  await tx.execute(sql`
    update exceptions e set status = 'resolved', resolution = r.resolution, resolved_by = ${request.makerId}, resolved_at = now(), snoozed_until = null,
           resolution_note = r.note, details = e.details || jsonb_build_object('entryId', r.entry_id::text, 'approvalId', ${request.id}::text)
    from json_to_recordset(${JSON.stringify(rows)}::json) as r(id uuid, resolution text, entry_id uuid, note text)
    where e.org_id = ${ctx.orgId} and e.id = r.id`);
  return done;
}

export const exceptionAdjustment: Executor<AdjustmentContent> = {
  kind: ADJUSTMENT_KIND,
  label: "Write-off or adjustment of an exception",
  submitPermission: "exceptions.work",
  content: adjustmentContent,
  async describe(tx, ctx, c) {
    const d = await manualJournal.describe(tx, ctx, asJournal(c));
    return { ...d, summary: `${RESOLUTIONS[c.resolution]}: ${d.summary}` };
  },
  outcome: (r) => ({ ...postedEntry(r, "Journal entry"), text: `Journal entry ${String(r.entryNumber)} is posted and the exception is resolved.` }),
  async present(tx, ctx, c) {
    const view = await manualJournal.present(tx, ctx, asJournal(c));
    const [e] = await tx.execute<{ title: string }>(sql`select title from exceptions where org_id = ${ctx.orgId} and id = ${c.exceptionId}`);
    return { ...view, fields: [{ label: "Exception", value: e?.title ?? c.exceptionId }, { label: "Resolution", value: RESOLUTIONS[c.resolution] }, ...(view.fields ?? [])] };
  },
  check: (tx, ctx, c) => checkAdjustments(tx, ctx, [c], { kind: ADJUSTMENT_KIND, targetKey: adjustmentTargetKey(c.exceptionId) }),
  async execute(tx, ctx, c, request) {
    const [done] = await executeAdjustments(tx, ctx, [c], request, () => `approval:${request.id}`);
    return done;
  },
};
