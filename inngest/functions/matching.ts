import { cron } from "inngest";
import { todayUtc } from "@/server/jobs/events";
import type { MatchingRunSummary } from "@/server/jobs/matching-job";
import { inngest } from "../client";
import { defaultJobDeps, type JobDeps } from "../deps";
import { matchingBacklogAdded, matchingRunRequested } from "../events";

export const NIGHTLY_MATCHING_CRON = "TZ=UTC 30 2 * * *";

/**
 * One reconciliation run per event. At most one run per organisation at a time (concurrency key
 * = the organisation): a second "Run now", an import landing and the nightly fan-out for the same
 * organisation queue behind each other instead of racing for the same records. The service also
 * takes a per-organisation advisory lock, so inline runs and the CLI are serialised with these.
 */
export function createMatchingRun(deps: JobDeps = defaultJobDeps) {
  return inngest.createFunction(
    {
      id: "matching-run",
      name: "Reconciliation run",
      triggers: [matchingRunRequested],
      concurrency: { limit: 1, key: "event.data.orgId" },
      retries: 2,
    },
    async ({ event, step }) => {
      const data = matchingRunRequested.schema.parse(event.data);
      // The date is fixed once, so a retry after midnight reconciles the same range.
      const today = await step.run("today", () => todayUtc(new Date(event.ts ?? Date.now())));
      return step.run("reconcile", (): Promise<MatchingRunSummary> =>
        deps.runMatchingJob(deps.db(), { ...data, against: data.against ?? { kind: "ledger" } }, new Date(`${today}T12:00:00Z`)),
      );
    },
  );
}

/**
 * Reconciles a source's backlog once its deliveries pause: every landing (file, webhook) sends an
 * event, and debounce per source turns a burst into one run, started 10 s after the last event or
 * 2 minutes after the first, whichever is sooner. The event carries no dates: the run takes them
 * all from the backlog row, so the events a debounce drops lose nothing. A failed run puts its
 * range back before the step's error makes Inngest retry it.
 */
export function createMatchingBacklogRun(deps: JobDeps = defaultJobDeps) {
  return inngest.createFunction(
    {
      id: "matching-backlog",
      name: "Reconciliation after deliveries",
      triggers: [matchingBacklogAdded],
      debounce: { key: "event.data.sourceId", period: "10s", timeout: "2m" },
      concurrency: { limit: 1, key: "event.data.orgId" },
      retries: 2,
    },
    async ({ event, step }) => {
      const data = matchingBacklogAdded.schema.parse(event.data);
      return step.run("reconcile-backlog", async (): Promise<MatchingRunSummary | null> => {
        const run = await deps.runMatchingBacklog(deps.db(), data.orgId, data.sourceId);
        if (run?.status === "failed") throw new Error(`reconciliation run ${run.runId} failed: ${run.error}`);
        return run;
      });
    },
  );
}

/**
 * Nightly at 02:30 UTC: every active source is reconciled against the ledger for the last 35
 * days. The runs are fanned out as events, so they go through matching-run and its
 * per-organisation limit of one. Learning is not part of it: a change of weights or thresholds
 * needs an admin's proposal and another person's approval (server/matching/settings-proposals.ts),
 * and a scheduled job has no person to be the maker.
 */
export function createNightlyMatching(deps: JobDeps = defaultJobDeps) {
  return inngest.createFunction(
    { id: "nightly-matching", name: "Nightly reconciliation", triggers: [cron(NIGHTLY_MATCHING_CRON)], concurrency: { limit: 1 }, retries: 2 },
    async ({ event, step }) => {
      const plan = await step.run("plan", async () => ({ today: todayUtc(new Date(event.ts ?? Date.now())), orgs: await deps.planNightlyMatching(deps.db()) }));
      const events = plan.orgs.flatMap((org) =>
        org.sourceIds.map((sourceId) => ({
          name: matchingRunRequested.name,
          // Event id: one nightly run per source and day, however often this function is replayed.
          id: `nightly-matching:${plan.today}:${sourceId}`,
          data: { orgId: org.orgId, sourceId, against: { kind: "ledger" as const }, to: plan.today, trigger: "schedule" as const },
        })),
      );
      if (events.length) await step.sendEvent("request-runs", events);
      return { today: plan.today, requested: events.length };
    },
  );
}

export const matchingRun = createMatchingRun();
export const matchingBacklogRun = createMatchingBacklogRun();
export const nightlyMatching = createNightlyMatching();
