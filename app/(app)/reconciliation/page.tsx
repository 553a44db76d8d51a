import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { dateParam, requireActor } from "@/app/_lib/session";
import { MoneyCell } from "@/components/money-cell";
import { ItemGroupsTable, statementBasisText } from "@/components/reconciliation/item-groups-table";
import { formatMoney } from "@/server/money";
import { reconciliationOverview } from "@/server/reconciliation/overview";

export const metadata: Metadata = { title: "Reconciliation" };

export default async function ReconciliationPage({ searchParams }: { searchParams: Promise<{ asOf?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const asOf = dateParam(sp.asOf) ?? new Date().toISOString().slice(0, 10);
  const sources = await reconciliationOverview(db(), ctx, { asOf });
  return (
    <>
      <h1>Reconciliation as of {asOf}</h1>
      <form className="inline panel" method="get" aria-label="As-of date">
        <label>As of<input type="date" name="asOf" defaultValue={asOf} required /></label>
        <button type="submit">Show</button>
      </form>

      {sources.length === 0 && (
        <p className="alert info">
          No bank or payment-provider source yet. <Link href="/sources">Add a source</Link> tied to its GL account, then{" "}
          <Link href="/imports">import a statement</Link>: its balance is compared with the ledger here.
        </p>
      )}

      {sources.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Statement against ledger, per source">
            <thead>
              <tr>
                <th>Source</th><th>GL account</th><th className="num">Statement balance</th><th className="num">Ledger balance</th><th className="num">Difference</th>
                <th className="num">Unreconciled</th><th className="num">Unreconciled amount</th><th>Last import</th><th>Last statement</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((r) => (
                <tr key={r.sourceId} data-testid={`source-${r.sourceId}`}>
                  <td><Link href={`/reconciliation/${r.sourceId}?asOf=${asOf}`}>{r.sourceName}</Link> <span className="muted">{r.currency}</span></td>
                  <td>{r.glAccount.code} {r.glAccount.name}</td>
                  <MoneyCell value={r.statementBalance} currency={r.currency} />
                  <MoneyCell value={r.ledgerBalance} currency={r.currency} />
                  <td className="num" data-testid="source-difference">
                    <DifferenceBadge value={r.difference} currency={r.currency} />
                  </td>
                  <td className="num" data-testid="unreconciled-count" title={`${r.unreconciled.statement.count} in the statement only, ${r.unreconciled.ledger.count} in the ledger only`}>
                    {r.unreconciled.count}
                  </td>
                  <MoneyCell value={r.unreconciled.grossAmount} currency={r.currency} />
                  <td>{r.lastImport ? <>{r.lastImport.at.slice(0, 10)} <span className="muted">{r.lastImport.fileName ?? r.lastImport.channel} · {r.lastImport.by ?? "system"}</span></> : <span className="muted">none — import a statement</span>}</td>
                  <td>{r.lastStatementDate ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {sources.map((r) => (
        <section key={r.sourceId} className="panel" aria-label={`What explains the difference on ${r.sourceName}`}>
          <div className="spread">
            <h2 style={{ margin: 0 }}>{r.sourceName}: what explains the difference</h2>
            <Link href={`/reconciliation/${r.sourceId}?asOf=${asOf}`}>See every item</Link>
          </div>
          <p className="muted">Statement balance from the {statementBasisText(r)}. Unreconciled counts each line once, whichever side it is on; the amount is gross (a +100 and a −100 do not cancel).</p>
          <ItemGroupsTable r={r} />
          {r.lineCount === 0 && <p className="alert info">No statement lines up to {asOf}. <Link href="/imports">Import a statement</Link> for this source.</p>}
          {r.lineCount > 0 && r.unreconciled.statement.count === r.lineCount && (
            <p className="alert info">No line is matched yet. <Link href="/matches">Run matching</Link> to tie the statement to the ledger.</p>
          )}
        </section>
      ))}
    </>
  );
}

function DifferenceBadge({ value, currency }: { value: string; currency: string }) {
  const zero = /^-?0*(\.0*)?$/.test(value);
  return <span className={`badge ${zero ? "ok" : "bad"}`}>{formatMoney(value, currency)}</span>;
}
