import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { calibrateAutoThreshold, learnWeights, type Feedback } from "./learning";
import { feedbackThrough, lockOrgSettings, mergeSettings } from "./settings-store";
import type { MatchSettings, SignalBreakdown } from "./types";

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export type SettingsStep = { kind: "learn" | "calibrate" | "rollback"; after: MatchSettings; why: string; feedbackThrough: number | null; restoresVersion: number | null };
export type Recalibration = { baseVersion: number; before: MatchSettings; steps: SettingsStep[]; feedbackUsed: number };

/**
 * Learning from accountants' decisions: what a recalibration would change, without writing it.
 * An admin proposes it (settings-proposals.ts) and it takes effect when someone else approves
 * (settings-change-executor.ts); a learnt weight or a lowered auto threshold decides what is
 * matched without a person, so it is four-eyes like a rule change. It runs on request, not
 * after every decision: one confirm or reject moves weights by noise, a batch of decisions moves
 * them by evidence, and each change is a reviewable row in the history. Weights learn only from
 * feedback not yet learnt from (so the same decision never counts twice); the auto threshold is
 * calibrated on the last 180 days of decisions, so precision is measured on a stable sample.
 */
export async function planRecalibration(tx: Db, ctx: Ctx): Promise<Recalibration> {
  requirePermission(ctx, "matching.settings");
  const stored = await lockOrgSettings(tx, ctx.orgId);
  const current = mergeSettings(stored.settings);
  const through = await feedbackThrough(tx, ctx.orgId);
  const fresh = await tx.execute<{ id: string; decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }>(sql`
    select id::text, decision, signals, confidence::text from match_feedback where org_id = ${ctx.orgId} and id > ${through} order by id limit 10000`);
  const history = await tx.execute<{ decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }>(sql`
    select decision, signals, confidence::text from match_feedback where org_id = ${ctx.orgId} and at > now() - interval '180 days' order by id desc limit 10000`);
  const toFeedback = (r: { decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }): Feedback => ({ decision: r.decision, signals: r.signals, confidence: Number(r.confidence) });
  const lastId = fresh.length ? Number(fresh[fresh.length - 1].id) : through;

  const out: Recalibration = { baseVersion: stored.version, before: current, steps: [], feedbackUsed: fresh.length };
  let settings = current;
  if (fresh.length) {
    const learned = learnWeights(settings, fresh.map(toFeedback), mergeSettings());
    if (!same(learned.settings, settings)) {
      out.steps.push({ kind: "learn", after: learned.settings, why: learned.why, feedbackThrough: lastId, restoresVersion: null });
      settings = learned.settings;
    }
  }
  if (history.length) {
    const calibrated = calibrateAutoThreshold(settings, history.map(toFeedback));
    if (!same(calibrated.settings, settings)) out.steps.push({ kind: "calibrate", after: calibrated.settings, why: calibrated.why, feedbackThrough: lastId, restoresVersion: null });
  }
  return out;
}
