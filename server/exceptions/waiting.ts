import { sql, type SQL } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import type { Ctx } from "@/server/tenancy/context";

/**
 * Which approval requests hold an exception while they wait: a write-off or adjustment of it
 * alone (one request per exception, its target key names it), a bulk write-off listing it among
 * others (the request's content names it), or a match by hand outside the tolerance that holds
 * the exception's record (its content lists the record's key). While one waits, the exception is
 * "awaiting approval" on its page and in the queue and no other write-off or adjustment of it can
 * be filed; while a write-off or adjustment waits, its record cannot be matched by hand. One
 * definition here, so the page, the queue and both refusals agree.
 */

export const ADJUSTMENT_KIND = "exception_adjustment";
export const BULK_WRITE_OFF_KIND = "exception_write_off_bulk";
export const FORCED_MATCH_KIND = "forced_match";

/** The target key of a single write-off or adjustment: one pending request per exception. */
export const adjustmentTargetKey = (exceptionId: string) => `exception:${exceptionId}`;

/**
 * Whether the approval request aliased `q` still waits and holds the exception `exceptionId` (an
 * SQL uuid expression, may be null) or the record `recordKey` (an SQL text expression such as an
 * exception's subject_key, `ct:12` / `jl:34`, may be null). An overdue request counts no more: it
 * can no longer be approved, and the sweep marks it expired.
 */
export const holdsException = (exceptionId: SQL, recordKey: SQL) => sql`(q.status = 'pending' and q.expires_at > now() and (
  (q.kind = ${ADJUSTMENT_KIND} and q.target_key = 'exception:' || ${exceptionId}::text)
  or (q.kind = ${BULK_WRITE_OFF_KIND} and q.content->'items' @> jsonb_build_array(jsonb_build_object('exceptionId', ${exceptionId}::text)))
  or (q.kind = ${FORCED_MATCH_KIND} and (q.content->'left' @> jsonb_build_array(jsonb_build_object('key', ${recordKey}::text))
                                      or q.content->'right' @> jsonb_build_array(jsonb_build_object('key', ${recordKey}::text))))))`;

/** The id of the newest request holding the exception aliased `e` (its id and subject key, SQL expressions), or null: a scalar subquery. */
export const pendingRequestOf = (orgId: string, exceptionId: SQL, subjectKey: SQL) => sql`(
  select q.id from approval_requests q where q.org_id = ${orgId} and ${holdsException(exceptionId, subjectKey)} order by q.created_at desc limit 1)`;

/**
 * Refuses a write-off or adjustment of exceptions another pending request already holds. `own` is
 * the request being submitted: resubmitting it (the same target) is an edit, not a second request.
 * Called with the exceptions locked, so two submissions for the same exception run one after the other
 * and the second sees the first.
 */
export async function refuseWaiting(tx: Db, ctx: Ctx, exceptions: { id: string; title: string }[], own: { kind: string; targetKey: string }): Promise<void> {
  const rows = await tx.execute<{ id: string; request_id: string; summary: string; n: number }>(sql`
    select x.id, q.id as request_id, q.summary, count(*) over ()::int as n
    from unnest(${`{${exceptions.map((e) => e.id).join(",")}}`}::uuid[]) as x(id)
    join exceptions e on e.org_id = ${ctx.orgId} and e.id = x.id
    join approval_requests q on q.org_id = ${ctx.orgId} and ${holdsException(sql`x.id`, sql`e.subject_key`)}
    where not (q.kind = ${own.kind} and q.target_key = ${own.targetKey})
    order by x.id limit 1`);
  const [first] = rows;
  if (!first) return;
  const request = `approval request ${first.request_id.slice(0, 8)} (${first.summary})`;
  if (exceptions.length === 1) throw new AppError("conflict", `This exception already waits on ${request}; it must be decided or withdrawn first.`);
  const title = exceptions.find((e) => e.id === first.id)?.title ?? first.id;
  throw new AppError("conflict", first.n === 1
    ? `“${title}” already waits on ${request}; leave it out, or have that request decided or withdrawn first. Nothing was submitted.`
    : `${first.n} of the selected exceptions already wait on other requests, “${title}” on ${request}; leave them out, or have those requests decided or withdrawn first. Nothing was submitted.`);
}

/**
 * Refuses a match by hand of records whose open exception waits on a write-off or adjustment: if
 * both went through, the same line would be matched and written off. (Another match by hand of
 * the same records may wait at the same time: whichever is approved first wins, and approving the
 * other finds its records matched and changes nothing.) Called under the matching lock, after
 * the records are loaded.
 */
export async function refuseHeldRecords(tx: Db, ctx: Ctx, keys: string[]): Promise<void> {
  const [held] = await tx.execute<{ key: string; request_id: string; summary: string }>(sql`
    select k.key, q.id as request_id, q.summary
    from unnest(${`{${keys.join(",")}}`}::text[]) as k(key)
    join exceptions e on e.org_id = ${ctx.orgId} and e.subject_key = k.key and e.status <> 'resolved'
    join approval_requests q on q.org_id = ${ctx.orgId} and ${holdsException(sql`e.id`, sql`null`)}
    order by q.created_at limit 1`);
  if (!held) return;
  throw new AppError("conflict", `Record ${held.key} has an exception that waits on approval request ${held.request_id.slice(0, 8)} (${held.summary}); it must be decided or withdrawn first. Nothing was matched.`);
}
