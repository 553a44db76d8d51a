import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError, notFound } from "@/server/errors";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { isoDate, journalLineInput } from "@/server/ledger/schemas";
import { assertPeriodOpen } from "@/server/period-close/open-period";
import { dryRunPosting, manualJournal, postedEntry } from "@/server/approvals/executors/manual-journal";
import type { Executor } from "@/server/approvals/registry";
import type { Ctx } from "@/server/tenancy/context";
import { RESOLUTIONS } from "./kinds";

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
  exceptionId: z.string().uuid(),
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

async function lockUnresolved(tx: Db, ctx: Ctx, id: string) {
  const [e] = await tx.execute<{ status: string; title: string }>(sql`select status, title from exceptions where org_id = ${ctx.orgId} and id = ${id} for update`);
  if (!e) throw notFound("The exception");
  if (e.status === "resolved") throw new AppError("conflict", "The exception was resolved meanwhile; nothing was posted.");
  return e;
}

export const exceptionAdjustment: Executor<AdjustmentContent> = {
  kind: "exception_adjustment",
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
  async check(tx, ctx, c) {
    await lockUnresolved(tx, ctx, c.exceptionId);
    await assertPeriodOpen(tx, ctx.orgId, c.entityId, c.entryDate);
    await dryRunPosting(tx, ctx, (sp) => postJournalEntry(sp, { ...ctx, role: "system" }, { ...asJournal(c), idempotencyKey: `approval-check:${crypto.randomUUID()}`, source: c.entrySource }));
  },
  async execute(tx, ctx, c, request) {
    await lockUnresolved(tx, ctx, c.exceptionId);
    await assertPeriodOpen(tx, ctx.orgId, c.entityId, c.entryDate);
    if (c.matchId) {
      const [m] = await tx.execute<{ status: string }>(sql`select status from matches where org_id = ${ctx.orgId} and id = ${c.matchId} for update`);
      if (m?.status !== "suggested") throw new AppError("conflict", `The proposed match is ${m ? m.status.replace("_", " ") : "gone"} now; nothing was posted.`);
      await tx.execute(sql`update matches set status = 'confirmed', decided_by = ${ctx.userId}, decided_at = now() where org_id = ${ctx.orgId} and id = ${c.matchId}`);
    }
    const posted = await postJournalEntry(tx, ctx, { ...asJournal(c), idempotencyKey: `approval:${request.id}`, source: c.entrySource });
    await tx.execute(sql`
      update exceptions set status = 'resolved', resolution = ${c.resolution}, resolved_by = ${request.makerId}, resolved_at = now(), snoozed_until = null,
             resolution_note = ${`Entry ${posted.entryNumber} (approval ${request.id.slice(0, 8)})`},
             details = details || jsonb_build_object('entryId', ${posted.entryId}::text, 'approvalId', ${request.id}::text)
      where org_id = ${ctx.orgId} and id = ${c.exceptionId}`);
    return { entryId: posted.entryId, entryNumber: posted.entryNumber, exceptionId: c.exceptionId };
  },
};

