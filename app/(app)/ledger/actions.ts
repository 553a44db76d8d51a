"use server";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { reverseJournalEntry } from "@/server/ledger/reverse-journal-entry";
import { entryForm, formLinesToLedger, reverseInput } from "@/server/ledger/schemas";
import { saveDraft, discardDraft, postDraft, draftInput } from "@/server/ledger/drafts";
import { dispatch, TRIAL_BALANCE_REQUESTED } from "@/server/jobs";

/** The form sends a key generated when it was opened, so a double submit posts once. */
const postEntryInput = entryForm.extend({ idempotencyKey: z.string().min(8).max(100).default(() => randomUUID()) });

export const postEntryAction = action("ledger.postEntry", postEntryInput, "ledger.post", (db, ctx, input) =>
  postJournalEntry(db, ctx, {
    entityId: input.entityId,
    entryDate: input.entryDate,
    description: input.description,
    idempotencyKey: `form:${input.idempotencyKey}`,
    lines: formLinesToLedger(input.lines),
  }),
);

export const reverseEntryAction = action("ledger.reverseEntry", reverseInput, "ledger.post", (db, ctx, input) => reverseJournalEntry(db, ctx, input));

export const saveDraftAction = action("ledger.saveDraft", draftInput, "ledger.draft", (db, ctx, input) => saveDraft(db, ctx, input));

export const postDraftAction = action("ledger.postDraft", z.object({ draftId: z.string().uuid() }), "ledger.post", (db, ctx, input) => postDraft(db, ctx, input.draftId));

export const discardDraftAction = action("ledger.discardDraft", z.object({ draftId: z.string().uuid() }), "ledger.draft", (db, ctx, input) => discardDraft(db, ctx, input.draftId));

/** "Run now": the same trial-balance check the nightly job runs, for the current organisation. */
export const runTrialBalanceCheckAction = action("checks.runTrialBalance", z.object({}), "checks.run", async (_db, ctx) => {
  const r = await dispatch({ name: TRIAL_BALANCE_REQUESTED, data: { orgId: ctx.orgId, requestedBy: ctx.userId ?? undefined } });
  return r.mode === "inline" ? { queued: false, status: r.runs[0]?.status ?? null } : { queued: true, status: null };
});
