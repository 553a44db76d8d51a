import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { RESOURCES, type ResourceKey } from "./resources/specs";

/** Reading sync state for the sync page, the CLI and tests. All amounts are decimal strings. */
export type SyncProgressView = {
  resource: ResourceKey;
  label: string;
  status: string;
  pages: number;
  newCount: number;
  updatedCount: number;
  unchangedCount: number;
  note: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
};

export type SyncJobView = {
  id: string;
  connectionId: string;
  tenantName: string;
  kind: string;
  status: string;
  trigger: string;
  calls: number;
  error: string | null;
  parkedUntil: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  progress: SyncProgressView[];
};

export const listSyncJobsInput = z.object({
  connectionId: z.guid().optional(),
  status: z.enum(["queued", "running", "parked", "succeeded", "failed", "cancelled"]).optional(),
  kind: z.enum(["full", "incremental"]).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

const JOB_COLUMNS = sql`
  j.id, j.connection_id as "connectionId", c.tenant_name as "tenantName", j.kind, j.status, j.trigger, j.calls, j.error, j.parked_until as "parkedUntil",
  j.created_at as "createdAt", j.started_at as "startedAt", j.finished_at as "finishedAt",
  (extract(epoch from (coalesce(j.finished_at, now()) - j.started_at)) * 1000)::int as "durationMs",
  coalesce((select json_agg(json_build_object('resource', p.resource, 'status', p.status, 'pages', p.pages, 'newCount', p.new_count, 'updatedCount', p.updated_count,
    'unchangedCount', p.unchanged_count, 'note', p.note, 'error', p.error, 'startedAt', p.started_at, 'finishedAt', p.finished_at) order by p.position)
    from xero_sync_progress p where p.job_id = j.id), '[]'::json) as progress`;

function withLabels(j: SyncJobView): SyncJobView {
  return { ...j, progress: j.progress.map((p) => ({ ...p, label: RESOURCES[p.resource]?.label ?? p.resource })) };
}

export async function listSyncJobs(db: Db, ctx: Ctx, filters: z.infer<typeof listSyncJobsInput>): Promise<SyncJobView[]> {
  requirePermission(ctx, "ledger.read");
  const f = listSyncJobsInput.parse(filters);
  return inOrg(db, ctx, async (tx) =>
    (await tx.execute<SyncJobView>(sql`
      select ${JOB_COLUMNS} from xero_sync_jobs j join xero_connections c on c.id = j.connection_id
      where j.org_id = ${ctx.orgId}
        ${f.connectionId ? sql`and j.connection_id = ${f.connectionId}` : sql``}
        ${f.status ? sql`and j.status = ${f.status}` : sql``}
        ${f.kind ? sql`and j.kind = ${f.kind}` : sql``}
      order by j.created_at desc limit ${f.limit ?? 50}`)).map(withLabels),
  );
}

export async function getSyncJob(db: Db, ctx: Ctx, jobId: string): Promise<SyncJobView> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(jobId)) throw notFound("The sync");
  const [row] = await inOrg(db, ctx, (tx) => tx.execute<SyncJobView>(sql`select ${JOB_COLUMNS} from xero_sync_jobs j join xero_connections c on c.id = j.connection_id where j.org_id = ${ctx.orgId} and j.id = ${jobId}`));
  if (!row) throw notFound("The sync");
  return withLabels(row);
}

export type SyncStatistics = {
  jobs: Record<string, number>;
  records: Record<string, number>;
  lastSucceededAt: string | null;
  averageDurationMs: number | null;
  callsLast24h: number;
};

export async function syncStatistics(db: Db, ctx: Ctx, input: { connectionId?: string }): Promise<SyncStatistics> {
  requirePermission(ctx, "ledger.read");
  const conn = input.connectionId && isUuid(input.connectionId) ? sql`and connection_id = ${input.connectionId}` : sql``;
  return inOrg(db, ctx, async (tx) => {
    const jobs = await tx.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from xero_sync_jobs where org_id = ${ctx.orgId} ${conn} group by status`);
    const records = await tx.execute<{ resource: string; n: number }>(sql`select resource, count(*)::int as n from xero_records where org_id = ${ctx.orgId} ${conn} group by resource`);
    const [agg] = await tx.execute<{ last: string | null; avg: number | null; calls: number }>(sql`
      select max(finished_at) filter (where status = 'succeeded') as last,
             (avg(extract(epoch from (finished_at - started_at)) * 1000) filter (where status = 'succeeded'))::int as avg,
             coalesce(sum(calls) filter (where created_at > now() - interval '24 hours'), 0)::int as calls
      from xero_sync_jobs where org_id = ${ctx.orgId} ${conn}`);
    return {
      jobs: Object.fromEntries(jobs.map((j) => [j.status, j.n])),
      records: Object.fromEntries(records.map((r) => [r.resource, r.n])),
      lastSucceededAt: agg.last,
      averageDurationMs: agg.avg,
      callsLast24h: agg.calls,
    };
  });
}

export type ImportedSummary = {
  total: number;
  firstDate: string | null;
  lastDate: string | null;
  byType: { type: string; count: number; total: string; currency: string }[];
  byResource: { resource: string; count: number }[];
};

/** What the Xero sync has landed as canonical transactions, per connection's source. */
export async function importedTransactionSummary(db: Db, ctx: Ctx, input: { connectionId: string }): Promise<ImportedSummary> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(input.connectionId)) throw notFound("The Xero connection");
  return inOrg(db, ctx, async (tx) => {
    const [conn] = await tx.execute<{ source_id: string | null }>(sql`select source_id from xero_connections where org_id = ${ctx.orgId} and id = ${input.connectionId}`);
    if (!conn) throw notFound("The Xero connection");
    if (!conn.source_id) return { total: 0, firstDate: null, lastDate: null, byType: [], byResource: [] };
    const [head] = await tx.execute<{ total: number; first: string | null; last: string | null }>(sql`
      select count(*)::int as total, min(booked_date) as first, max(booked_date) as last from canonical_transactions where org_id = ${ctx.orgId} and source_id = ${conn.source_id}`);
    const byType = await tx.execute<{ type: string; count: number; total: string; currency: string }>(sql`
      select coalesce(bank_transaction_code, type) as type, count(*)::int as count, sum(amount)::text as total, currency
      from canonical_transactions where org_id = ${ctx.orgId} and source_id = ${conn.source_id} group by 1, currency order by 1`);
    const byResource = await tx.execute<{ resource: string; count: number }>(sql`
      select parser as resource, count(*)::int as count from canonical_transactions where org_id = ${ctx.orgId} and source_id = ${conn.source_id} group by parser order by parser`);
    return { total: head.total, firstDate: head.first, lastDate: head.last, byType: [...byType], byResource: [...byResource] };
  });
}
