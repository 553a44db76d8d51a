import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { isoDate } from "@/server/ledger/schemas";
import { money } from "@/server/money";
import { AGE_BUCKETS, SEVERITIES, type AgeBucket, type Severity } from "@/server/exceptions/kinds";
import { unresolvedCounts } from "@/server/exceptions/queue";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { parse, reconciliationOverview } from "./overview";

/**
 * How well reconciliation is going, week by week, for the KPI page. Ratios, hours and amounts
 * are decimal strings like every other figure that crosses a boundary; the charts turn them into
 * numbers at the last moment and the table fallbacks show these strings as they are.
 */

export const kpisInput = z.object({ asOf: isoDate, weeks: z.number().int().min(1).max(52).default(12) });

export type MatchRateWeek = {
  /** The Monday the week starts (UTC). */
  week: string;
  runs: number;
  /** Records on the source side of the week's successful runs (a re-run counts its records again). */
  left: number;
  auto: number;
  /** Matches those runs produced that a person has since confirmed. */
  confirmed: number;
  /** auto ÷ left and confirmed ÷ left, to 4 places; null for a week without runs. */
  autoRate: string | null;
  confirmedRate: string | null;
};

export type ExceptionAgeRow = { severity: Severity; counts: Record<AgeBucket, number>; total: number };

export type ResolveWeek = { week: string; resolved: number; medianHours: string | null; p90Hours: string | null };

export type UnreconciledSource = { sourceId: string; sourceName: string; currency: string; count: number; grossAmount: string };

export type ReconciliationKpis = {
  asOf: string;
  matchRate: MatchRateWeek[];
  exceptionsByAge: ExceptionAgeRow[];
  timeToResolve: ResolveWeek[];
  unreconciled: UnreconciledSource[];
};

export async function reconciliationKpis(db: Db, ctx: Ctx, raw: z.input<typeof kpisInput>): Promise<ReconciliationKpis> {
  requirePermission(ctx, "ledger.read");
  const { asOf, weeks } = parse(kpisInput, raw);
  const [matchRate, exceptionsByAge, timeToResolve] = await inOrg(db, ctx, async (tx) => [
    await matchRateByWeek(tx, ctx.orgId, asOf, weeks),
    await exceptionsBySeverityAndAge(tx, ctx, asOf),
    await timeToResolveByWeek(tx, ctx.orgId, asOf, weeks),
  ] as const);
  const overview = await reconciliationOverview(db, ctx, { asOf });
  return {
    asOf, matchRate, exceptionsByAge, timeToResolve,
    unreconciled: overview.map((s) => ({ sourceId: s.sourceId, sourceName: s.sourceName, currency: s.currency, count: s.unreconciled.count, grossAmount: s.unreconciled.grossAmount })),
  };
}

/** The weeks ending with the one holding `asOf`, oldest first, as a set-returning SQL fragment of Mondays. */
const weekSeries = (asOf: string, weeks: number) => sql`
  select generate_series(date_trunc('week', (${asOf}::date - ${(weeks - 1) * 7}::int)::timestamp), date_trunc('week', ${asOf}::date::timestamp), interval '1 week')::date as week`;

const ratio = (part: number, whole: number) => (whole === 0 ? null : money(String(part)).dividedBy(whole).toDecimalPlaces(4).toFixed(4));

async function matchRateByWeek(tx: Db, orgId: string, asOf: string, weeks: number): Promise<MatchRateWeek[]> {
  const rows = await tx.execute<{ week: string; runs: number; left: number; auto: number; confirmed: number }>(sql`
    with weeks as (${weekSeries(asOf, weeks)}),
    runs as (
      select date_trunc('week', r.finished_at at time zone 'UTC')::date as week, r.id,
             coalesce((r.counts->>'left')::int, 0) as left_n, coalesce((r.counts->>'auto')::int, 0) as auto_n
      from match_runs r
      where r.org_id = ${orgId} and r.status = 'succeeded'
        and (r.finished_at at time zone 'UTC')::date between (select min(week) from weeks) and ${asOf}::date
    ),
    confirmed as (
      select r.week, count(*)::int as n from runs r join matches m on m.run_id = r.id where m.status = 'confirmed' group by r.week
    )
    select w.week::text, count(r.id)::int as runs, coalesce(sum(r.left_n), 0)::int as left, coalesce(sum(r.auto_n), 0)::int as auto,
           coalesce(max(c.n), 0)::int as confirmed
    from weeks w left join runs r on r.week = w.week left join confirmed c on c.week = w.week
    group by w.week order by w.week`);
  return rows.map((r) => ({ ...r, autoRate: ratio(r.auto, r.left), confirmedRate: ratio(r.confirmed, r.left) }));
}

/**
 * Unresolved (open or snoozed) exceptions by severity and age at `asOf`, counted from the day the
 * record happened, with the queue's buckets. Exceptions dated after `asOf` count as new.
 */
async function exceptionsBySeverityAndAge(tx: Db, ctx: Ctx, asOf: string): Promise<ExceptionAgeRow[]> {
  const rows = await unresolvedCounts(tx, ctx, asOf);
  return SEVERITIES.map((severity) => {
    const counts = Object.fromEntries(AGE_BUCKETS.map((b) => [b.key, rows.filter((r) => r.severity === severity).reduce((n, r) => n + r.byAge[b.key], 0)])) as Record<AgeBucket, number>;
    return { severity, counts, total: AGE_BUCKETS.reduce((t, b) => t + counts[b.key], 0) };
  });
}

/** Hours from raised to resolved of the exceptions resolved each week: median and 90th percentile (interpolated). */
async function timeToResolveByWeek(tx: Db, orgId: string, asOf: string, weeks: number): Promise<ResolveWeek[]> {
  return [...(await tx.execute<ResolveWeek>(sql`
    with weeks as (${weekSeries(asOf, weeks)}),
    resolved as (
      select date_trunc('week', e.resolved_at at time zone 'UTC')::date as week, e.resolved_at - e.raised_at as took
      from exceptions e
      -- raised_at bounds the scan on exceptions_queue_raised_idx: nothing resolved by asOf was raised after it.
      where e.org_id = ${orgId} and e.status = 'resolved' and e.raised_at < ${asOf}::date + 1
        and (e.resolved_at at time zone 'UTC')::date between (select min(week) from weeks) and ${asOf}::date
    )
    select w.week::text, count(r.took)::int as resolved,
           round(extract(epoch from percentile_cont(0.5) within group (order by r.took)) / 3600, 1)::text as "medianHours",
           round(extract(epoch from percentile_cont(0.9) within group (order by r.took)) / 3600, 1)::text as "p90Hours"
    from weeks w left join resolved r on r.week = w.week
    group by w.week order by w.week`))];
}
