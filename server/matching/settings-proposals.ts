import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { requestApproval, requestReason, validate, type SubmitResult } from "@/server/approvals/requests";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { planRecalibration } from "./learn-settings";
import { matchingSettingsChange, toDocument, type SettingsChangeContent } from "./settings-change-executor";
import { planRollback, rollbackInput } from "./settings-store";

/**
 * What an admin does on the settings page: the change is worked out now, from the current
 * version, and filed as a request (settings-change-executor.ts); it takes effect on approval.
 * Proposals are keyed by what they do and the version they start from: the same admin proposing
 * again replaces their pending one; two admins' proposals may wait side by side, and the one
 * approved second is refused as stale.
 */

export const recalibrateInput = z.object({ reason: requestReason });

export type SettingsProposal =
  | { status: "unchanged"; requestId: null; feedbackUsed: number }
  | { status: SubmitResult["status"]; requestId: string | null; feedbackUsed: number };

async function submit(db: Db, ctx: Ctx, content: SettingsChangeContent, reason: string) {
  const what = content.change === "rollback" ? `rollback-to-v${content.steps[0].restoresVersion}` : "recalibrate";
  return requestApproval(db, ctx, { kind: matchingSettingsChange.kind, targetKey: `matching_settings:v${content.baseVersion}:${what}`, content, reason });
}

/** Learns from the decisions not yet learnt from; nothing is filed when learning would change nothing. */
export async function proposeRecalibration(db: Db, ctx: Ctx, input: z.input<typeof recalibrateInput>): Promise<SettingsProposal> {
  requirePermission(ctx, "matching.settings");
  const { reason } = validate(recalibrateInput, input);
  const plan = await inOrg(db, ctx, (tx) => planRecalibration(tx, ctx));
  if (!plan.steps.length) return { status: "unchanged", requestId: null, feedbackUsed: plan.feedbackUsed };
  const r = await submit(db, ctx, {
    change: "recalibrate",
    baseVersion: plan.baseVersion,
    before: toDocument(plan.before),
    steps: plan.steps.map((s) => ({ ...s, after: toDocument(s.after) })),
  }, reason);
  return { status: r.status, requestId: r.requestId, feedbackUsed: plan.feedbackUsed };
}

/** Restores an earlier version's settings, as a new version. */
export async function proposeRollback(db: Db, ctx: Ctx, input: z.input<typeof rollbackInput>): Promise<SettingsProposal> {
  requirePermission(ctx, "matching.settings");
  const p = validate(rollbackInput, input);
  const plan = await inOrg(db, ctx, (tx) => planRollback(tx, ctx, p));
  const r = await submit(db, ctx, {
    change: "rollback",
    baseVersion: plan.baseVersion,
    before: toDocument(plan.before),
    steps: [{ kind: "rollback", after: toDocument(plan.after), why: plan.why, feedbackThrough: null, restoresVersion: plan.restoresVersion }],
  }, p.reason);
  return { status: r.status, requestId: r.requestId, feedbackUsed: 0 };
}
