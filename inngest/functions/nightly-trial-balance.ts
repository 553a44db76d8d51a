import { cron, NonRetriableError } from "inngest";
import { todayUtc } from "@/server/jobs/events";
import type { TrialBalanceRunSummary } from "@/server/jobs/trial-balance-job";
import { inngest } from "../client";
import { defaultJobDeps, type JobDeps } from "../deps";
import { trialBalanceRequested } from "../events";

export const NIGHTLY_TRIAL_BALANCE_CRON = "TZ=UTC 0 2 * * *";

/** The step that checks one organisation; its id names the organisation so runs are legible. */
export const trialBalanceStepId = (orgId: string) => `trial-balance-${orgId}`;

/**
 * The trial-balance check for every organisation at 02:00 UTC, or for one organisation when a
 * user asks (tieout/checks.trial-balance.requested). One memoised step per organisation: a
 * retry re-runs only the organisation that failed, and a finished organisation's check_runs
 * row is not written twice. The check itself lives in server/checks.
 */
export function createNightlyTrialBalance(deps: JobDeps = defaultJobDeps) {
  return inngest.createFunction(
    {
      id: "nightly-trial-balance",
      name: "Trial-balance check",
      triggers: [cron(NIGHTLY_TRIAL_BALANCE_CRON), trialBalanceRequested],
      // One run at a time per organisation for requested runs (a double-clicked "Run now" queues,
      // it does not race). Cron events carry no orgId, so every nightly run shares one key:
      // never two nightly sweeps at once.
      concurrency: { limit: 1, key: "has(event.data.orgId) ? event.data.orgId : 'nightly'" },
      retries: 3,
    },
    async ({ event, step }) => {
      const requested = event.name === trialBalanceRequested.name ? trialBalanceRequested.schema.parse(event.data) : undefined;

      // Planned in a step so the organisation list and the date are fixed for the whole run,
      // however often the handler is replayed (a replay after midnight must not change asOf).
      const plan = await step.run("plan", async () =>
        requested
          ? { asOf: requested.asOf ?? todayUtc(), trigger: "manual" as const, orgIds: [requested.orgId], requestedBy: requested.requestedBy ?? null }
          : { asOf: todayUtc(new Date(event.ts ?? Date.now())), trigger: "schedule" as const, orgIds: await deps.listOrganisationIds(deps.db()), requestedBy: null },
      );

      const runs: TrialBalanceRunSummary[] = [];
      const errors: { orgId: string; error: string }[] = [];
      // Sequential: one organisation's aggregate at a time keeps the nightly load on the
      // database flat. A step that fails for good is recorded and the others still run.
      for (const orgId of plan.orgIds) {
        try {
          runs.push(
            await step.run(trialBalanceStepId(orgId), () =>
              deps.runTrialBalanceJob(deps.db(), { orgId, asOf: plan.asOf, trigger: plan.trigger, requestedBy: plan.requestedBy ?? undefined }),
            ),
          );
        } catch (e) {
          errors.push({ orgId, error: e instanceof Error ? e.message : String(e) });
        }
      }
      if (errors.length) {
        // The failing steps have used their own retries; replaying the function would only
        // replay the memoised failures, so the run fails without further retries.
        throw new NonRetriableError(
          `Trial-balance check errored for ${errors.length} of ${plan.orgIds.length} organisation(s): ${errors.map((e) => `${e.orgId} (${e.error})`).join("; ")}`,
        );
      }
      return { asOf: plan.asOf, trigger: plan.trigger, runs };
    },
  );
}

export const nightlyTrialBalance = createNightlyTrialBalance();
