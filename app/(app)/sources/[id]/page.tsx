import type { Metadata } from "next";
import Link from "next/link";
import { headers } from "next/headers";
import { db } from "@/app/_lib/db";
import { dateParam, orNotFound, requireActor } from "@/app/_lib/session";
import { MoneyCell } from "@/components/money-cell";
import { SourceForm } from "@/components/source-form";
import { listImports, listTransactions } from "@/server/ingest/queries";
import { getSource, webhookSecretOf } from "@/server/ingest/sources";
import { listAccounts, listEntities } from "@/server/ledger/queries";
import { can } from "@/server/tenancy/context";
import { ImportHistory } from "@/components/import-history";

export const metadata: Metadata = { title: "Source" };

export default async function SourcePage({ params, searchParams }: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ q?: string; page?: string; from?: string; to?: string }>;
}) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const sp = await searchParams;
  const source = await orNotFound(getSource(db(), ctx, id));
  const page = Math.max(1, Number.parseInt(sp.page ?? "1", 10) || 1);
  const from = dateParam(sp.from);
  const to = dateParam(sp.to);
  const [txns, imports] = await Promise.all([
    listTransactions(db(), ctx, { sourceId: id, search: sp.q, from, to, page, pageSize: 50 }),
    listImports(db(), ctx, { sourceId: id, limit: 20 }),
  ]);
  const pages = Math.max(1, Math.ceil(txns.total / txns.pageSize));
  const query = (p: number) => `?${new URLSearchParams({ ...(sp.q ? { q: sp.q } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}), page: String(p) })}`;
  const manage = can(ctx.role, "sources.manage");
  const secret = manage && source.kind === "psp" ? await webhookSecretOf(db(), ctx, id) : null;
  const [entities, accounts] = manage ? await Promise.all([listEntities(db(), ctx), listAccounts(db(), ctx)]) : [[], []];
  const host = (await headers()).get("host") ?? "localhost:3000";
  return (
    <>
      <div className="spread">
        <h1>{source.name}</h1>
        {can(ctx.role, "imports.run") && <Link className="button" href={`/imports?source=${source.id}`}>Import a file</Link>}
      </div>
      <dl className="facts panel">
        <dt>Kind</dt><dd>{source.kind === "psp" ? `Payment provider (${source.provider})` : "Bank account"}</dd>
        <dt>Entity</dt><dd>{source.entityName}</dd>
        <dt>Currency</dt><dd>{source.currency}</dd>
        <dt>Account</dt><dd>{source.accountNumber ?? "—"}</dd>
        <dt>GL account</dt><dd><Link href={`/ledger/accounts/${source.glAccountId}`}>{source.glAccountCode} {source.glAccountName}</Link></dd>
        {secret && (
          <>
            <dt>Webhook URL</dt><dd><code>{`http://${host}/api/webhooks/psp/${source.provider}?source=${source.id}`}</code></dd>
            <dt>Signing secret</dt><dd><details><summary>Show</summary><code data-testid="webhook-secret">{secret}</code></details></dd>
          </>
        )}
      </dl>

      <h2>Transactions <span className="muted">({txns.total.toLocaleString("en")})</span></h2>
      <form className="inline panel" method="get" aria-label="Search transactions">
        <label>Search<input name="q" defaultValue={sp.q ?? ""} placeholder="Counterparty, reference, text or amount" size={36} /></label>
        <label>From<input type="date" name="from" defaultValue={from ?? ""} /></label>
        <label>To<input type="date" name="to" defaultValue={to ?? ""} /></label>
        <button type="submit">Search</button>
      </form>
      <div className="table-wrap">
        <table aria-label={`Transactions of ${source.name}`}>
          <thead>
            <tr><th>Booked</th><th>Value</th><th>Type</th><th>Counterparty</th><th>Reference</th><th>Description</th><th className="num">Amount</th></tr>
          </thead>
          <tbody>
            {txns.rows.length === 0 && <tr><td colSpan={7} className="muted">No transactions{sp.q ? " match the search" : ""}.</td></tr>}
            {txns.rows.map((t) => (
              <tr key={t.id}>
                <td>{t.bookedDate}</td>
                <td>{t.valueDate ?? ""}</td>
                <td>{t.type}</td>
                <td>{t.counterpartyName}{t.counterpartyAccount && <div className="muted">{t.counterpartyAccount}</div>}</td>
                <td>{t.reference}</td>
                <td>{t.description}</td>
                <MoneyCell value={t.amount} currency={t.currency} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="row" aria-label="Pages">
        {page > 1 && <Link href={query(page - 1)}>← Newer</Link>}
        <span className="muted">Page {page} of {pages}</span>
        {page < pages && <Link href={query(page + 1)}>Older →</Link>}
      </nav>

      <h2>Imports</h2>
      <ImportHistory imports={imports} showSource={false} />

      {manage && (
        <>
          <h2>Edit source</h2>
          <SourceForm
            entities={entities}
            accounts={accounts}
            sourceId={id}
            locked={imports.length > 0}
            initial={{ kind: source.kind === "psp" ? "psp" : "bank", name: source.name, entityId: source.entityId, currency: source.currency, accountNumber: source.accountNumber ?? "", provider: source.provider ?? "stripe", glAccountId: source.glAccountId }}
          />
        </>
      )}
    </>
  );

}
