import type { Db } from "@/server/db/client";
import { consoleJobLogger, type JobLogger } from "./dispatch";
import { todayUtc } from "./events";
import { runNightlyExceptionSweeps, wakeSnoozesEverywhere, type NightlySweepOutcome } from "./exception-sweeps-job";
import { asOrgItems, eachInTurn } from "./each-in-turn";
import { listOrganisationIds } from "./organisations";
import { runTrialBalanceJob, type TrialBalanceRunSummary } from "./trial-balance-job";
import { pendingMatchingBacklogs, planNightlyMatching, runMatchingBacklog, runMatchingJob, type MatchingRunSummary } from "./matching-job";

/** The nightly checks run at 02:00 UTC, the same schedule as the Inngest cron (TZ=UTC 0 2 * * *). */
export const NIGHTLY_HOUR_UTC = 2;

/** The first 02:00 UTC strictly after `after`. */
export function nextNightlyRun(after: Date, hourUtc = NIGHTLY_HOUR_UTC): Date {
  const next = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), hourUtc, 0, 0, 0));
  if (next.getTime() <= after.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}

export type NightlyOutcome = { asOf: string; runs: TrialBalanceRunSummary[]; failures: { orgId: string; error: string }[] };

/**
 * The trial-balance check for every organisation, one after another. One organisation's
 * failure is logged and does not stop the others (the Inngest function behaves the same way).
 */
export async function runNightlyTrialBalance(db: Db, opts: { asOf: string; log?: JobLogger }): Promise<NightlyOutcome> {
  const log = opts.log ?? consoleJobLogger;
  const { results: runs, failures } = await eachInTurn(
    asOrgItems(await listOrganisationIds(db)),
    ({ orgId }) => runTrialBalanceJob(db, { orgId, asOf: opts.asOf, trigger: "schedule" }),
    ({ orgId }, error) => log.error("nightly trial-balance check failed", { orgId, asOf: opts.asOf, error }),
  );
  const outcome: NightlyOutcome = { asOf: opts.asOf, runs, failures };
  const failed = outcome.runs.filter((r) => r.status === "failed").map((r) => r.orgId);
  log.info("nightly trial-balance check finished", { asOf: opts.asOf, organisations: outcome.runs.length, failedChecks: failed, errors: outcome.failures.length });
  return outcome;
}

export type NightlyMatchingOutcome = { today: string; runs: MatchingRunSummary[]; failures: { orgId: string; sourceId: string; error: string }[] };

/**
 * The nightly reconciliation without Inngest: the plan the Inngest cron fans out as events (every
 * reconciled source, the last 35 days), run here one source after another. One source's failure
 * is logged and does not stop the others.
 */
export async function runNightlyMatching(db: Db, opts: { today: string; log?: JobLogger }): Promise<NightlyMatchingOutcome> {
  const log = opts.log ?? consoleJobLogger;
  const sources = (await planNightlyMatching(db)).flatMap(({ orgId, sourceIds }) => sourceIds.map((sourceId) => ({ orgId, sourceId })));
  const { results: runs, failures } = await eachInTurn(
    sources,
    ({ orgId, sourceId }) => runMatchingJob(db, { orgId, sourceId, to: opts.today, trigger: "schedule" }, new Date(`${opts.today}T12:00:00Z`)),
    ({ orgId, sourceId }, error) => log.error("nightly reconciliation failed", { orgId, sourceId, today: opts.today, error }),
  );
  const outcome: NightlyMatchingOutcome = { today: opts.today, runs, failures };
  log.info("nightly reconciliation finished", { today: opts.today, runs: outcome.runs.length, failedRuns: outcome.runs.filter((r) => r.status === "failed").length, errors: outcome.failures.length });
  return outcome;
}

/**
 * Without Inngest, a backlog whose debounced run was still waiting when the process stopped would
 * wait for the next delivery or the night. A process that starts reconciles every backlog left,
 * one after another.
 */
export async function resumeMatchingBacklogs(db: Db, opts: { log?: JobLogger; now?: Date } = {}): Promise<MatchingRunSummary[]> {
  const log = opts.log ?? consoleJobLogger;
  const { results } = await eachInTurn(
    await pendingMatchingBacklogs(db),
    ({ orgId, sourceId }) => runMatchingBacklog(db, orgId, sourceId, opts.now),
    ({ orgId, sourceId }, error) => log.error("matching a backlog left by a stopped process failed", { orgId, sourceId, error }),
  );
  const runs = results.filter((run): run is MatchingRunSummary => run !== null);
  if (runs.length) log.info("backlogs left by a stopped process reconciled", { runs: runs.length });
  return runs;
}

/**
 * The in-process nightly schedule used by `npm start` when Inngest is not configured: one
 * timer to the next 02:00 UTC, which runs the trial-balance checks, the reconciliation and then the
 * exception sweeps (Inngest runs them as three crons, 02:00, 02:30 and 03:00 UTC), re-armed after
 * each run; a second timer wakes ended snoozes on the hour. On start it reconciles the matching
 * backlogs a previous process left. The timers are unref'd so they never keep the process alive
 * on their own. Not durable: a run missed while the process was down is not
 * caught up (the durable path is Inngest). Returns a function that stops the schedule.
 */
export function startInlineScheduler(
  db: Db,
  opts: { log?: JobLogger; now?: () => Date; hourUtc?: number; onRun?: (o: NightlyOutcome) => void; onSweep?: (o: NightlySweepOutcome) => void } = {},
): () => void {
  const log = opts.log ?? consoleJobLogger;
  const now = opts.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  // On the hour, as the Inngest cron snooze-wake: a snooze ends at 00:00 UTC of its day. A second
  // late, so a timer firing a hair early does not find the hour's snoozes still in the future.
  const armWake = () => {
    if (stopped) return;
    const t = now().getTime();
    const nextHour = Math.floor(t / 3_600_000) * 3_600_000 + 3_600_000;
    wakeTimer = setTimeout(() => {
      void wakeSnoozesEverywhere(db, { log })
        .catch((e) => log.error("waking snoozed exceptions could not start", { error: String(e) }))
        .finally(armWake);
    }, nextHour - t + 1_000);
    wakeTimer.unref();
  };

  const arm = (after: Date) => {
    if (stopped) return;
    const at = nextNightlyRun(after, opts.hourUtc);
    timer = setTimeout(() => void fire(at), Math.max(0, at.getTime() - now().getTime()));
    timer.unref();
  };

  const fire = async (scheduledFor: Date) => {
    try {
      const outcome = await runNightlyTrialBalance(db, { asOf: todayUtc(scheduledFor), log });
      opts.onRun?.(outcome);
    } catch (e) {
      // Listing the organisations failed (database down?): log and try again tomorrow.
      log.error("nightly trial-balance run could not start", { error: String(e) });
    }
    // Each step beside the others, not after their success: a failed check must not leave lines
    // unreconciled or snoozes asleep.
    try {
      await runNightlyMatching(db, { today: todayUtc(scheduledFor), log });
    } catch (e) {
      log.error("nightly reconciliation could not start", { error: String(e) });
    }
    try {
      opts.onSweep?.(await runNightlyExceptionSweeps(db, { today: todayUtc(scheduledFor), log }));
    } catch (e) {
      log.error("nightly exception sweeps could not start", { error: String(e) });
    } finally {
      // Re-arm from the slot just served, so a timer that fires a little early cannot run it twice.
      arm(new Date(Math.max(scheduledFor.getTime(), now().getTime())));
    }
  };

  arm(now());
  armWake();
  void resumeMatchingBacklogs(db, { log }).catch((e) => log.error("could not look for matching backlogs", { error: String(e) }));
  log.info("inline scheduler started", { next: nextNightlyRun(now(), opts.hourUtc).toISOString() });
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (wakeTimer) clearTimeout(wakeTimer);
  };
}
