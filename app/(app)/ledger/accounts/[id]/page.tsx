import type { Metadata } from "next";
import Link from "next/link";
import { dateParam, requireActor, orNotFound } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { accountLedger } from "@/server/ledger/queries";
import { MoneyCell } from "@/components/money-cell";
import { formatMoney } from "@/server/money";

export const metadata: Metadata = { title: "Account ledger" };

export default async function AccountPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ from?: string; to?: string }> }) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const sp = await searchParams;
  const to = dateParam(sp.to) ?? new Date().toISOString().slice(0, 10);
  const from = dateParam(sp.from) ?? `${to.slice(0, 4)}-01-01`;
  const l = await orNotFound(accountLedger(db(), ctx, { accountId: id, from, to }));
  const cur = l.account.functionalCurrency;
  return (
    <>
      <p><Link href={`/ledger?entity=${l.account.entityId}&asOf=${to}`}>← Trial balance</Link></p>
      <h1>{l.account.code} {l.account.name}</h1>
      <dl className="facts panel">
        <dt>Entity</dt><dd>{l.account.entityName}</dd>
        <dt>Type</dt><dd>{l.account.type} (normal balance: {l.account.normalBalance})</dd>
        <dt>Currency</dt><dd>{l.account.currency}</dd>
        <dt>Flags</dt><dd>{l.account.isControl ? "control account" : "—"} · {l.account.isActive ? "active" : "inactive"}</dd>
      </dl>
      <form className="inline panel" method="get" aria-label="Date range">
        <label>From<input type="date" name="from" defaultValue={from} required /></label>
        <label>To<input type="date" name="to" defaultValue={to} required /></label>
        <button type="submit">Show</button>
      </form>
      <div className="table-wrap">
        <table aria-label="Account ledger">
          <thead><tr><th>Date</th><th>Entry</th><th>Description</th><th>Counterparty</th><th>Reference</th><th className="num">Debit</th><th className="num">Credit</th><th className="num">Balance ({cur})</th></tr></thead>
          <tbody>
            <tr><td>{from}</td><td></td><td colSpan={5}><em>Opening balance</em></td><MoneyCell value={l.openingBalance} currency={cur} /></tr>
            {l.lines.map((x, i) => (
              <tr key={`${x.entryId}-${i}`}>
                <td>{x.entryDate}</td>
                <td><Link href={`/ledger/entries/${x.entryId}`}>{x.entryNumber}</Link></td>
                <td>{x.description}{x.memo ? <span className="muted"> — {x.memo}</span> : null}</td>
                <td>{x.counterparty}</td>
                <td>{x.reference}</td>
                <MoneyCell value={x.functionalAmount.startsWith("-") ? "0" : x.functionalAmount} currency={cur} blankZero />
                <MoneyCell value={x.functionalAmount.startsWith("-") ? x.functionalAmount.slice(1) : "0"} currency={cur} blankZero />
                <MoneyCell value={x.runningBalance} currency={cur} />
              </tr>
            ))}
          </tbody>
          <tfoot><tr><td colSpan={7}>Closing balance {to}</td><MoneyCell value={l.closingBalance} currency={cur} /></tr></tfoot>
        </table>
      </div>
      {l.truncated && <p className="alert info">Showing the first {l.lines.length} lines; narrow the date range to see the rest. The closing balance shown is as of the last line listed.</p>}
      <p className="muted">Balance at {to}: {formatMoney(l.closingBalance, cur)} {cur}</p>
    </>
  );
}
