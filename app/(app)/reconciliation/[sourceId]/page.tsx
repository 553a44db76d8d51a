import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { dateParam, orNotFound, requireActor } from "@/app/_lib/session";
import { MoneyCell } from "@/components/money-cell";
import { ItemGroupsTable, statementBasisText } from "@/components/reconciliation/item-groups-table";
import { formatMoney } from "@/server/money";
import { sourceReconciliation, type ItemGroupKind } from "@/server/reconciliation/overview";
import { reconcilingItems, type ItemSide, type ItemsPage } from "@/server/reconciliation/reconciling-items";

export const metadata: Metadata = { title: "Reconciling items" };

const PAGE = 50;
const CURSOR = /^\d{4}-\d{2}-\d{2}\.[123]\.\d{1,18}$/;
type Search = { asOf?: string; statementAfter?: string; ledgerAfter?: string; matchesAfter?: string };

export default async function ReconcilingItemsPage({ params, searchParams }: { params: Promise<{ sourceId: string }>; searchParams: Promise<Search> }) {
  const { ctx } = await requireActor();
  const { sourceId } = await params;
  const sp = await searchParams;
  const asOf = dateParam(sp.asOf) ?? new Date().toISOString().slice(0, 10);
  const after = (s: string | undefined) => (s && CURSOR.test(s) ? s : undefined);
  const r = await orNotFound(sourceReconciliation(db(), ctx, { sourceId, asOf }));
  const page = (side: ItemSide, cursor: string | undefined) => reconcilingItems(db(), ctx, { sourceId, asOf, side, limit: PAGE, after: after(cursor) });
  const [statement, ledger, matches] = await Promise.all([page("statement", sp.statementAfter), page("ledger", sp.ledgerAfter), page("matches", sp.matchesAfter)]);
  const next = (key: keyof Search, cursor: string) => {
    const q = new URLSearchParams(Object.entries({ ...sp, asOf, [key]: cursor }).filter(([, v]) => v) as [string, string][]);
    return `/reconciliation/${sourceId}?${q}`;
  };
  const cur = r.currency;
  const group = (kind: ItemGroupKind) => r.items.find((g) => g.kind === kind)!;
  return (
    <>
      <p><Link href={`/reconciliation?asOf=${asOf}`}>← Reconciliation</Link></p>
      <h1>{r.sourceName} against {r.glAccount.code} {r.glAccount.name}, as of {asOf}</h1>
      <form className="inline panel" method="get" aria-label="As-of date">
        <label>As of<input type="date" name="asOf" defaultValue={asOf} required /></label>
        <button type="submit">Show</button>
      </form>
      <dl className="facts panel">
        <dt>Statement balance</dt><dd data-testid="statement-balance">{formatMoney(r.statementBalance, cur)} {cur} <span className="muted">({statementBasisText(r)})</span></dd>
        <dt>Ledger balance</dt><dd data-testid="ledger-balance">{formatMoney(r.ledgerBalance, cur)} {cur}</dd>
        <dt>Last import</dt><dd>{r.lastImport ? `${r.lastImport.at.replace("T", " ").slice(0, 16)} UTC, ${r.lastImport.fileName ?? r.lastImport.channel}, by ${r.lastImport.by ?? "system"}` : "none yet"}</dd>
        <dt>Last statement</dt><dd>{r.lastStatementDate ?? "—"}</dd>
      </dl>

      <h2>What explains the difference</h2>
      <ItemGroupsTable r={r} />
      {r.lineCount === 0 && <p className="alert info">No statement lines up to {asOf}: <Link href="/imports">import a statement</Link> for this source.</p>}
      {r.lineCount > 0 && r.unreconciled.statement.count === r.lineCount && <p className="alert info">No statement line is matched yet: <Link href="/matches">run matching</Link> to tie it to the ledger.</p>}

      <ItemList
        title="In the statement, not (yet) in the ledger" label="Statement-only lines" page={statement} currency={cur}
        total={group("statement_only").total} count={group("statement_only").count} testId="statement-items" nextHref={statement.next && next("statementAfter", statement.next)}
        empty="Every statement line up to this date is in a reconciled match."
      />
      <ItemList
        title="In the ledger, not (yet) in the statement" label="Ledger-only lines" page={ledger} currency={cur}
        total={group("ledger_only").total} count={group("ledger_only").count} testId="ledger-items" nextHref={ledger.next && next("ledgerAfter", ledger.next)}
        empty="Every ledger line on the account up to this date is in a reconciled match."
      />
      <section aria-label="Differences inside matches">
        <h2>Differences inside matches <span className="muted">({group("match_differences").count}, {formatMoney(group("match_differences").total, cur)})</span></h2>
        <div className="table-wrap">
          <table aria-label="Differences inside matches">
            <thead><tr><th>Date</th><th>Match</th><th className="num">Statement side</th><th className="num">Ledger side</th><th className="num">Effect</th></tr></thead>
            <tbody>
              {matches.items.length === 0 && <tr><td colSpan={5} className="muted">Every reconciled match ties out to the cent.</td></tr>}
              {matches.items.map((i) => (
                <tr key={i.key}>
                  <td>{i.date}</td>
                  <td>{i.description ?? "—"} <span className="badge">{i.match?.status.replace("_", " ")}</span></td>
                  <MoneyCell value={i.amount} currency={cur} />
                  <MoneyCell value={i.ledgerAmount ?? "0"} currency={cur} />
                  <MoneyCell value={i.effect} currency={cur} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {matches.next && <p><Link href={next("matchesAfter", matches.next)}>Next {PAGE} →</Link></p>}
      </section>
    </>
  );
}

function ItemList(p: { title: string; label: string; page: ItemsPage; currency: string; total: string; count: number; testId: string; nextHref: string | null; empty: string }) {
  return (
    <section aria-label={p.label}>
      <h2>{p.title} <span className="muted">({p.count}, {formatMoney(p.total, p.currency)})</span></h2>
      <div className="table-wrap">
        <table aria-label={p.label} data-testid={p.testId}>
          <thead><tr><th>Date</th><th>Counterparty</th><th>Reference / text</th><th>Why open</th><th className="num">Amount</th><th className="num">Effect</th></tr></thead>
          <tbody>
            {p.page.items.length === 0 && <tr><td colSpan={6} className="muted">{p.empty}</td></tr>}
            {p.page.items.map((i) => (
              <tr key={i.key}>
                <td>{i.date}</td>
                <td>{i.counterparty ?? "—"}</td>
                <td>{i.reference}{i.reference && i.description ? " · " : ""}<span className="muted">{i.description}</span></td>
                <td>
                  {i.match
                    ? <span title="Matched, but the other side is dated after the as-of date">timing: other side {i.match.counterpartDate ?? "later"} <span className="badge">{i.match.status.replace("_", " ")}</span></span>
                    : <span className="badge bad">no match</span>}
                </td>
                <MoneyCell value={i.amount} currency={p.currency} />
                <MoneyCell value={i.effect} currency={p.currency} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {p.nextHref && <p><Link href={p.nextHref}>Next page →</Link></p>}
    </section>
  );
}
