"use server";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { reverseJournalEntry } from "@/server/ledger/reverse-journal-entry";
import { entryForm, formLinesToLedger, reverseInput } from "@/server/ledger/schemas";
import { saveDraft, discardDraft, postDraft, draftInput } from "@/server/ledger/drafts";

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
