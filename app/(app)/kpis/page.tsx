import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { dateParam, requireActor } from "@/app/_lib/session";
import { ExceptionsAgeChart } from "@/components/kpis/exceptions-age-chart";
import { MatchRateChart } from "@/components/kpis/match-rate-chart";
import { TimeToResolveChart } from "@/components/kpis/time-to-resolve-chart";
import { UnreconciledChart } from "@/components/kpis/unreconciled-chart";
import { reconciliationKpis } from "@/server/reconciliation/kpis";

export const metadata: Metadata = { title: "KPIs" };

export default async function KpisPage({ searchParams }: { searchParams: Promise<{ asOf?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const asOf = dateParam(sp.asOf) ?? new Date().toISOString().slice(0, 10);
  const k = await reconciliationKpis(db(), ctx, { asOf, weeks: 12 });
  const runs = k.matchRate.reduce((n, w) => n + w.runs, 0);
  const resolved = k.timeToResolve.reduce((n, w) => n + w.resolved, 0);
  const open = k.exceptionsByAge.reduce((n, r) => n + r.total, 0);
  return (
    <>
      <h1>Reconciliation KPIs</h1>
      <form className="inline panel" method="get" aria-label="As-of date">
        <label>Twelve weeks up to<input type="date" name="asOf" defaultValue={asOf} required /></label>
        <button type="submit">Show</button>
      </form>
      <div className="charts">
        <section aria-label="Auto-match rate">
          <h2>Auto-match rate</h2>
          {runs === 0 && <p className="alert info">No matching run finished in these twelve weeks. <Link href="/matches">Run matching</Link> for a source to see how much ties out on its own.</p>}
          <MatchRateChart weeks={k.matchRate} />
        </section>
        <section aria-label="Exceptions by severity and age">
          <h2>Unresolved exceptions by age</h2>
          {open === 0 && <p className="alert ok">No unresolved exceptions. New ones appear when matching leaves a line without a match.</p>}
          <ExceptionsAgeChart rows={k.exceptionsByAge} asOf={asOf} />
        </section>
        <section aria-label="Time to resolve">
          <h2>Time to resolve</h2>
          {resolved === 0 && <p className="alert info">No exception resolved in these twelve weeks. Resolve exceptions from <Link href="/exceptions">Exceptions</Link> to track how long they take.</p>}
          <TimeToResolveChart weeks={k.timeToResolve} />
        </section>
        <section aria-label="Unreconciled amount per source">
          <h2>Unreconciled amount per source</h2>
          {k.unreconciled.length === 0 && <p className="alert info">No bank or provider source yet. <Link href="/sources">Add a source</Link> and <Link href="/imports">import a statement</Link>.</p>}
          <UnreconciledChart sources={k.unreconciled} asOf={asOf} />
          <p><Link href={`/reconciliation?asOf=${asOf}`}>See the reconciliation as of {asOf} →</Link></p>
        </section>
      </div>
    </>
  );
}
