import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { requireActor } from "@/app/_lib/session";
import { SourceForm } from "@/components/source-form";
import { listSources } from "@/server/ingest/sources";
import { listAccounts, listEntities } from "@/server/ledger/queries";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Sources" };

export default async function SourcesPage() {
  const { ctx } = await requireActor();
  const [sources, entities, accounts] = await Promise.all([listSources(db(), ctx), listEntities(db(), ctx), listAccounts(db(), ctx)]);
  return (
    <>
      <div className="spread">
        <h1>Sources</h1>
        {can(ctx.role, "imports.run") && <Link className="button" href="/imports">Import a file</Link>}
      </div>
      <p className="muted">Where outside records come from: bank accounts and payment-provider accounts, each tied to the GL account it reconciles against.</p>
      <div className="table-wrap">
        <table aria-label="Sources">
          <thead>
            <tr><th>Name</th><th>Kind</th><th>Entity</th><th>Currency</th><th>Account</th><th>GL account</th><th className="num">Transactions</th><th>Last import</th></tr>
          </thead>
          <tbody>
            {sources.length === 0 && <tr><td colSpan={8} className="muted">No sources yet.</td></tr>}
            {sources.map((s) => (
              <tr key={s.id}>
                <td><Link href={`/sources/${s.id}`}>{s.name}</Link></td>
                <td>{s.kind === "psp" ? `Payment provider (${s.provider})` : "Bank"}</td>
                <td>{s.entityName}</td>
                <td>{s.currency}</td>
                <td>{s.accountNumber ?? <span className="muted">—</span>}</td>
                <td>{s.glAccountCode} {s.glAccountName}</td>
                <td className="num">{s.transactionCount.toLocaleString("en")}</td>
                <td>{s.lastImportAt ? String(s.lastImportAt).replace("T", " ").slice(0, 16) : <span className="muted">never</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {can(ctx.role, "sources.manage") && (
        <>
          <h2>New source</h2>
          <SourceForm entities={entities} accounts={accounts} />
        </>
      )}
    </>
  );
}
