import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { orNotFound, requireActor } from "@/app/_lib/session";
import { getImport } from "@/server/ingest/queries";
import { formatMoney, money } from "@/server/money";

export const metadata: Metadata = { title: "Import" };

export default async function ImportPage({ params }: { params: Promise<{ id: string }> }) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const i = await orNotFound(getImport(db(), ctx, id));
  return (
    <>
      <h1>Import of {i.channel === "webhook" ? "a webhook event" : i.fileName}</h1>
      <dl className="facts panel">
        <dt>Source</dt><dd><Link href={`/sources/${i.sourceId}`}>{i.sourceName}</Link></dd>
        <dt>When</dt><dd>{String(i.importedAt).replace("T", " ").slice(0, 19)} UTC by {i.importedBy ?? "system"}</dd>
        <dt>Format</dt><dd>{i.format} (parser v{i.parserVersion})</dd>
        <dt>Lines</dt><dd data-testid="import-counts">{i.newCount} new, {i.duplicateCount} duplicate, {i.rejectedCount} rejected</dd>
        {i.durationMs !== null && <><dt>Took</dt><dd>{(i.durationMs / 1000).toFixed(2)} s</dd></>}
      </dl>
      {i.warnings.map((w) => <p key={w} className="alert info">{w}</p>)}
      {i.rejections.length > 0 && (
        <>
          <h2>Rejected lines</h2>
          <ul>{i.rejections.map((r, n) => <li key={n}>{r.line !== null && `Line ${r.line}: `}{r.reason}</li>)}</ul>
        </>
      )}
      {i.statements.length > 0 && (
        <>
          <h2>Statements</h2>
          <div className="table-wrap">
            <table aria-label="Statements">
              <thead><tr><th>Statement</th><th>Account</th><th>Opening</th><th className="num">Opening balance</th><th className="num">Movements</th><th>Closing</th><th className="num">Closing balance</th><th className="num">Lines</th><th>Check</th></tr></thead>
              <tbody>
                {i.statements.map((s) => {
                  const diff = s.openingBalance !== null && s.closingBalance !== null ? money(s.closingBalance).minus(money(s.openingBalance).plus(s.movements)) : null;
                  return (
                    <tr key={s.id}>
                      <td>{s.statementRef ?? "—"}</td>
                      <td>{s.account ?? "—"}</td>
                      <td>{s.openingDate ?? "—"}</td>
                      <td className="num">{s.openingBalance === null ? "—" : formatMoney(s.openingBalance, s.currency)}</td>
                      <td className="num">{formatMoney(s.movements, s.currency)}</td>
                      <td>{s.closingDate ?? "—"}</td>
                      <td className="num">{s.closingBalance === null ? "—" : formatMoney(s.closingBalance, s.currency)}</td>
                      <td className="num">{s.lineCount}</td>
                      <td>{s.balanced === null ? <span className="badge">no balances</span> : s.balanced ? <span className="badge ok">adds up</span> : <span className="badge bad">off by {formatMoney(diff!, s.currency)}</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
