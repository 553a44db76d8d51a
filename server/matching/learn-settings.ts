import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { calibrateAutoThreshold, learnWeights, type Feedback } from "./learning";
import { feedbackThrough, lockOrgSettings, mergeSettings, writeChange } from "./settings-store";
import type { SignalBreakdown } from "./types";

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export type RecalibrateResult = { changed: boolean; version: number; feedbackUsed: number; changes: { kind: "learn" | "calibrate"; why: string }[]; precisionAtThreshold: number | null };

/**
 * Learning from accountants' decisions. When it runs: on an admin's "Recalibrate" and in the
 * nightly matching sweep, not after every single decision. One confirm or reject moves weights by
 * noise; a batch of a day's decisions moves them by evidence, and each change is a reviewable row
 * in the history instead of hundreds of tiny versions. Weights learn only from feedback not yet
 * learnt from (so the same decision never counts twice); the auto threshold is calibrated on the
 * last 180 days of decisions, so precision is measured on a stable sample.
 */
export async function recalibrateMatching(db: Db, ctx: Ctx): Promise<RecalibrateResult> {
  requirePermission(ctx, "matching.settings");
  return inOrg(db, ctx, async (tx) => {
    const stored = await lockOrgSettings(tx, ctx.orgId);
    const current = mergeSettings(stored.settings);
    const through = await feedbackThrough(tx, ctx.orgId);
    const fresh = await tx.execute<{ id: string; decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }>(sql`
      select id::text, decision, signals, confidence::text from match_feedback where org_id = ${ctx.orgId} and id > ${through} order by id limit 10000`);
    const history = await tx.execute<{ decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }>(sql`
      select decision, signals, confidence::text from match_feedback where org_id = ${ctx.orgId} and at > now() - interval '180 days' order by id desc limit 10000`);
    const toFeedback = (r: { decision: Feedback["decision"]; signals: SignalBreakdown; confidence: string }): Feedback => ({ decision: r.decision, signals: r.signals, confidence: Number(r.confidence) });
    const lastId = fresh.length ? Number(fresh[fresh.length - 1].id) : through;

    const out: RecalibrateResult = { changed: false, version: stored.version, feedbackUsed: fresh.length, changes: [], precisionAtThreshold: null };
    let settings = current;
    if (fresh.length) {
      const learned = learnWeights(settings, fresh.map(toFeedback), mergeSettings());
      if (!same(learned.settings, settings)) {
        out.version += 1;
        await writeChange(tx, ctx, { version: out.version, kind: "learn", before: settings, after: learned.settings, why: learned.why, feedbackThrough: lastId });
        out.changes.push({ kind: "learn", why: learned.why });
        settings = learned.settings;
      }
    }
    if (history.length) {
      const calibrated = calibrateAutoThreshold(settings, history.map(toFeedback));
      out.precisionAtThreshold = calibrated.precisionAtThreshold;
      if (!same(calibrated.settings, settings)) {
        out.version += 1;
        await writeChange(tx, ctx, { version: out.version, kind: "calibrate", before: settings, after: calibrated.settings, why: calibrated.why, feedbackThrough: lastId });
        out.changes.push({ kind: "calibrate", why: calibrated.why });
      }
    }
    out.changed = out.changes.length > 0;
    return out;
  });
}

