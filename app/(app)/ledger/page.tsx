import type { Metadata } from "next";
import Link from "next/link";
import { dateParam, requireActor, orNotFound } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { listEntities, listJournalEntries, trialBalance } from "@/server/ledger/queries";
import { can } from "@/server/tenancy/context";
import { MoneyCell } from "@/components/money-cell";
import { formatMoney } from "@/server/money";
import { listCheckRuns } from "@/server/checks/trial-balance-check";
import { RunCheckButton } from "@/components/run-check-button";

export const metadata: Metadata = { title: "Ledger" };

export default async function LedgerPage({ searchParams }: { searchParams: Promise<{ entity?: string; asOf?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const entities = await listEntities(db(), ctx);
  if (entities.length === 0) return <p>This organisation has no entities yet.</p>;
  const entity = entities.find((e) => e.id === sp.entity) ?? entities[0];
  const asOf = dateParam(sp.asOf) ?? new Date().toISOString().slice(0, 10);
  const [tb, recent, [lastCheck]] = await Promise.all([
    orNotFound(trialBalance(db(), ctx, { entityId: entity.id, asOf })),
    listJournalEntries(db(), ctx, { entityId: entity.id, limit: 15 }),
    listCheckRuns(db(), ctx, { kind: "trial_balance", limit: 1 }),
  ]);
  const cur = entity.functionalCurrency;
  return (
    <>
      <div className="spread">
        <h1>Trial balance</h1>
        {can(ctx.role, "ledger.post") && <Link className="button" href={`/ledger/entries/new?entity=${entity.id}`}>New journal entry</Link>}
      </div>
      <form className="inline panel" method="get" aria-label="Trial balance filters">
        <label>
          Entity
          <select name="entity" defaultValue={entity.id}>
            {entities.map((e) => <option key={e.id} value={e.id}>{e.name} ({e.functionalCurrency})</option>)}
          </select>
        </label>
        <label>
          As of
          <input type="date" name="asOf" defaultValue={asOf} required />
        </label>
        <button type="submit">Show</button>
      </form>
      <div className="table-wrap">
        <table aria-label={`Trial balance of ${entity.name} as of ${asOf}`}>
          <caption className="muted" style={{ textAlign: "left", padding: ".4rem 0" }}>
            {entity.name} · {cur} · as of {asOf} ·{" "}
            {tb.difference === "0" ? <span className="badge ok">balanced</span> : <span className="badge bad">out of balance by {formatMoney(tb.difference, cur)}</span>}
          </caption>
          <thead>
            <tr><th>Code</th><th>Account</th><th>Type</th><th className="num">Debit</th><th className="num">Credit</th></tr>
          </thead>
          <tbody>
            {tb.rows.length === 0 && <tr><td colSpan={5} className="muted">No postings up to this date.</td></tr>}
            {tb.rows.map((r) => (
              <tr key={r.accountId}>
                <td>{r.code}</td>
                <td><Link href={`/ledger/accounts/${r.accountId}?to=${asOf}`}>{r.name}</Link></td>
                <td>{r.type}</td>
                <MoneyCell value={r.debit} currency={cur} blankZero />
                <MoneyCell value={r.credit} currency={cur} blankZero />
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr><td colSpan={3}>Total</td><MoneyCell value={tb.totalDebit} currency={cur} /><MoneyCell value={tb.totalCredit} currency={cur} /></tr>
          </tfoot>
        </table>
      </div>
      <div className="panel spread" aria-label="Trial-balance check">
        <span>
          Nightly trial-balance check (all entities, 02:00 UTC):{" "}
          {lastCheck ? (
            <>
              <span className={`badge ${lastCheck.status === "passed" ? "ok" : "bad"}`} data-testid="check-status">{lastCheck.status}</span>{" "}
              <span className="muted">as of {String(lastCheck.result.asOf)}, run {lastCheck.startedAt.replace("T", " ").slice(0, 16)} UTC ({lastCheck.trigger})</span>
            </>
          ) : (
            <span className="muted">not run yet</span>
          )}
        </span>
        {can(ctx.role, "checks.run") && <RunCheckButton />}
      </div>
      <h2>Recent entries</h2>
      <div className="table-wrap">
        <table aria-label="Recent journal entries">
          <thead><tr><th>No.</th><th>Date</th><th>Description</th><th>Source</th><th className="num">Amount ({cur})</th></tr></thead>
          <tbody>
            {recent.map((e) => (
              <tr key={e.id}>
                <td><Link href={`/ledger/entries/${e.id}`}>{e.entryNumber}</Link></td>
                <td>{e.entryDate}</td>
                <td>{e.description} {e.reversed && <span className="badge">reversed</span>}</td>
                <td>{e.source}</td>
                <MoneyCell value={e.total} currency={cur} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
