"use server";
import { z } from "zod";
import { action } from "@/app/_lib/action";
import { AppError } from "@/server/errors";
import { listXeroConnections } from "@/server/xero/connections";
import { dispatchXeroSync } from "@/server/xero/dispatch-sync";
import { RESOURCE_KEYS } from "@/server/xero/resources/specs";
import { cancelSyncJob, createSyncJob, retrySyncJob } from "@/server/xero/sync-job";
import { getSyncJob, importedTransactionSummary, listSyncJobs, listSyncJobsInput, syncStatistics } from "@/server/xero/sync-queries";
import { xeroRuntime } from "@/server/xero/runtime";

const jobId = z.object({ jobId: z.guid() });

export const triggerSyncAction = action("xero.sync.trigger", z.object({ connectionId: z.guid(), kind: z.enum(["full", "incremental"]), resources: z.array(z.enum(RESOURCE_KEYS)).optional() }), "xero.sync", async (db, ctx, input) => {
  if (!xeroRuntime()) throw new AppError("conflict", "Xero is not configured on this server.");
  const r = await createSyncJob(db, ctx, { ...input, trigger: "manual" });
  if (r.existing) throw new AppError("conflict", "A sync of this organisation is already queued or running.");
  await dispatchXeroSync(ctx.orgId, r.jobId, input.connectionId);
  return r;
});
export const listSyncsAction = action("xero.sync.list", listSyncJobsInput, "ledger.read", (db, ctx, input) => listSyncJobs(db, ctx, input));
export const getSyncAction = action("xero.sync.get", jobId, "ledger.read", (db, ctx, input) => getSyncJob(db, ctx, input.jobId));
export const cancelSyncAction = action("xero.sync.cancel", jobId, "xero.sync", (db, ctx, input) => cancelSyncJob(db, ctx, input.jobId));
export const retrySyncAction = action("xero.sync.retry", jobId, "xero.sync", async (db, ctx, input) => {
  const r = await retrySyncJob(db, ctx, input.jobId);
  const job = await getSyncJob(db, ctx, input.jobId);
  await dispatchXeroSync(ctx.orgId, r.jobId, job.connectionId, Date.now());
  return r;
});
export const syncStatisticsAction = action("xero.sync.stats", z.object({ connectionId: z.guid().optional() }), "ledger.read", (db, ctx, input) => syncStatistics(db, ctx, input));
export const importedSummaryAction = action("xero.sync.imported", z.object({ connectionId: z.guid() }), "ledger.read", (db, ctx, input) => importedTransactionSummary(db, ctx, input));
/** What the sync page polls: connections, the latest jobs with per-resource progress, statistics. */
export const syncOverviewAction = action("xero.sync.overview", z.object({}), "ledger.read", async (db, ctx) => ({
  connections: await listXeroConnections(db, ctx),
  jobs: await listSyncJobs(db, ctx, { limit: 20 }),
  stats: await syncStatistics(db, ctx, {}),
}));
