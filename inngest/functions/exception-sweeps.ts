import { cron, NonRetriableError } from "inngest";
import { appDb, type Db } from "@/server/db/client";
import { serverEnv } from "@/server/env";
import { todayUtc } from "@/server/jobs/events";
import { runExceptionSweepsJob, wakeSnoozesEverywhere, type ExceptionSweepSummary, type SnoozeWakeOutcome } from "@/server/jobs/exception-sweeps-job";
import { listOrganisationIds } from "@/server/jobs/organisations";
import { inngest } from "../client";

/** After the nightly checks (02:00) and reconciliation (02:30): severities then see the night's new exceptions. */
export const EXCEPTION_SWEEPS_CRON = "TZ=UTC 0 3 * * *";

export type ExceptionSweepDeps = {
  db: () => Db;
  listOrganisationIds: (db: Db) => Promise<string[]>;
  runExceptionSweepsJob: typeof runExceptionSweepsJob;
  wakeSnoozesEverywhere: typeof wakeSnoozesEverywhere;
};

export const defaultExceptionSweepDeps: ExceptionSweepDeps = {
  db: () => appDb(serverEnv().DATABASE_URL),
  listOrganisationIds,
  runExceptionSweepsJob,
  wakeSnoozesEverywhere,
};

export const sweepStepId = (orgId: string) => `exception-sweeps-${orgId}`;

/**
 * Daily: per organisation, stale sources raised and cleared, ended snoozes woken, severities aged
 * (server/exceptions). One memoised step per organisation, so a retry redoes only the one that
 * failed; the date is fixed in the plan step, so a replay after midnight ages nothing twice.
 */
export function createExceptionSweeps(deps: ExceptionSweepDeps = defaultExceptionSweepDeps) {
  return inngest.createFunction(
    { id: "exception-sweeps", name: "Exception sweeps", triggers: [cron(EXCEPTION_SWEEPS_CRON)], concurrency: { limit: 1 }, retries: 3 },
    async ({ event, step }) => {
      const plan = await step.run("plan", async () => ({ today: todayUtc(new Date(event.ts ?? Date.now())), orgIds: await deps.listOrganisationIds(deps.db()) }));
      const runs: ExceptionSweepSummary[] = [];
      const errors: { orgId: string; error: string }[] = [];
      for (const orgId of plan.orgIds) {
        try {
          runs.push(await step.run(sweepStepId(orgId), () => deps.runExceptionSweepsJob(deps.db(), { orgId, today: plan.today })));
        } catch (e) {
          errors.push({ orgId, error: e instanceof Error ? e.message : String(e) });
        }
      }
      if (errors.length) {
        // The failing steps used their own retries; replaying the function would only replay memoised failures.
        throw new NonRetriableError(`Exception sweeps errored for ${errors.length} of ${plan.orgIds.length} organisation(s): ${errors.map((e) => `${e.orgId} (${e.error})`).join("; ")}`);
      }
      return { today: plan.today, runs };
    },
  );
}

/** On the hour: a snooze ends at 00:00 UTC of its day, so the midnight run brings it back as the day begins. */
export const SNOOZE_WAKE_CRON = "TZ=UTC 0 * * * *";

/**
 * Hourly: every organisation's ended snoozes woken, in one step (waking is idempotent, so a retry
 * after one organisation failed redoes the others harmlessly).
 */
export function createSnoozeWake(deps: ExceptionSweepDeps = defaultExceptionSweepDeps) {
  return inngest.createFunction(
    { id: "snooze-wake", name: "Wake snoozed exceptions", triggers: [cron(SNOOZE_WAKE_CRON)], concurrency: { limit: 1 }, retries: 3 },
    async ({ step }) =>
      step.run("wake", async (): Promise<SnoozeWakeOutcome> => {
        const outcome = await deps.wakeSnoozesEverywhere(deps.db());
        if (outcome.failures.length) throw new Error(`Waking snoozes failed for ${outcome.failures.length} organisation(s): ${outcome.failures.map((f) => `${f.orgId} (${f.error})`).join("; ")}`);
        return outcome;
      }),
  );
}

export const exceptionSweeps = createExceptionSweeps();
export const snoozeWake = createSnoozeWake();
