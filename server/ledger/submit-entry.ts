import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError, fieldErrorsOf } from "@/server/errors";
import { requestApproval, type SubmitResult } from "@/server/approvals/requests";
import type { Ctx } from "@/server/tenancy/context";
import { getDraft } from "./drafts";
import { entryForm, formLinesToLedger, isoDate } from "./schemas";

/**
 * Manual entries go through approval: the organisation's policy for `manual_journal` decides how
 * many approvers (by default one for every entry; a tier of 0 approvals lets small entries post at
 * once). The result says whether the entry was posted or waits as a request.
 */
export const submitEntryInput = entryForm.extend({
  /** Generated when the form opened: submitting twice makes one request. */
  idempotencyKey: z.string().min(8).max(100),
  reason: z.string().trim().max(2000).optional(),
});

export async function submitManualEntry(db: Db, ctx: Ctx, input: z.input<typeof submitEntryInput>): Promise<SubmitResult> {
  const f = submitEntryInput.parse(input);
  return requestApproval(db, ctx, {
    kind: "manual_journal",
    targetKey: `form:${f.idempotencyKey}`,
    content: { entityId: f.entityId, entryDate: f.entryDate, description: f.description, lines: formLinesToLedger(f.lines) },
    reason: f.reason || f.description,
  });
}

/** Submits a saved draft; submitting it again after an edit is a new version of the same request. */
export async function submitDraft(db: Db, ctx: Ctx, input: { draftId: string; reason?: string }): Promise<SubmitResult> {
  const d = await getDraft(db, ctx, input.draftId);
  if (d.status !== "draft") throw new AppError("conflict", `That draft was ${d.status}.`);
  const form = entryForm.safeParse(d);
  if (!form.success) {
    throw new AppError("validation", `The draft cannot be submitted yet: ${form.error.issues[0].path.join(".")} — ${form.error.issues[0].message}`, fieldErrorsOf(form.error));
  }
  return requestApproval(db, ctx, {
    kind: "manual_journal",
    targetKey: `draft:${input.draftId}`,
    content: { entityId: form.data.entityId, entryDate: form.data.entryDate, description: form.data.description, lines: formLinesToLedger(form.data.lines), draftId: input.draftId, draftUpdatedAt: d.updatedAt },
    reason: input.reason?.trim() || form.data.description,
  });
}

export const submitReversalInput = z.object({ entryId: z.string().uuid(), reversalDate: isoDate, reason: z.string().trim().min(3, "Give a reason for the reversal").max(500) });

/** A reversal is a manual entry too: it goes to approval under the same policy. */
export async function submitReversal(db: Db, ctx: Ctx, input: z.input<typeof submitReversalInput>): Promise<SubmitResult> {
  const r = submitReversalInput.parse(input);
  return requestApproval(db, ctx, { kind: "journal_reversal", targetKey: `reversal:${r.entryId}`, content: r, reason: r.reason });
}
