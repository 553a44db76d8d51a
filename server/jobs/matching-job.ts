import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { runMatching, type Counterpart, type MatchTrigger } from "@/server/matching/run-matching";
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
  importId?: string;
  trigger: MatchTrigger;
  requestedBy?: string;
};

/** Scheduled runs look this far back: a month of bank lines and the stragglers of the one before. */
export const SCHEDULED_LOOKBACK_DAYS = 35;

/**
 * One reconciliation run as background work, acting as a named system actor: the same service
 * a signed-in user's "Run now" reaches. Shared by inline dispatch, the nightly sweep and the
 * Inngest function's step. An import-triggered run covers exactly the dates of the import's lines.
 */
export async function runMatchingJob(db: Db, job: MatchingJob, now: Date = new Date()): Promise<MatchingRunSummary> {
  const ctx = systemCtx(job.orgId, `matching-${job.trigger}`);
  let from = job.from;
  let to = job.to;
  if ((!from || !to) && job.importId) {
    const [range] = await inOrg(db, ctx, (tx) =>
      tx.execute<{ from: string | null; to: string | null }>(sql`
        select min(booked_date)::text as from, max(booked_date)::text as to from canonical_transactions
        where org_id = ${job.orgId} and source_id = ${job.sourceId} and import_id = ${job.importId}`),
    );
    if (!range?.from || !range.to) return { orgId: job.orgId, sourceId: job.sourceId, runId: null, status: "skipped", from: null, to: null, error: "The import added no lines." };
    from ??= range.from;
    to ??= range.to;
  }
  to ??= todayUtc(now);
  from ??= addDays(to, -SCHEDULED_LOOKBACK_DAYS);
  const run = await runMatching(db, ctx, { sourceId: job.sourceId, against: job.against ?? { kind: "ledger" }, from, to, trigger: job.trigger, requestedBy: job.requestedBy }, { today: todayUtc(now) });
  return { orgId: job.orgId, sourceId: job.sourceId, runId: run.runId, status: run.status, from, to, error: run.error };
}

export type NightlyMatchingPlan = { orgId: string; sourceIds: string[] }[];

/** Every organisation with its active bank and provider sources: what the nightly sweep reconciles. */
export async function planNightlyMatching(db: Db): Promise<NightlyMatchingPlan> {
  const plan: NightlyMatchingPlan = [];
  for (const orgId of await listOrganisationIds(db)) {
    const rows = await inOrg(db, systemCtx(orgId, "nightly-matching"), (tx) =>
      tx.execute<{ id: string }>(sql`select id from sources where org_id = ${orgId} and archived_at is null and kind in ('bank', 'psp') order by name, id`),
    );
    plan.push({ orgId, sourceIds: rows.map((r) => r.id) });
  }
  return plan;
}
