"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { saveDraft, discardDraft, draftInput } from "@/server/ledger/drafts";
import { submitDraft, submitEntryInput, submitManualEntry, submitReversal, submitReversalInput } from "@/server/ledger/submit-entry";
import { dispatch, TRIAL_BALANCE_REQUESTED } from "@/server/jobs";

/**
 * Manual entries and reversals are submitted for approval; the policy decides whether they post at
 * once or wait (the result says which). The form sends a key generated when it was opened, so a
 * double submit makes one request.
 */
export const submitEntryAction = action("ledger.submitEntry", submitEntryInput, "ledger.draft", (db, ctx, input) => submitManualEntry(db, ctx, input));

export const submitDraftAction = action("ledger.submitDraft", z.object({ draftId: z.string().uuid(), reason: z.string().max(2000).optional() }), "ledger.draft", (db, ctx, input) => submitDraft(db, ctx, input));

export const reverseEntryAction = action("ledger.reverseEntry", submitReversalInput, "ledger.draft", (db, ctx, input) => submitReversal(db, ctx, input));

export const saveDraftAction = action("ledger.saveDraft", draftInput, "ledger.draft", (db, ctx, input) => saveDraft(db, ctx, input));

export const discardDraftAction = action("ledger.discardDraft", z.object({ draftId: z.string().uuid() }), "ledger.draft", (db, ctx, input) => discardDraft(db, ctx, input.draftId));

/** "Run now": the same trial-balance check the nightly job runs, for the current organisation. */
export const runTrialBalanceCheckAction = action("checks.runTrialBalance", z.object({}), "checks.run", async (_db, ctx) => {
  const r = await dispatch({ name: TRIAL_BALANCE_REQUESTED, data: { orgId: ctx.orgId, requestedBy: ctx.userId ?? undefined } });
  return r.mode === "inline" ? { queued: false, status: r.runs[0]?.status ?? null } : { queued: true, status: null };
});
