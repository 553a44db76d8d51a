import type { Db } from "@/server/db/client";
import { runTrialBalanceCheck, type CheckTrigger } from "@/server/checks/trial-balance-check";
import { systemCtx } from "@/server/tenancy/context";

/** What a job step keeps of a run: small and JSON-safe (Inngest memoises step output). */
export type TrialBalanceRunSummary = { orgId: string; runId: string; status: "passed" | "failed"; asOf: string };

/**
 * One organisation's trial-balance check as background work: the same service a signed-in
 * user's "Run now" reaches, acting as a named system actor. Shared by inline dispatch, the
 * in-process scheduler and the Inngest function's steps, so the three cannot drift apart.
 */
export async function runTrialBalanceJob(
  db: Db,
  job: { orgId: string; asOf: string; trigger: CheckTrigger; requestedBy?: string },
): Promise<TrialBalanceRunSummary> {
  const actor = job.trigger === "schedule" ? "nightly-trial-balance" : "trial-balance-check";
  const run = await runTrialBalanceCheck(db, systemCtx(job.orgId, actor), { asOf: job.asOf, trigger: job.trigger, requestedBy: job.requestedBy });
  return { orgId: job.orgId, runId: run.id, status: run.status, asOf: job.asOf };
}
