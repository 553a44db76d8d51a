import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { canonicalJson } from "@/server/canonical-json";
import { AppError, notFound } from "@/server/errors";
import { clearStaleAfterDelivery } from "@/server/exceptions/stale-sources";
import { isUuid } from "@/server/ids";
import { todayUtc } from "@/server/jobs/events";
import { landRecords } from "@/server/ingest/land-records";
import type { CanonicalRecord } from "@/server/ingest/parsers/canonical";
import { requirePermission, systemCtx, type Ctx } from "@/server/tenancy/context";
import { MAPPED_BY_CODE } from "./account-map";
import type { XeroConfig } from "./config";
import { accessTokenFor, type TokenDeps } from "./grant-tokens";
import type { RateBudget } from "./rate-budget";
import { canonicalOf, isLive, LANDS_AS_CANONICAL } from "./resources/canonical";
import { RESOURCE_KEYS, RESOURCES, type ResourceKey, type ResourceSpec } from "./resources/specs";
import { XeroApi, type ClientDeps } from "./xero-client";
import { XeroError } from "./xero-errors";
import { ifModifiedSince, type XeroObject } from "./xero-json";

/**
 * A Xero sync as a durable record: the job, one progress row per resource, and a cursor that
 * moves one page at a time. runSyncStep fetches ONE page and commits the page's records, the
 * canonical transactions they land as, the progress counts and the next cursor in one
 * transaction — so a crash at any point resumes at the last committed page and the re-read page
 * upserts onto the same rows (keyed by Xero's ids): nothing lost, nothing doubled. Inline runs,
 * Inngest steps and tests all call runSyncStep.
 *
 * Paged resources are read in UpdatedDateUTC order with keyset windows (research/xero.md §7.5):
 * after a full page the next request starts at the last row's second (If-Modified-Since,
 * inclusive) from page 1, so a record edited mid-sync cannot slip behind the pages already read;
 * only when a whole page shares one second does it step to the next page of that second.
 */
export type SyncKind = "full" | "incremental";
export type SyncTrigger = "manual" | "schedule" | "webhook" | "retry";
export type SyncStatus = "queued" | "running" | "parked" | "succeeded" | "failed" | "cancelled";

export type SyncDeps = {
  config: XeroConfig;
  budget: RateBudget;
  fetch?: typeof fetch;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  refresh?: TokenDeps["refresh"];
  onRetry?: ClientDeps["onRetry"];
  /** Test hook: runs inside the page's transaction just before it commits (the crash test kills the process here). */
  beforeCommit?: (info: { jobId: string; resource: ResourceKey; page: number }) => void | Promise<void>;
};

export type StepOutcome =
  | { done: true; status: SyncStatus }
  | { done: false; status: "running"; resource: ResourceKey; page: number }
  | { done: false; status: "parked"; parkedUntil: string };

type Cursor = { since?: string | null; page?: number; offset?: number; maxSeen?: string | null };

type JobRow = { id: string; connection_id: string; kind: SyncKind; status: SyncStatus; resources: string[]; parked_until: string | null };
type ConnRow = { id: string; grant_id: string; tenant_id: string; status: string; source_id: string | null; entity_id: string | null; journals: string | null };

// ---------------------------------------------------------------------------------------------
// Creating jobs

export type CreateSyncInput = { connectionId: string; kind: SyncKind; trigger: SyncTrigger; resources?: ResourceKey[]; requestedBy?: string | null };

/**
 * A queued job for a connection. One open job per connection: a second request while one is
 * queued, running or parked gets that job back (`existing: true`) — the running job reads every
 * resource named, so a webhook burst or a double click never starts a second sync.
 */
export async function createSyncJob(db: Db, ctx: Ctx, input: CreateSyncInput): Promise<{ jobId: string; existing: boolean }> {
  requirePermission(ctx, "xero.sync");
  if (!isUuid(input.connectionId)) throw notFound("The Xero connection");
  return inOrg(db, ctx, async (tx) => {
    const [conn] = await tx.execute<{ status: string }>(sql`select status from xero_connections where org_id = ${ctx.orgId} and id = ${input.connectionId} for update`);
    if (!conn) throw notFound("The Xero connection");
    if (conn.status !== "active") {
      throw new AppError("conflict", conn.status === "unmapped" ? "Map this Xero organisation to an entity before syncing it." : conn.status === "needs_reauth" ? "Xero needs to be re-authorised by an admin before it can sync." : "This Xero organisation is disconnected.");
    }
    const [open] = await tx.execute<{ id: string }>(sql`select id from xero_sync_jobs where org_id = ${ctx.orgId} and connection_id = ${input.connectionId} and status in ('queued', 'running', 'parked') order by created_at limit 1`);
    if (open) return { jobId: open.id, existing: true };
    const resources = input.resources?.length ? RESOURCE_KEYS.filter((k) => input.resources!.includes(k)) : [...RESOURCE_KEYS];
    const [job] = await tx.execute<{ id: string }>(sql`
      insert into xero_sync_jobs (org_id, connection_id, kind, trigger, resources, requested_by)
      values (${ctx.orgId}, ${input.connectionId}, ${input.kind}, ${input.trigger}, ${sql.raw(`ARRAY[${resources.map((r) => `'${r}'`).join(",")}]::text[]`)}, ${input.requestedBy ?? ctx.userId})
      returning id`);
    for (const [position, resource] of resources.entries()) {
      await tx.execute(sql`insert into xero_sync_progress (org_id, job_id, resource, position) values (${ctx.orgId}, ${job.id}, ${resource}, ${position})`);
    }
    await appendAudit(tx, ctx, [{ action: "xero.sync.queued", entityType: "xero_sync_job", entityId: job.id, data: { connectionId: input.connectionId, kind: input.kind, trigger: input.trigger, resources } }]);
    return { jobId: job.id, existing: false };
  });
}

export async function cancelSyncJob(db: Db, ctx: Ctx, jobId: string): Promise<void> {
  requirePermission(ctx, "xero.sync");
  if (!isUuid(jobId)) throw notFound("The sync");
  await inOrg(db, ctx, async (tx) => {
    const [job] = await tx.execute<{ status: string }>(sql`select status from xero_sync_jobs where org_id = ${ctx.orgId} and id = ${jobId} for update`);
    if (!job) throw notFound("The sync");
    if (!["queued", "running", "parked"].includes(job.status)) throw new AppError("conflict", `This sync has already ${job.status}.`);
    await tx.execute(sql`update xero_sync_jobs set status = 'cancelled', finished_at = now(), error = 'Cancelled by a person' where org_id = ${ctx.orgId} and id = ${jobId}`);
    await appendAudit(tx, ctx, [{ action: "xero.sync.cancelled", entityType: "xero_sync_job", entityId: jobId, data: {} }]);
  });
}

/** A failed or cancelled job queued again; it resumes from its last committed page of each resource. */
export async function retrySyncJob(db: Db, ctx: Ctx, jobId: string): Promise<{ jobId: string }> {
  requirePermission(ctx, "xero.sync");
  if (!isUuid(jobId)) throw notFound("The sync");
  return inOrg(db, ctx, async (tx) => {
    const [job] = await tx.execute<{ status: string; connection_id: string }>(sql`select status, connection_id from xero_sync_jobs where org_id = ${ctx.orgId} and id = ${jobId} for update`);
    if (!job) throw notFound("The sync");
    if (!["failed", "cancelled"].includes(job.status)) throw new AppError("conflict", "Only a failed or cancelled sync can be retried.");
    const [open] = await tx.execute(sql`select 1 from xero_sync_jobs where org_id = ${ctx.orgId} and connection_id = ${job.connection_id} and status in ('queued', 'running', 'parked')`);
    if (open) throw new AppError("conflict", "Another sync of this organisation is under way.");
    await tx.execute(sql`update xero_sync_jobs set status = 'queued', error = null, finished_at = null, trigger = 'retry' where org_id = ${ctx.orgId} and id = ${jobId}`);
    await tx.execute(sql`update xero_sync_progress set status = 'pending', error = null where org_id = ${ctx.orgId} and job_id = ${jobId} and status in ('failed', 'running')`);
    await appendAudit(tx, ctx, [{ action: "xero.sync.retried", entityType: "xero_sync_job", entityId: jobId, data: {} }]);
    return { jobId };
  });
}

/** Marks a job failed (Inngest onFailure, the inline runner after its retries). */
export async function failSyncJob(db: Db, orgId: string, jobId: string, message: string): Promise<void> {
  const ctx = systemCtx(orgId, "xero-sync");
  await inOrg(db, ctx, async (tx) => {
    const done = await tx.execute(sql`
      update xero_sync_jobs set status = 'failed', error = ${message.slice(0, 500)}, finished_at = now()
      where org_id = ${orgId} and id = ${jobId} and status in ('queued', 'running', 'parked') returning id`);
    if (done.length === 0) return;
    await tx.execute(sql`update xero_sync_progress set status = 'failed', error = ${message.slice(0, 500)} where org_id = ${orgId} and job_id = ${jobId} and status = 'running'`);
    await appendAudit(tx, ctx, [{ action: "xero.sync.failed", entityType: "xero_sync_job", entityId: jobId, data: { error: message.slice(0, 500) } }]);
  });
}

// ---------------------------------------------------------------------------------------------
// Running: one page per step

export async function runSyncStep(db: Db, orgId: string, jobId: string, deps: SyncDeps): Promise<StepOutcome> {
  const ctx = systemCtx(orgId, "xero-sync");
  const now = deps.now ?? (() => new Date());
  const state = await inOrg(db, ctx, async (tx) => {
    const [job] = await tx.execute<JobRow>(sql`select id, connection_id, kind, status, resources, parked_until from xero_sync_jobs where org_id = ${orgId} and id = ${jobId}`);
    if (!job) throw notFound("The sync");
    const [conn] = await tx.execute<ConnRow>(sql`select id, grant_id, tenant_id, status, source_id, entity_id, journals from xero_connections where org_id = ${orgId} and id = ${job.connection_id}`);
    const [progress] = await tx.execute<{ resource: ResourceKey; status: string; cursor: Cursor; pages: number }>(sql`
      select resource, status, cursor, pages from xero_sync_progress where org_id = ${orgId} and job_id = ${jobId} and status in ('pending', 'running') order by position limit 1`);
    return { job, conn, progress };
  });
  const { job, conn, progress } = state;
  if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled") return { done: true, status: job.status };
  if (job.status === "parked" && job.parked_until && new Date(job.parked_until) > now()) return { done: false, status: "parked", parkedUntil: new Date(job.parked_until).toISOString() };
  if (conn.status !== "active") {
    await failSyncJob(db, orgId, jobId, conn.status === "needs_reauth" ? "Xero needs to be re-authorised by an admin." : "The Xero organisation is no longer connected.");
    return { done: true, status: "failed" };
  }

  if (!progress) {
    await inOrg(db, ctx, async (tx) => {
      await tx.execute(sql`update xero_sync_jobs set status = 'succeeded', finished_at = now(), parked_until = null where org_id = ${orgId} and id = ${jobId} and status in ('queued', 'running', 'parked')`);
      await tx.execute(sql`update xero_connections set parked_until = null where org_id = ${orgId} and id = ${conn.id}`);
      await appendAudit(tx, ctx, [{ action: "xero.sync.succeeded", entityType: "xero_sync_job", entityId: jobId, data: { connectionId: conn.id, kind: job.kind } }]);
    });
    // A sync that got through is the source delivering, whether or not Xero had anything new.
    await clearStaleAfterDelivery(db, orgId, "xero-sync", todayUtc(now()));
    return { done: true, status: "succeeded" };
  }

  const spec = RESOURCES[progress.resource];
  if (spec.optional && conn.journals === "unavailable") {
    await finishResource(db, ctx, jobId, spec.key, "skipped", "Not available on this organisation's Xero plan (reported before; not asked again).");
    return { done: false, status: "running", resource: spec.key, page: 0 };
  }

  // The first page of a resource: where does it start?
  let cursor: Cursor = progress.cursor ?? {};
  if (progress.status === "pending") cursor = await startingCursor(db, ctx, job, conn, spec);

  let calls = 0;
  const api = new XeroApi(
    {
      config: deps.config,
      budget: deps.budget,
      fetch: deps.fetch,
      sleep: deps.sleep,
      onRetry: deps.onRetry,
      onCall: () => void calls++,
      accessToken: (o) => accessTokenFor(db, ctx, conn.grant_id, { config: deps.config, refresh: deps.refresh, sleep: deps.sleep }, o),
    },
    conn.tenant_id,
  );

  await inOrg(db, ctx, (tx) => tx.execute(sql`
    update xero_sync_jobs set status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now(), parked_until = null
    where org_id = ${orgId} and id = ${jobId} and status in ('queued', 'running', 'parked')`));

  let items: XeroObject[];
  let next: Cursor | null;
  try {
    ({ items, next } = await fetchPage(api, spec, cursor, deps.config.pageSize));
  } catch (e) {
    await recordCalls(db, ctx, jobId, conn, calls, deps.budget);
    if (!(e instanceof XeroError)) throw e;
    if (e.kind === "not_entitled" && spec.optional) {
      await inOrg(db, ctx, (tx) => tx.execute(sql`update xero_connections set journals = 'unavailable' where org_id = ${orgId} and id = ${conn.id}`));
      await finishResource(db, ctx, jobId, spec.key, "skipped", "Xero answered 401 AuthorizationUnsuccessful: journals need Xero's Advanced tier. Skipped, and not asked again.");
      return { done: false, status: "running", resource: spec.key, page: 0 };
    }
    if (e.kind === "parked") {
      const until = (e.until ?? new Date(now().getTime() + 3_600_000)).toISOString();
      await inOrg(db, ctx, async (tx) => {
        await tx.execute(sql`update xero_sync_jobs set status = 'parked', parked_until = ${until}, error = ${e.message} where org_id = ${orgId} and id = ${jobId} and status in ('queued', 'running')`);
        await tx.execute(sql`update xero_connections set parked_until = ${until} where org_id = ${orgId} and id = ${conn.id}`);
      });
      return { done: false, status: "parked", parkedUntil: until };
    }
    if (e.kind === "tenant_lost") {
      await inOrg(db, ctx, (tx) => tx.execute(sql`update xero_connections set status = 'disconnected', disconnected_at = now() where org_id = ${orgId} and id = ${conn.id}`));
    }
    if (e.kind !== "unavailable") {
      await failSyncJob(db, orgId, jobId, e.message);
      return { done: true, status: "failed" };
    }
    throw e; // retryable: the Inngest step (or the inline runner) tries the page again
  }

  const page = progress.pages + 1;
  await inOrg(db, ctx, async (tx) => {
    const [current] = await tx.execute<{ status: string }>(sql`select status from xero_sync_jobs where org_id = ${orgId} and id = ${jobId} for update`);
    if (current.status === "cancelled") return;
    const counts = await upsertRecords(tx, ctx, conn, spec, items, jobId);
    const maxSeen = maxUpdated(items, spec, cursor.maxSeen ?? null);
    const done = next === null;
    await tx.execute(sql`
      update xero_sync_progress set status = ${done ? "done" : "running"}, cursor = ${JSON.stringify({ ...(next ?? cursor), maxSeen })}::jsonb,
        pages = pages + 1, new_count = new_count + ${counts.new}, updated_count = updated_count + ${counts.updated}, unchanged_count = unchanged_count + ${counts.unchanged},
        note = coalesce(${counts.note}, note), started_at = coalesce(started_at, now()), finished_at = ${done ? now().toISOString() : null}
      where org_id = ${orgId} and job_id = ${jobId} and resource = ${spec.key}`);
    if (done) await saveWatermark(tx, ctx, conn.id, spec, maxSeen, next === null ? (cursor.offset ?? null) : null, items);
    await tx.execute(sql`update xero_sync_jobs set calls = calls + ${calls}, heartbeat_at = now() where org_id = ${orgId} and id = ${jobId}`);
    await showDayUsage(tx, orgId, conn, deps.budget);
    await deps.beforeCommit?.({ jobId, resource: spec.key, page });
  });
  return { done: false, status: "running", resource: spec.key, page };
}

/** The connection's copy of its Xero organisation's day (the settings page shows it); the count itself is the shared budget's. */
async function showDayUsage(tx: Db, orgId: string, conn: ConnRow, budget: RateBudget) {
  const day = budget.dayUsage(conn.tenant_id);
  if (day) await tx.execute(sql`update xero_connections set day_calls = ${day.dayCount}, day_window_start = ${new Date(day.dayStart).toISOString()} where org_id = ${orgId} and id = ${conn.id}`);
}

async function recordCalls(db: Db, ctx: Ctx, jobId: string, conn: ConnRow, calls: number, budget: RateBudget) {
  await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`update xero_sync_jobs set calls = calls + ${calls} where org_id = ${ctx.orgId} and id = ${jobId}`);
    await showDayUsage(tx, ctx.orgId, conn, budget);
  });
}

async function finishResource(db: Db, ctx: Ctx, jobId: string, resource: ResourceKey, status: "done" | "skipped", note: string) {
  await inOrg(db, ctx, (tx) => tx.execute(sql`
    update xero_sync_progress set status = ${status}, note = ${note}, started_at = coalesce(started_at, now()), finished_at = now()
    where org_id = ${ctx.orgId} and job_id = ${jobId} and resource = ${resource}`));
}

/** Full: from the beginning. Incremental: the last watermark minus the overlap (journals: the last number read). */
async function startingCursor(db: Db, ctx: Ctx, job: JobRow, conn: ConnRow, spec: ResourceSpec): Promise<Cursor> {
  if (spec.paging === "none") return {};
  const [saved] = await inOrg(db, ctx, (tx) =>
    tx.execute<{ watermark: string | null; journal_offset: number | null }>(sql`select watermark, journal_offset from xero_sync_cursors where org_id = ${ctx.orgId} and connection_id = ${conn.id} and resource = ${spec.key}`),
  );
  if (spec.paging === "offset") return { offset: job.kind === "incremental" ? Number(saved?.journal_offset ?? 0) : 0 };
  if (job.kind === "full" || !saved?.watermark) return { since: null, page: 1 };
  const overlap = 300_000;
  return { since: new Date(new Date(saved.watermark).getTime() - overlap).toISOString(), page: 1, maxSeen: new Date(saved.watermark).toISOString() };
}

async function fetchPage(api: XeroApi, spec: ResourceSpec, cursor: Cursor, pageSize: number): Promise<{ items: XeroObject[]; next: Cursor | null }> {
  if (spec.paging === "none") {
    const { body } = await api.get(spec.path, { query: spec.query });
    return { items: listOf(body, spec), next: null };
  }
  if (spec.paging === "offset") {
    const offset = cursor.offset ?? 0;
    const { body } = await api.get(spec.path, { query: { ...spec.query, offset } });
    const items = listOf(body, spec);
    const last = items.reduce((m, j) => Math.max(m, Number(j.JournalNumber ?? 0)), offset);
    return { items, next: items.length < 100 ? null : { offset: last } };
  }
  const page = cursor.page ?? 1;
  const since = cursor.since ?? null;
  const { body } = await api.get(spec.path, {
    query: { ...spec.query, page, pageSize, order: "UpdatedDateUTC ASC" },
    ifModifiedSince: since ? ifModifiedSince(new Date(since)) : undefined,
  });
  const items = listOf(body, spec);
  if (items.length < pageSize) return { items, next: null };
  const lastSecond = Math.floor(new Date(String(items[items.length - 1].UpdatedDateUTC)).getTime() / 1000) * 1000;
  const sinceSecond = since ? Math.floor(new Date(since).getTime() / 1000) * 1000 : null;
  // Keyset window: restart at the last row's second from page 1 — unless the whole page is that second.
  const next = sinceSecond === null || lastSecond > sinceSecond ? { since: new Date(lastSecond).toISOString(), page: 1 } : { since, page: page + 1 };
  return { items, next };
}

function listOf(body: XeroObject, spec: ResourceSpec): XeroObject[] {
  const list = body[spec.path];
  if (!Array.isArray(list)) throw new XeroError("unavailable", `Xero's answer for ${spec.path} has no ${spec.path} list.`);
  return list as XeroObject[];
}

function stampOf(r: XeroObject): string | null {
  const v = r.UpdatedDateUTC ?? r.CreatedDateUTC;
  return typeof v === "string" ? v : null;
}

function maxUpdated(items: XeroObject[], spec: ResourceSpec, prev: string | null): string | null {
  if (spec.paging !== "page" && spec.key !== "accounts") return prev;
  let max = prev ? new Date(prev).getTime() : null;
  for (const r of items) {
    const s = stampOf(r);
    if (s) max = Math.max(max ?? 0, new Date(s).getTime());
  }
  return max === null ? null : new Date(max).toISOString();
}

async function saveWatermark(tx: Db, ctx: Ctx, connectionId: string, spec: ResourceSpec, maxSeen: string | null, _offset: number | null, items: XeroObject[]) {
  if (spec.paging === "offset") {
    const [row] = await tx.execute<{ max: number | null }>(sql`
      select max((data->>'JournalNumber')::bigint) as max from xero_records where org_id = ${ctx.orgId} and connection_id = ${connectionId} and resource = 'journals'`);
    void items;
    await tx.execute(sql`
      insert into xero_sync_cursors (org_id, connection_id, resource, journal_offset) values (${ctx.orgId}, ${connectionId}, ${spec.key}, ${row?.max ?? 0})
      on conflict (connection_id, resource) do update set journal_offset = excluded.journal_offset, updated_at = now()`);
    return;
  }
  if (!maxSeen) return;
  await tx.execute(sql`
    insert into xero_sync_cursors (org_id, connection_id, resource, watermark) values (${ctx.orgId}, ${connectionId}, ${spec.key}, ${maxSeen})
    on conflict (connection_id, resource) do update set watermark = greatest(xero_sync_cursors.watermark, excluded.watermark), updated_at = now()`);
}

// ---------------------------------------------------------------------------------------------
// Writing a page

type Existing = { xero_id: string; content_hash: string; landed: boolean; status: string | null; data: XeroObject };

async function upsertRecords(tx: Db, ctx: Ctx, conn: ConnRow, spec: ResourceSpec, items: XeroObject[], jobId: string): Promise<{ new: number; updated: number; unchanged: number; note: string | null }> {
  const byId = new Map<string, XeroObject>();
  for (const item of items) byId.set(String(item[spec.idField]).toLowerCase(), item);
  if (byId.size === 0) return { new: 0, updated: 0, unchanged: 0, note: null };
  const ids = [...byId.keys()];
  const existing = new Map(
    (await tx.execute<Existing>(sql`
      select xero_id, content_hash, landed, status, data from xero_records
      where org_id = ${ctx.orgId} and connection_id = ${conn.id} and resource = ${spec.key} and xero_id = any(${sql.raw(`ARRAY[${ids.map((i) => `'${i.replace(/'/g, "''")}'`).join(",")}]::text[]`)})
      for update`)).map((r) => [r.xero_id, r]),
  );
  const rows: { xero_id: string; status: string | null; xero_updated_at: string | null; content_hash: string; data: XeroObject }[] = [];
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const changedAfterLanding: { id: string; before: Existing; after: XeroObject }[] = [];
  for (const [id, item] of byId) {
    const hash = createHash("sha256").update(canonicalJson(item as never)).digest("hex");
    const old = existing.get(id);
    if (!old) created++;
    else if (old.content_hash === hash) {
      unchanged++;
      continue;
    } else {
      updated++;
      if (old.landed) changedAfterLanding.push({ id, before: old, after: item });
    }
    const status = typeof item.Status === "string" ? item.Status : typeof item.ContactStatus === "string" ? item.ContactStatus : null;
    rows.push({ xero_id: id, status, xero_updated_at: stampOf(item), content_hash: hash, data: item });
  }
  if (rows.length) {
    await tx.execute(sql`
      insert into xero_records (org_id, connection_id, resource, xero_id, status, xero_updated_at, content_hash, data, first_job_id, last_changed_job_id)
      select ${ctx.orgId}, ${conn.id}, ${spec.key}, x.xero_id, x.status, x.xero_updated_at, x.content_hash, x.data, ${jobId}, ${jobId}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(xero_id text, status text, xero_updated_at timestamptz, content_hash text, data jsonb)
      on conflict (connection_id, resource, xero_id) do update set status = excluded.status, xero_updated_at = excluded.xero_updated_at,
        content_hash = excluded.content_hash, data = excluded.data, last_changed_job_id = excluded.last_changed_job_id, updated_at = now()`);
  }
  let note: string | null = null;
  if (spec.key === "accounts") await mapAccountsByCode(tx, ctx, conn, rows);
  if (LANDS_AS_CANONICAL.has(spec.key) && conn.source_id) note = await landCanonical(tx, ctx, conn, spec, byId, existing);
  if (changedAfterLanding.length) await raiseChangeExceptions(tx, ctx, conn, spec, changedAfterLanding);
  return { new: created, updated, unchanged, note };
}

/** Records seen for the first time (or first seen live) land once as canonical transactions. */
async function landCanonical(tx: Db, ctx: Ctx, conn: ConnRow, spec: ResourceSpec, byId: Map<string, XeroObject>, existing: Map<string, Existing>): Promise<string | null> {
  const [source] = await tx.execute<{ id: string; name: string; currency: string }>(sql`select id, name, currency from sources where org_id = ${ctx.orgId} and id = ${conn.source_id}`);
  const records: CanonicalRecord[] = [];
  const landedIds: string[] = [];
  let otherCurrency = 0;
  for (const [id, item] of byId) {
    if (existing.get(id)?.landed) continue;
    const status = typeof item.Status === "string" ? item.Status : null;
    if (!isLive(status)) continue;
    const rec = canonicalOf(spec.key, item, source.currency);
    if (!rec) continue;
    if (rec.currency !== source.currency) {
      otherCurrency++;
      continue;
    }
    records.push(rec);
    landedIds.push(id);
  }
  if (records.length) {
    await landRecords(tx, ctx, source, { format: `xero_${spec.key}`, parserVersion: "1", statements: [], records, warnings: [] }, { channel: "xero", fileName: null, uploadId: null, startedAt: performance.now() });
    await tx.execute(sql`
      update xero_records set landed = true where org_id = ${ctx.orgId} and connection_id = ${conn.id} and resource = ${spec.key}
        and xero_id = any(${sql.raw(`ARRAY[${landedIds.map((i) => `'${i.replace(/'/g, "''")}'`).join(",")}]::text[]`)})`);
  }
  return otherCurrency ? `${otherCurrency} record(s) in a currency other than the source's (${source.currency}) kept in Xero's copy but not landed as transactions.` : null;
}

/** Canonical lines never change; a landed record that Xero later edits or voids becomes an exception for a person. */
async function raiseChangeExceptions(tx: Db, ctx: Ctx, conn: ConnRow, spec: ResourceSpec, changes: { id: string; before: Existing; after: XeroObject }[]) {
  for (const c of changes) {
    const b = c.before.data;
    const a = c.after;
    const voided = !isLive(typeof a.Status === "string" ? a.Status : null);
    const moneyMoved = String(b.Total ?? b.Amount) !== String(a.Total ?? a.Amount) || b.Date !== a.Date;
    if (!voided && !moneyMoved) continue;
    const label = spec.key === "payments" ? "payment" : "bank transaction";
    await tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, source_id, amount, currency, details)
      values (${ctx.orgId}, ${voided ? "xero_record_voided" : "xero_record_changed"}, ${voided ? "high" : "medium"},
        ${voided ? `Xero ${label} ${c.id} was ${String(a.Status).toLowerCase()} after it was imported` : `Xero ${label} ${c.id} changed amount or date after it was imported`},
        ${conn.source_id}, ${String(a.Total ?? a.Amount ?? "0")}, ${String(a.CurrencyCode ?? "") || null},
        ${JSON.stringify({ xeroId: c.id, resource: spec.key, before: { status: c.before.status, total: b.Total ?? b.Amount, date: b.Date }, after: { status: a.Status, total: a.Total ?? a.Amount, date: a.Date } })}::jsonb)`);
  }
}

/** Xero account codes matched to the entity's chart by code; a person can change the mapping later. */
async function mapAccountsByCode(tx: Db, ctx: Ctx, conn: ConnRow, rows: { xero_id: string; data: XeroObject }[]) {
  if (!conn.entity_id || rows.length === 0) return;
  await tx.execute(sql`
    insert into xero_account_map (org_id, connection_id, xero_account_id, account_id, mapped_by)
    select ${ctx.orgId}, ${conn.id}, x.xero_id, a.id, ${MAPPED_BY_CODE}
    from jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ xero_id: r.xero_id, code: r.data.Code ?? null })))}::jsonb) as x(xero_id text, code text)
    left join accounts a on a.org_id = ${ctx.orgId} and a.entity_id = ${conn.entity_id} and a.code = x.code
    on conflict (connection_id, xero_account_id) do nothing`);
}
