import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { listOrganisationIds } from "@/server/jobs/organisations";
import { systemCtx } from "@/server/tenancy/context";
import { createSyncJob, failSyncJob, runSyncStep, type StepOutcome, type SyncDeps } from "./sync-job";
import { XeroError } from "./xero-errors";

/**
 * Running a sync without Inngest: the same runSyncStep, page after page, in this process. A step
 * that fails with a retryable error (Xero unavailable after the client's own retries, a database
 * hiccup) is tried again a few times before the job is marked failed with a message a person can
 * read. One runner per job per process; a job left running by a process that died is picked up by
 * resumeInterruptedSyncs at the next start, from its last committed page.
 */
const running = new Map<string, Promise<StepOutcome>>();

export async function runSyncJob(db: Db, orgId: string, jobId: string, deps: SyncDeps, opts: { stepRetries?: number; maxSteps?: number } = {}): Promise<StepOutcome> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let failures = 0;
  for (let steps = 0; steps < (opts.maxSteps ?? 100_000); steps++) {
    let outcome: StepOutcome;
    try {
      outcome = await runSyncStep(db, orgId, jobId, deps);
      failures = 0;
    } catch (e) {
      failures++;
      if (failures > (opts.stepRetries ?? 3)) {
        await failSyncJob(db, orgId, jobId, e instanceof XeroError ? e.message : "The sync stopped on an internal error; see the server log. Retry resumes from the last saved page.");
        if (!(e instanceof XeroError)) console.error(JSON.stringify({ level: "error", job: jobId, error: e instanceof Error ? e.stack : String(e) }));
        return { done: true, status: "failed" };
      }
      await sleep(deps.budget.scaled(2000 * failures));
      continue;
    }
    if (outcome.done || outcome.status === "parked") return outcome;
  }
  return { done: true, status: "failed" };
}

/** Starts (or joins) the job's runner without waiting for it; the job's rows show its progress. */
export function runSyncJobDetached(db: Db, orgId: string, jobId: string, deps: SyncDeps): Promise<StepOutcome> {
  const existing = running.get(jobId);
  if (existing) return existing;
  const p = runSyncJob(db, orgId, jobId, deps)
    .catch((e) => {
      console.error(JSON.stringify({ level: "error", job: jobId, error: e instanceof Error ? e.stack : String(e) }));
      return { done: true, status: "failed" } as StepOutcome;
    })
    .finally(() => running.delete(jobId));
  running.set(jobId, p);
  return p;
}

/** Jobs queued, running (left by a dead process) or parked past their time, in every organisation. */
export async function resumeInterruptedSyncs(db: Db, deps: SyncDeps): Promise<string[]> {
  const resumed: string[] = [];
  for (const orgId of await listOrganisationIds(db)) {
    const jobs = await inOrg(db, systemCtx(orgId, "xero-sync"), (tx) =>
      tx.execute<{ id: string }>(sql`select id from xero_sync_jobs where org_id = ${orgId} and (status in ('queued', 'running') or (status = 'parked' and parked_until <= now()))`),
    );
    for (const j of jobs) {
      void runSyncJobDetached(db, orgId, j.id, deps);
      resumed.push(j.id);
    }
  }
  return resumed;
}

export type QueuedSync = { orgId: string; connectionId: string; jobId: string; existing: boolean; error?: string };

/** The hourly incremental sync: one job per active connection (an open job is reused, not doubled). One connection's failure does not stop the others. */
export async function queueScheduledSyncs(db: Db): Promise<QueuedSync[]> {
  const conns = await db.execute<{ org_id: string; connection_id: string }>(sql`select org_id, connection_id from xero_active_connections()`);
  const out: QueuedSync[] = [];
  for (const c of conns) {
    try {
      const { jobId, existing } = await createSyncJob(db, systemCtx(c.org_id, "xero-schedule"), { connectionId: c.connection_id, kind: "incremental", trigger: "schedule" });
      out.push({ orgId: c.org_id, connectionId: c.connection_id, jobId, existing });
    } catch (e) {
      out.push({ orgId: c.org_id, connectionId: c.connection_id, jobId: "", existing: true, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
