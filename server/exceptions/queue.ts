import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { executePrepared } from "@/server/db/prepared";
import { inOrg } from "@/server/db/tenant";
import { AppError } from "@/server/errors";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { AGE_BUCKETS, EXCEPTION_KINDS, SEVERITIES, type AgeBucket, type Severity } from "./kinds";
import { pendingRequestOf } from "./waiting";

/**
 * The exceptions queue: server-side filters, four sort orders and keyset pagination. Every sort
 * order has its own index (org_id, status, key…, id), so a deep page costs what the first one
 * does; there is no OFFSET and no count over the filtered set (the counts per severity and age
 * bucket come from exception_counts, kept by triggers).
 */

export const QUEUE_SORTS = {
  priority: "Worst first, then nearest deadline",
  amount: "Largest amount first",
  oldest: "Oldest first",
  newest: "Newest first",
} as const;
export type QueueSort = keyof typeof QUEUE_SORTS;

const amountText = z.string().trim().regex(/^\d{1,14}(\.\d{1,4})?$/, "An amount like 1000 or 99.50");
const listOf = <T extends string>(values: readonly T[]) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").filter(Boolean) : v), z.array(z.enum(values as [T, ...T[]])).max(values.length));

/** The filters as they live in the URL (so a view can be bookmarked and shared). */
export const queueFilters = z.object({
  status: z.enum(["open", "snoozed", "resolved"]).default("open"),
  kind: listOf(Object.keys(EXCEPTION_KINDS) as (keyof typeof EXCEPTION_KINDS)[]).default([]),
  severity: listOf(SEVERITIES).default([]),
  source: z.string().uuid("Not a source").optional(),
  /** "me", "none" or a user id. */
  assignee: z.union([z.enum(["me", "none"]), z.string().uuid()]).optional(),
  age: z.enum(AGE_BUCKETS.map((b) => b.key) as [AgeBucket, ...AgeBucket[]]).optional(),
  min: amountText.optional(),
  max: amountText.optional(),
  q: z.string().trim().max(100).optional(),
  sort: z.enum(Object.keys(QUEUE_SORTS) as [QueueSort, ...QueueSort[]]).default("priority"),
  after: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type QueueFilters = z.output<typeof queueFilters>;
export type QueueFiltersInput = z.input<typeof queueFilters>;

/** URL search params → filters; unknown keys are ignored, empty values mean "not set". */
export function filtersFromSearchParams(params: URLSearchParams | Record<string, string | string[] | undefined>): QueueFilters {
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v] as const);
  const raw = Object.fromEntries(entries.filter(([, v]) => v !== undefined && v !== ""));
  const parsed = queueFilters.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError("validation", `The filter "${String(first.path[0] ?? "")}" is not valid: ${first.message}.`);
  }
  return parsed.data;
}

/** Filters → URL search string (defaults left out), for links, bookmarks and the export. */
export function searchParamsOf(f: Partial<QueueFilters>): URLSearchParams {
  const p = new URLSearchParams();
  if (f.status && f.status !== "open") p.set("status", f.status);
  if (f.kind?.length) p.set("kind", f.kind.join(","));
  if (f.severity?.length) p.set("severity", f.severity.join(","));
  for (const k of ["source", "assignee", "age", "min", "max", "q", "after"] as const) if (f[k]) p.set(k, f[k]!);
  if (f.sort && f.sort !== "priority") p.set("sort", f.sort);
  if (f.limit && f.limit !== 50) p.set("limit", String(f.limit));
  return p;
}

export type QueueRow = {
  id: string; kind: string; kindLabel: string; status: string; severity: Severity; title: string;
  sourceId: string | null; sourceName: string | null; amount: string | null; currency: string | null;
  occurredOn: string; ageDays: number; raisedAt: string; dueAt: string | null; overdue: boolean;
  assigneeId: string | null; assignee: string | null; snoozedUntil: string | null; resolution: string | null;
  hasCandidate: boolean; matchId: string | null;
  /** The pending write-off or adjustment request holding it (alone or in a bulk write-off), read live (waiting.ts). */
  pendingApproval: string | null;
};

export type QueueCounts = {
  /** Open exceptions by severity, then by age bucket (days since the record's date). */
  bySeverity: Record<Severity, number>;
  byAge: Record<AgeBucket, number>;
  grid: Record<Severity, Record<AgeBucket, number>>;
  open: number;
  snoozed: number;
};

/** `counts` come with the first page of a view only; a following page (one with a cursor) leaves them out. */
export type QueuePage = { rows: QueueRow[]; next: string | null; counts: QueueCounts | null; filters: QueueFilters };
export type FirstQueuePage = QueuePage & { counts: QueueCounts };

/** Per sort: the ORDER BY, and how a cursor's values compare (row comparison on the index's columns). */
const SORT_SQL: Record<QueueSort, { order: string; cursor: (c: string[]) => SQL; key: (r: RawRow) => string[] }> = {
  priority: {
    order: "severity_rank, due_at, id",
    cursor: ([rank, due, id]) => sql`(e.severity_rank, e.due_at, e.id) > (${Number(rank)}::smallint, ${due}::timestamptz, ${id}::uuid)`,
    key: (r) => [String(r.severity_rank), r.due_at!, r.id],
  },
  amount: {
    order: "amount_sort desc, id desc",
    cursor: ([amount, id]) => sql`(e.amount_sort, e.id) < (${amount}::bigint, ${id}::uuid)`,
    key: (r) => [String(r.amount_sort), r.id],
  },
  oldest: {
    order: "occurred_on, id",
    cursor: ([day, id]) => sql`(e.occurred_on, e.id) > (${day}::date, ${id}::uuid)`,
    key: (r) => [r.occurred_on, r.id],
  },
  newest: {
    order: "raised_at desc, id desc",
    cursor: ([at, id]) => sql`(e.raised_at, e.id) < (${at}::timestamptz, ${id}::uuid)`,
    key: (r) => [r.raised_at, r.id],
  },
};

/** A timestamptz column as ISO 8601 text in UTC with microseconds (the column name is ours, never user text). */
const ISO_UTC = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** "a desc, id" → "t.a desc, t.id" (the sort orders are constants above, never user text). */
const orderBy = (order: string, table: string) => sql.raw(order.split(", ").map((c) => `${table}.${c}`).join(", "));

const encodeCursor = (sort: QueueSort, values: string[]) => Buffer.from(JSON.stringify([sort, ...values])).toString("base64url");

function decodeCursor(sort: QueueSort, cursor: string): string[] {
  try {
    const [s, ...values] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as string[];
    if (s === sort && values.every((v) => typeof v === "string" && v.length < 100)) return values;
  } catch {
    // fall through: a cursor from another sort order or a hand-edited URL
  }
  throw new AppError("validation", "That page link is out of date; start again from the first page.");
}

type RawRow = {
  id: string; kind: string; status: string; severity: Severity; severity_rank: number; title: string; source_id: string | null; source_name: string | null;
  amount: string | null; amount_sort: string; currency: string | null; occurred_on: string; age_days: number; raised_at: string;
  due_at: string | null; overdue: boolean; assignee_id: string | null; assignee: string | null; snoozed_until: string | null; resolution: string | null;
  has_candidate: boolean; match_id: string | null; pending_approval: string | null;
};

/** The WHERE clause of a view (without the cursor): the same for the page and for the export. */
export function queueWhere(ctx: Ctx, f: QueueFilters, today: string): SQL {
  const parts: SQL[] = [sql`e.org_id = ${ctx.orgId}`, sql`e.status = ${f.status}`];
  if (f.kind.length) parts.push(sql`e.kind = any(${`{${f.kind.join(",")}}`}::text[])`);
  if (f.severity.length) parts.push(sql`e.severity_rank = any(${`{${f.severity.map((s) => SEVERITIES.indexOf(s)).join(",")}}`}::smallint[])`);
  if (f.source) parts.push(sql`e.source_id = ${f.source}`);
  if (f.assignee === "me") parts.push(ctx.userId ? sql`e.assignee_id = ${ctx.userId}` : sql`false`);
  else if (f.assignee === "none") parts.push(sql`e.assignee_id is null`);
  else if (f.assignee) parts.push(sql`e.assignee_id = ${f.assignee}`);
  if (f.age) parts.push(...ageRange(f.age, today, "e.occurred_on"));
  // amount_sort is |amount| in ten-thousandths (a bigint, so the comparison can use the index under RLS).
  if (f.min) parts.push(sql`e.amount_sort >= ${money(f.min).times(10_000).toFixed(0)}::bigint`);
  if (f.max) parts.push(sql`e.amount_sort <= ${money(f.max).times(10_000).toFixed(0)}::bigint`);
  return sql.join(parts, sql` and `);
}

/**
 * An age bucket as a date range on `column` (age in days = today − the date, so the range can use
 * an index). The first bucket has no lower bound (a record dated ahead, like a value date, is new)
 * and the last no upper one, so every date falls in exactly one bucket: the filter shows what the
 * count counted. `column` is ours, never user text.
 */
function ageRange(key: AgeBucket, today: string, column: string): SQL[] {
  const i = AGE_BUCKETS.findIndex((b) => b.key === key);
  const b = AGE_BUCKETS[i];
  const date = sql.raw(column);
  return [
    ...(i > 0 ? [sql`${date} <= ${today}::date - ${b.min}::int`] : []),
    ...(b.max !== null ? [sql`${date} >= ${today}::date - ${b.max}::int`] : []),
  ];
}

/** The LIKE pattern of a search term: lower case (search_text is), with LIKE's own characters escaped. */
const likePattern = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * How a text search finds its rows. Row-level security keeps LIKE off every index, so there are
 * two paths: "walk" reads the view along its sort index and checks the term row by row, at most
 * SEARCH_WALK_ROWS rows (a common term fills a page long before); "index" asks the organisation's
 * trigram index for every match (exception_search_ids, migration 0015), then cuts the page from
 * them: instant for a rare term or a typo, slower for a term that matches thousands.
 */
export type SearchPath = "walk" | "index";
const SEARCH_WALK_ROWS = 5_000;

/**
 * One page of the queue in the given view; the first page also carries the counts per severity and
 * age bucket. The counts describe the organisation's queue, not a page, and the browser keeps the
 * first page's while it scrolls, so a following page does not sum them again.
 */
export async function listExceptionQueue(db: Db, ctx: Ctx, filters: QueueFilters & { after?: undefined }, opts?: { today?: string }): Promise<FirstQueuePage>;
export async function listExceptionQueue(db: Db, ctx: Ctx, filters: QueueFilters, opts?: { today?: string }): Promise<QueuePage>;
export async function listExceptionQueue(db: Db, ctx: Ctx, filters: QueueFilters, opts: { today?: string } = {}): Promise<QueuePage> {
  requirePermission(ctx, "ledger.read");
  const today = opts.today ?? new Date().toISOString().slice(0, 10);
  const after = filters.after ? decodeCursor(filters.sort, filters.after) : null;
  return inOrg(db, ctx, async (tx) => {
    // Both statements are sent at once (postgres.js pipelines them on the transaction's connection):
    // one round trip fewer per request, which is what a busy server waits on.
    const [page, counts] = await Promise.all([queueRows(tx, ctx, filters, { today, limit: filters.limit, after }), after ? null : queueCounts(tx, ctx, today)]);
    return { filters, next: page.next ? encodeCursor(filters.sort, page.next) : null, counts, rows: page.rows };
  }, { genericPlans: walksItsSortIndex(filters) });
}

/**
 * Whether a view's page is always best read the same way: along its sort's index from the
 * cursor, whatever the values. Status and severity are the only filters then (the indexes lead
 * with the organisation and status, and a severity is a large share of a queue). PostgreSQL left
 * to itself re-plans such a page on every call (0.6 ms of a following page's 1.7 ms in
 * PostgreSQL, bench:exceptions); planned once per connection it reads the same rows. A narrowing
 * filter (an amount range, an age, a source, a term) can make another index the right one for
 * some values and not others, so those views keep PostgreSQL's plan for the values at hand
 * (planned once, a first page filtered by an amount range took 120 ms instead of 40 at p50).
 */
function walksItsSortIndex(f: QueueFilters): boolean {
  return f.kind.length === 0 && !f.source && !f.assignee && !f.age && !f.min && !f.max && !f.q;
}

/**
 * The page query of a view: the rows after the keyset `after` (the sort's key values, or null for
 * the first page), `limit + 1` of them so the caller knows whether another page follows. Exported
 * for the export (which walks every page inside one transaction) and the benchmark's EXPLAIN.
 */
export function queuePageQuery(ctx: Ctx, filters: QueueFilters, o: { today: string; limit: number; after: string[] | null; search?: SearchPath; walkRows?: number }): SQL {
  const sort = SORT_SQL[filters.sort];
  const where = queueWhere(ctx, filters, o.today);
  const cursor = o.after ? sort.cursor(o.after) : sql`true`;
  let rows = sql`exceptions e where ${where} and ${cursor}`;
  if (filters.q) {
    rows = o.search === "walk"
      ? sql`(select * from exceptions e where ${where} and ${cursor} order by ${orderBy(sort.order, "e")} limit ${o.walkRows ?? SEARCH_WALK_ROWS}) e
        where e.search_text like ${likePattern(filters.q)}`
      : sql`exceptions e where ${where} and ${cursor} and e.id in (select exception_search_ids(${likePattern(filters.q)}))`;
  }
  // The page is cut first (on the sort's index), then joined to names: limit + 1 rows, never the set.
  // Times come back as ISO text to the microsecond: exact as cursor keys, and no Date to build per
  // cell (a measurable share of a request's CPU).
  return sql`
      with page as (
        select e.id, e.subject_key, e.kind, e.status, e.severity, e.severity_rank, e.title, e.source_id, e.amount::text, e.amount_sort, e.currency,
               e.occurred_on::text, (${o.today}::date - e.occurred_on) as age_days,
               ${ISO_UTC("e.raised_at")} as raised_at, ${ISO_UTC("e.due_at")} as due_at,
               e.status <> 'resolved' and e.due_at < now() as overdue,
               e.assignee_id, ${ISO_UTC("e.snoozed_until")} as snoozed_until, e.resolution, e.match_id,
               jsonb_array_length(coalesce(e.details->'nearest', '[]'::jsonb)) > 0 as has_candidate
        from ${rows}
        order by ${orderBy(sort.order, "e")}
        limit ${o.limit + 1})
      select page.*, s.name as source_name, u.email as assignee, ${pendingRequestOf(ctx.orgId, sql`page.id`, sql`page.subject_key`)} as pending_approval
      from page left join sources s on s.id = page.source_id left join users u on u.id = page.assignee_id
      order by ${orderBy(sort.order, "page")}`;
}

/**
 * Runs the page query in `tx` (which must have the organisation set, see inOrg): up to `limit`
 * rows, and the key of the last one when more follow (`next`, unencoded).
 */
export async function queueRows(tx: Db, ctx: Ctx, filters: QueueFilters, o: { today: string; limit: number; after: string[] | null; walkRows?: number }): Promise<{ rows: QueueRow[]; next: string[] | null }> {
  // Prepared: a view's SQL text depends only on which filters are set and the sort (values are bound).
  let raw = await executePrepared<RawRow>(tx, queuePageQuery(ctx, filters, { ...o, search: "walk" }));
  // A search whose walk did not fill the page may have stopped short: the index has every match.
  if (filters.q && raw.length <= o.limit) raw = await executePrepared<RawRow>(tx, queuePageQuery(ctx, filters, { ...o, search: "index" }));
  const more = raw.length > o.limit;
  const rows = raw.slice(0, o.limit);
  return {
    next: more ? SORT_SQL[filters.sort].key(rows[rows.length - 1]) : null,
    rows: rows.map((r) => ({
      id: r.id, kind: r.kind, kindLabel: EXCEPTION_KINDS[r.kind as keyof typeof EXCEPTION_KINDS] ?? r.kind, status: r.status, severity: r.severity, title: r.title,
      sourceId: r.source_id, sourceName: r.source_name, amount: r.amount, currency: r.currency, occurredOn: r.occurred_on, ageDays: Number(r.age_days),
      raisedAt: r.raised_at, dueAt: r.due_at, overdue: r.overdue,
      assigneeId: r.assignee_id, assignee: r.assignee, snoozedUntil: r.snoozed_until,
      resolution: r.resolution, hasCandidate: r.has_candidate, matchId: r.match_id, pendingApproval: r.pending_approval,
    })),
  };
}

export type CountsRow = { status: "open" | "snoozed"; severity: Severity; byAge: Record<AgeBucket, number> };

/**
 * Unresolved exceptions per status × severity × age bucket on `day`: a sum over exception_counts
 * (one row per day, status and severity, kept by triggers), never a count over the exceptions.
 * One output row per status × severity with a filtered sum per bucket: a bucket is a date range
 * (ageRange, the queue's age filter), so no label is computed per day row. The queue's counts and
 * the KPI page's chart both read this.
 */
export async function unresolvedCounts(tx: Db, ctx: Ctx, day: string): Promise<CountsRow[]> {
  const bucketSums = AGE_BUCKETS.map((b, i) => sql`coalesce(sum(n) filter (where ${sql.join(ageRange(b.key, day, "occurred_on"), sql` and `)}), 0)::text as ${sql.raw(`b${i}`)}`);
  const rows = await executePrepared<{ status: CountsRow["status"]; severity: Severity } & Record<string, string>>(tx, sql`
    select status, severity, ${sql.join(bucketSums, sql`, `)}
    from exception_counts where org_id = ${ctx.orgId} and status in ('open', 'snoozed') and n <> 0
    group by 1, 2`);
  return rows.map((r) => ({ status: r.status, severity: r.severity, byAge: Object.fromEntries(AGE_BUCKETS.map((b, i) => [b.key, Number(r[`b${i}`])])) as Record<AgeBucket, number> }));
}

/** The queue's counts: open exceptions per severity, age bucket and both, and how many are snoozed. */
export async function queueCounts(tx: Db, ctx: Ctx, today: string): Promise<QueueCounts> {
  const zeroBuckets = () => Object.fromEntries(AGE_BUCKETS.map((b) => [b.key, 0])) as Record<AgeBucket, number>;
  const counts: QueueCounts = {
    bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    byAge: zeroBuckets(),
    grid: Object.fromEntries(SEVERITIES.map((s) => [s, zeroBuckets()])) as Record<Severity, Record<AgeBucket, number>>,
    open: 0,
    snoozed: 0,
  };
  for (const r of await unresolvedCounts(tx, ctx, today)) {
    for (const b of AGE_BUCKETS) {
      const n = r.byAge[b.key];
      if (r.status === "snoozed") {
        counts.snoozed += n;
        continue;
      }
      counts.open += n;
      counts.bySeverity[r.severity] += n;
      counts.byAge[b.key] += n;
      counts.grid[r.severity][b.key] += n;
    }
  }
  return counts;
}
