import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { runMatching, type Counterpart, type MatchTrigger } from "@/server/matching/run-matching";
import { isReconciledSourceKind, sourcesWithBacklog, takeMatchingBacklog, widenMatchingBacklog } from "@/server/matching/backlog";
import { addDays } from "@/server/matching/records";
import { systemCtx } from "@/server/tenancy/context";
import { todayUtc } from "./events";
import { listOrganisationIds } from "./organisations";

/** What a job step keeps of a run: small and JSON-safe (Inngest memoises step output). */
export type MatchingRunSummary = { orgId: string; sourceId: string; runId: string | null; status: "succeeded" | "failed" | "skipped"; from: string | null; to: string | null; error: string | null };

export type MatchingJob = {
  orgId: string;
  sourceId: string;
  against?: Counterpart;
  from?: string;
  to?: string;
  trigger: MatchTrigger;
  requestedBy?: string;
};

/** Scheduled runs look this far back: a month of bank lines and the stragglers of the one before. */
export const SCHEDULED_LOOKBACK_DAYS = 35;

/**
 * One reconciliation run as background work, acting as a named system actor: the same service
 * a signed-in user's "Run now" reaches. Shared by inline dispatch, the nightly sweep, the backlog
 * after deliveries and the Inngest functions' steps.
 */
export async function runMatchingJob(db: Db, job: MatchingJob, now: Date = new Date()): Promise<MatchingRunSummary> {
  const ctx = systemCtx(job.orgId, `matching-${job.trigger}`);
  const to = job.to ?? todayUtc(now);
  const from = job.from ?? addDays(to, -SCHEDULED_LOOKBACK_DAYS);
  const run = await runMatching(db, ctx, { sourceId: job.sourceId, against: job.against ?? { kind: "ledger" }, from, to, trigger: job.trigger, requestedBy: job.requestedBy }, { today: todayUtc(now) });
  return { orgId: job.orgId, sourceId: job.sourceId, runId: run.runId, status: run.status, from, to, error: run.error };
}

/**
 * Reconciles what has landed in a source since its last backlog run: the whole backlog is taken
 * and run as one import-triggered run against the ledger. If the run fails or throws, its range is
 * put back, so the next delivery (or a retry) covers those dates again; nothing is lost to a
 * failure. Null when the backlog was empty (another run took it first).
 */
export async function runMatchingBacklog(db: Db, orgId: string, sourceId: string, now: Date = new Date()): Promise<MatchingRunSummary | null> {
  const ctx = systemCtx(orgId, "matching-import");
  const range = await inOrg(db, ctx, (tx) => takeMatchingBacklog(tx, orgId, sourceId));
  if (!range) return null;
  const putBack = () => inOrg(db, ctx, (tx) => widenMatchingBacklog(tx, orgId, sourceId, range));
  let run: MatchingRunSummary;
  try {
    run = await runMatchingJob(db, { orgId, sourceId, from: range.from, to: range.to, trigger: "import" }, now);
  } catch (e) {
    await putBack();
    throw e;
  }
  if (run.status === "failed") await putBack();
  return run;
}

/** Every organisation's sources with a backlog: what a process that starts picks up from one that stopped. */
export async function pendingMatchingBacklogs(db: Db): Promise<{ orgId: string; sourceId: string }[]> {
  const out: { orgId: string; sourceId: string }[] = [];
  for (const orgId of await listOrganisationIds(db)) {
    const ids = await inOrg(db, systemCtx(orgId, "matching-import"), (tx) => sourcesWithBacklog(tx, orgId));
    out.push(...ids.map((sourceId) => ({ orgId, sourceId })));
  }
  return out;
}

export type NightlyMatchingPlan = { orgId: string; sourceIds: string[] }[];

/** Every organisation with its active bank and provider sources: what the nightly sweep reconciles. */
export async function planNightlyMatching(db: Db): Promise<NightlyMatchingPlan> {
  const plan: NightlyMatchingPlan = [];
  for (const orgId of await listOrganisationIds(db)) {
    const rows = await inOrg(db, systemCtx(orgId, "nightly-matching"), (tx) =>
      tx.execute<{ id: string }>(sql`select id from sources where org_id = ${orgId} and archived_at is null and ${isReconciledSourceKind} order by name, id`),
    );
    plan.push({ orgId, sourceIds: rows.map((r) => r.id) });
  }
  return plan;
}
