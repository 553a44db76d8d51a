"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { assignInput, assignExceptions, commentInput, commentOnException, explainInput, explainExceptions, reopenInput, reopenExceptions, snoozeInput, snoozeExceptions, wakeInput, wakeExceptions } from "@/server/exceptions/actions";
import { acceptException } from "@/server/exceptions/accept";
import { draftAdjustment, draftAdjustmentInput } from "@/server/exceptions/adjustment";
import { bulkWriteOffInput, draftBulkWriteOff } from "@/server/exceptions/bulk-write-off";
import { freeRecordsInput, listFreeRecords } from "@/server/exceptions/detail";
import { manualMatch } from "@/server/matching/lifecycle";
import { manualMatchInput } from "@/server/matching/manual-match";

// Thin: each action parses, re-checks the session and role (app/_lib/action.ts), and calls server/exceptions.
export const assignAction = action("exceptions.assign", assignInput, "exceptions.work", (db, ctx, input) => assignExceptions(db, ctx, input));
export const snoozeAction = action("exceptions.snooze", snoozeInput, "exceptions.work", (db, ctx, input) => snoozeExceptions(db, ctx, input));
export const wakeAction = action("exceptions.wake", wakeInput, "exceptions.work", (db, ctx, input) => wakeExceptions(db, ctx, input));
export const explainAction = action("exceptions.explain", explainInput, "exceptions.work", (db, ctx, input) => explainExceptions(db, ctx, input));
export const reopenAction = action("exceptions.reopen", reopenInput, "exceptions.work", (db, ctx, input) => reopenExceptions(db, ctx, input));
export const commentAction = action("exceptions.comment", commentInput, "exceptions.work", (db, ctx, input) => commentOnException(db, ctx, input));
export const adjustAction = action("exceptions.adjust", draftAdjustmentInput, "exceptions.work", (db, ctx, input) => draftAdjustment(db, ctx, input));
export const writeOffAction = action("exceptions.writeOff", bulkWriteOffInput, "exceptions.work", (db, ctx, input) => draftBulkWriteOff(db, ctx, input));
export const acceptAction = action("exceptions.accept", z.object({ exceptionId: z.string() }), "matching.decide", (db, ctx, input) => acceptException(db, ctx, input.exceptionId));
export const freeRecordsAction = action("exceptions.freeRecords", freeRecordsInput, "ledger.read", (db, ctx, input) => listFreeRecords(db, ctx, input));
export const manualMatchAction = action("exceptions.manualMatch", manualMatchInput, "matching.decide", (db, ctx, input) => manualMatch(db, ctx, input));
