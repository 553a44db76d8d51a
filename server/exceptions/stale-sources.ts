import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import type { Ctx } from "@/server/tenancy/context";
import { raiseExceptionsFrom } from "./raise-exceptions";

export type StaleSourceSweep = { raised: number; refreshed: number; cleared: number };

/**
 * A source nobody has imported for longer than the policy allows (exception_policies.
 * stale_source_days) — or that was never imported and was created that long ago — cannot be
 * reconciled: whatever happened on the account since is invisible. One stale_source exception
 * per source (subject 'source:<id>'), dated from the last import (its age is how long the gap is),
 * with no amount, so severity grows with age alone. Refreshed while the gap lasts (the title
 * counts the days); cleared once an import newer than the one it names has landed, or the source
 * was archived (nothing is expected from it any more).
 *
 * Days are UTC calendar days, as `today` is. Cheap: a handful of sources per organisation, each
 * an index probe on imports (org, source, imported_at).
 */
export async function sweepStaleSources(db: Db, ctx: Ctx, today: string): Promise<StaleSourceSweep> {
  return inOrg(db, ctx, async (tx) => {
    const cleared = await tx.execute(sql`
      update exceptions e set status = 'resolved', resolved_at = now(), snoozed_until = null, resolution = 'cleared',
        details = e.details || jsonb_build_object('clearedBy', case when s.archived_at is not null then 'archived' else 'import' end)
      from sources s
      where e.org_id = ${ctx.orgId} and e.kind = 'stale_source' and e.status <> 'resolved' and s.id = e.source_id
        and (s.archived_at is not null
             or exists (select 1 from imports i where i.org_id = s.org_id and i.source_id = s.id
                        and i.imported_at > coalesce((e.details->>'lastImportAt')::timestamptz, '-infinity'::timestamptz)))`);
    const counts = await raiseExceptionsFrom(tx, ctx, today, sql`
      select 'stale_source'::text as kind, 'source:' || s.id as subject_key, s.id as source_id, null::numeric as amount, s.currency,
             g.since as occurred_on,
             'No import for ' || (${today}::date - g.since) || ' days: ' || s.name as title,
             jsonb_build_object('sourceName', s.name, 'lastImportAt', g.last_import_at, 'since', g.since::text,
                                'days', ${today}::date - g.since, 'staleAfterDays', p.stale_source_days) as details,
             null::bigint as ct_id, null::bigint as jl_id, null::uuid as match_id, null::uuid as assignee
      from sources s
      cross join exception_policies p
      cross join lateral (select max(i.imported_at) as last_import_at from imports i where i.org_id = s.org_id and i.source_id = s.id) li
      cross join lateral (select li.last_import_at, (coalesce(li.last_import_at, s.created_at) at time zone 'UTC')::date as since) g
      where s.org_id = ${ctx.orgId} and p.org_id = ${ctx.orgId} and s.archived_at is null
        and ${today}::date - g.since > p.stale_source_days`);
    return { ...counts, cleared: cleared.count };
  });
}
