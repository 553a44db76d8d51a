import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { systemCtx, type Ctx } from "@/server/tenancy/context";
import { raiseExceptionsFrom } from "./raise-exceptions";

export type StaleSourceSweep = { raised: number; refreshed: number; cleared: number };

/**
 * A source nobody has imported for longer than the policy allows (exception_policies.
 * stale_source_days) — or that was never imported and was created that long ago — cannot be
 * reconciled: whatever happened on the account since is invisible. One stale_source exception
 * per source (subject 'source:<id>'), dated from the last delivery (its age is how long the gap
 * is), with no amount, so severity grows with age alone. Refreshed while the gap lasts (the title
 * counts the days); cleared once a delivery newer than the one it names has come, or the source
 * was archived (nothing is expected from it any more).
 *
 * A delivery is an import (a file, a webhook event, a page of Xero records, even one with nothing
 * new), or for a Xero source a sync that succeeded: a Xero organisation with no new bank
 * transactions this week is quiet, not stale, as long as its syncs get through.
 *
 * Days are UTC calendar days, as `today` is. Cheap: a handful of sources per organisation, each
 * an index probe on imports (org, source, imported_at) and on its connection's sync jobs.
 */
/** The source's last delivery, for a lateral join over `sources s`. */
const lastDelivery = sql`
  select greatest(
    (select max(i.imported_at) from imports i where i.org_id = s.org_id and i.source_id = s.id),
    (select max(j.finished_at) from xero_connections c join xero_sync_jobs j on j.org_id = c.org_id and j.connection_id = c.id
     where c.org_id = s.org_id and c.source_id = s.id and j.status = 'succeeded')) as last_import_at`;

export async function sweepStaleSources(db: Db, ctx: Ctx, today: string): Promise<StaleSourceSweep> {
  return inOrg(db, ctx, async (tx) => {
    const cleared = await tx.execute(sql`
      update exceptions e set status = 'resolved', resolved_at = now(), snoozed_until = null, resolution = 'cleared',
        details = e.details || jsonb_build_object('clearedBy', case when s.archived_at is not null then 'archived' else 'import' end)
      from sources s
      cross join lateral (${lastDelivery}) li
      where e.org_id = ${ctx.orgId} and e.kind = 'stale_source' and e.status <> 'resolved' and s.id = e.source_id
        and (s.archived_at is not null or li.last_import_at > coalesce((e.details->>'lastImportAt')::timestamptz, '-infinity'::timestamptz))`);
    const counts = await raiseExceptionsFrom(tx, ctx, today, sql`
      select 'stale_source'::text as kind, 'source:' || s.id as subject_key, s.id as source_id, null::numeric as amount, s.currency,
             g.since as occurred_on,
             'No import for ' || (${today}::date - g.since) || ' days: ' || s.name as title,
             jsonb_build_object('sourceName', s.name, 'lastImportAt', g.last_import_at, 'since', g.since::text,
                                'days', ${today}::date - g.since, 'staleAfterDays', p.stale_source_days) as details,
             null::bigint as ct_id, null::bigint as jl_id, null::uuid as match_id, null::uuid as assignee
      from sources s
      cross join exception_policies p
      cross join lateral (${lastDelivery}) li
      cross join lateral (select li.last_import_at, (coalesce(li.last_import_at, s.created_at) at time zone 'UTC')::date as since) g
      where s.org_id = ${ctx.orgId} and p.org_id = ${ctx.orgId} and s.archived_at is null
        and ${today}::date - g.since > p.stale_source_days`);
    return { ...counts, cleared: cleared.count };
  });
}

/**
 * A source has just delivered (an import, webhook events, a Xero sync): its stale_source exception
 * clears now, not at the nightly sweep. The delivery has already committed and must not fail
 * because of this, so a failure is logged and the nightly sweep clears it instead.
 */
export async function clearStaleAfterDelivery(db: Db, orgId: string, actor: string, today: string): Promise<void> {
  try {
    await sweepStaleSources(db, systemCtx(orgId, actor), today);
  } catch (e) {
    console.error("[jobs] could not sweep stale sources after a delivery", { orgId, actor, error: String(e) });
  }
}
