import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import type { Ctx } from "@/server/tenancy/context";
import { raiseExceptionsFrom, type RaiseCounts } from "./raise-exceptions";

/**
 * A line the source delivered twice under different keys: same amount, booked date, counterparty
 * and reference as an earlier line of the same source. Exactly-once import rests on the dedupe
 * key (unique per source), so two such lines always carry different keys — a bank that re-sent a
 * transaction with a new id, or a re-export whose description changed. Whether it is a real
 * second payment only a person can tell; the later line (higher id) carries the exception, naming
 * the earlier ones.
 *
 * Counterparty and reference are compared lower-cased with everything but letters and digits
 * removed, so "ACME Retail, " and "acme retail" agree. One statement: a window over the source's
 * lines in the range (a duplicate has the same booked date, so its earlier twin is in range too).
 */
export async function raisePossibleDuplicates(tx: Db, ctx: Ctx, scope: { runId: string; sourceId: string; from: string; to: string; today: string }): Promise<RaiseCounts> {
  const norm = (col: ReturnType<typeof sql.raw>) => sql`lower(regexp_replace(coalesce(${col}, ''), '[^[:alnum:]]+', '', 'g'))`;
  return raiseExceptionsFrom(tx, ctx, scope.today, sql`
    select 'possible_duplicate'::text as kind, 'ct:' || d.id as subject_key, ${scope.sourceId}::uuid as source_id, d.amount, d.currency,
           d.booked_date as occurred_on,
           'Possible duplicate: ' || round(d.amount, 2)::text || ' ' || d.currency || ' on ' || d.booked_date::text
             || ' (' || coalesce(nullif(d.counterparty_name, ''), nullif(d.description, ''), nullif(d.reference, ''), 'no counterparty') || ')' as title,
           jsonb_build_object('runId', ${scope.runId}::text, 'recordKey', 'ct:' || d.id, 'date', d.booked_date::text, 'counterparty', d.counterparty_name,
                              'reference', d.reference, 'description', d.description, 'externalId', d.external_id, 'importId', d.import_id,
                              'earlier', to_jsonb(d.earlier)) as details,
           d.id as ct_id, null::bigint as jl_id, null::uuid as match_id, null::uuid as assignee
    from (
      select t.id, t.amount, t.currency, t.booked_date, t.counterparty_name, t.reference, t.description, t.external_id, t.import_id,
             array_agg(t.id::text) over twins as earlier
      from canonical_transactions t
      where t.org_id = ${ctx.orgId} and t.source_id = ${scope.sourceId} and t.booked_date between ${scope.from} and ${scope.to}
      window twins as (partition by t.booked_date, t.amount, t.currency, ${norm(sql.raw("t.counterparty_name"))}, ${norm(sql.raw("t.reference"))}
                       order by t.id rows between unbounded preceding and 1 preceding)
    ) d
    where d.earlier is not null`);
}
