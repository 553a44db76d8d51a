import { cron, NonRetriableError } from "inngest";
import { appDb, type Db } from "@/server/db/client";
import { serverEnv } from "@/server/env";
import { dispatchXeroSync } from "@/server/xero/dispatch-sync";
import { syncDeps } from "@/server/xero/runtime";
import { failSyncJob, runSyncStep, type StepOutcome } from "@/server/xero/sync-job";
import { queueScheduledSyncs } from "@/server/xero/sync-runner";
import { inngest } from "../client";
import { xeroSyncRequested } from "../events";

export const XERO_HOURLY_CRON = "TZ=UTC 0 * * * *";
/** Inngest allows 1,000 steps a run; a longer sync continues in a fresh run of the same job. */
export const MAX_PAGES_PER_RUN = 900;

export type XeroJobDeps = {
  db: () => Db;
  runSyncStep: (db: Db, orgId: string, jobId: string) => Promise<StepOutcome>;
  failSyncJob: typeof failSyncJob;
  queueScheduledSyncs: typeof queueScheduledSyncs;
  dispatchXeroSync: typeof dispatchXeroSync;
};

export const defaultXeroJobDeps: XeroJobDeps = {
  db: () => appDb(serverEnv().DATABASE_URL),
  runSyncStep: (db, orgId, jobId) => runSyncStep(db, orgId, jobId, syncDeps(db)),
  failSyncJob,
  queueScheduledSyncs,
  dispatchXeroSync,
};

/**
 * One Xero sync job, one step per page: each step commits its page and cursor in Postgres, and
 * its memoised result lets a replay skip the pages already done. One run at a time per connection.
 * A parked tenant (daily budget spent) sleeps until its window reopens. When Inngest gives up on
 * a step, onFailure marks the job failed with the step's message.
 */
export function createXeroSync(deps: XeroJobDeps = defaultXeroJobDeps) {
  return inngest.createFunction(
    {
      id: "xero-sync",
      name: "Xero sync",
      triggers: [xeroSyncRequested],
      concurrency: { limit: 1, key: "event.data.connectionId" },
      retries: 5,
      onFailure: async ({ event, error }) => {
        const original = (event.data as { event?: { data?: { orgId?: string; jobId?: string } } }).event?.data;
        if (original?.orgId && original.jobId) await deps.failSyncJob(deps.db(), original.orgId, original.jobId, error.message || "The sync failed after its retries.");
      },
    },
    async ({ event, step }) => {
      const { orgId, jobId, connectionId } = xeroSyncRequested.schema.parse(event.data);
      for (let i = 0; i < MAX_PAGES_PER_RUN; i++) {
        const outcome = await step.run(`page-${i}`, () => deps.runSyncStep(deps.db(), orgId, jobId));
        if (outcome.done) return { jobId, status: outcome.status, steps: i + 1 };
        if (outcome.status === "parked") await step.sleepUntil(`parked-${i}`, outcome.parkedUntil);
      }
      await step.run("continue", () => deps.dispatchXeroSync(orgId, jobId, connectionId, Date.now()).then(() => ({ continued: true })));
      return { jobId, status: "continued", steps: MAX_PAGES_PER_RUN };
    },
  );
}

/** Hourly: queue an incremental sync for every active connection and hand each new job to xero-sync. */
export function createXeroHourlySync(deps: XeroJobDeps = defaultXeroJobDeps) {
  return inngest.createFunction(
    { id: "xero-hourly-sync", name: "Xero hourly incremental sync", triggers: [cron(XERO_HOURLY_CRON)], retries: 3 },
    async ({ step }) => {
      const queued = await step.run("queue-incremental-syncs", () => deps.queueScheduledSyncs(deps.db()));
      const fresh = queued.filter((q) => !q.existing);
      if (fresh.length) {
        await step.run("start-syncs", async () => {
          for (const q of fresh) await deps.dispatchXeroSync(q.orgId, q.jobId, q.connectionId);
          return fresh.length;
        });
      }
      if (queued.some((q) => q.error)) throw new NonRetriableError(`Could not queue ${queued.filter((q) => q.error).length} sync(s).`);
      return { queued: fresh.length, alreadyOpen: queued.length - fresh.length };
    },
  );
}

export const xeroSync = createXeroSync();
export const xeroHourlySync = createXeroHourlySync();
