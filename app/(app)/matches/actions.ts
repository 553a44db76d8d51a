"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { dispatch, MATCHING_RUN_REQUESTED } from "@/server/jobs";
import { confirmMatch, confirmMatches, decideInput, rejectInput, rejectMatch, rejectMatches, undoInput, undoMatch } from "@/server/matching/lifecycle";
import { counterpartSchema, runMatchingInput } from "@/server/matching/run-matching";
import { rollbackInput } from "@/server/matching/settings-store";
import { proposeRecalibration, proposeRollback, recalibrateInput } from "@/server/matching/settings-proposals";
import { previewRule, ruleInput } from "@/server/matching/rules-store";
import { proposeRule, proposeRuleEnabled, proposeRuleEnabledInput, proposeRuleInput, proposeRuleOrder, proposeRuleOrderInput } from "@/server/matching/rule-proposals";
import { isoDate } from "@/server/ledger/schemas";

const runNowInput = z.object({ sourceId: z.string().uuid("Choose a source"), against: counterpartSchema, from: isoDate, to: isoDate });

/** "Run now": the run goes through the jobs seam (inline: awaited here; Inngest: queued). */
export const runMatchingAction = action("matching.run", runNowInput, "matching.run", async (_db, ctx, input) => {
  const checked = runMatchingInput.safeParse({ ...input, trigger: "manual" });
  if (!checked.success) return { queued: false, status: "invalid" as const, message: checked.error.issues[0]?.message ?? "Not valid", counts: null };
  const r = await dispatch({ name: MATCHING_RUN_REQUESTED, data: { orgId: ctx.orgId, ...input, trigger: "manual", requestedBy: ctx.userId ?? undefined } });
  if (r.mode === "inngest") return { queued: true, status: "queued" as const, message: null, counts: null };
  const run = r.runs[0] as { status: string; error: string | null; counts?: Record<string, number> | null } | undefined;
  return { queued: false, status: (run?.status ?? "failed") as "succeeded" | "failed", message: run?.error ?? null, counts: run?.counts ?? null };
});

const matchId = z.object({ matchId: z.string().uuid() });
export const confirmMatchAction = action("matching.confirm", matchId, "matching.decide", (db, ctx, input) => confirmMatch(db, ctx, input));
export const rejectMatchAction = action("matching.reject", rejectInput, "matching.decide", (db, ctx, input) => rejectMatch(db, ctx, input));
export const confirmMatchesAction = action("matching.confirmMany", decideInput, "matching.decide", (db, ctx, input) => confirmMatches(db, ctx, input));
export const rejectMatchesAction = action("matching.rejectMany", decideInput, "matching.decide", (db, ctx, input) => rejectMatches(db, ctx, input));
export const undoMatchAction = action("matching.undo", undoInput, "matching.decide", (db, ctx, input) => undoMatch(db, ctx, input));

// Settings and rules change only through approval: these actions file the proposals.
export const recalibrateAction = action("matching.recalibrate", recalibrateInput, "matching.settings", (db, ctx, input) => proposeRecalibration(db, ctx, input));
export const rollbackSettingsAction = action("matching.rollback", rollbackInput, "matching.settings", (db, ctx, input) => proposeRollback(db, ctx, input));

export const saveRuleAction = action("matching.saveRule", proposeRuleInput, "matching.rules", (db, ctx, input) => proposeRule(db, ctx, input));
export const previewRuleAction = action("matching.previewRule", z.object({ rule: ruleInput }), "matching.rules", (db, ctx, input) => previewRule(db, ctx, { rule: input.rule }));
export const setRuleEnabledAction = action("matching.ruleEnabled", proposeRuleEnabledInput, "matching.rules", (db, ctx, input) => proposeRuleEnabled(db, ctx, input));
export const reorderRulesAction = action("matching.reorderRules", proposeRuleOrderInput, "matching.rules", (db, ctx, input) => proposeRuleOrder(db, ctx, input));
