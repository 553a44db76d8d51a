import type { Metadata } from "next";
import Link from "next/link";
import { dateParam, requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { listAudit } from "@/server/audit/list-audit";
import { verifyAuditChain } from "@/server/audit/verify-chain";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Audit log" };

type Search = { action?: string; actor?: string; from?: string; to?: string; before?: string };

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  const { ctx } = await requireActor();
  if (!can(ctx.role, "audit.read")) return <p role="alert" className="alert error">Only admins read the audit log.</p>;
  const sp = await searchParams;
  const [log, verification] = await Promise.all([
    listAudit(db(), ctx, { action: sp.action || undefined, actor: sp.actor || undefined, from: dateParam(sp.from), to: dateParam(sp.to), beforeSeq: Number(sp.before) || undefined }),
    verifyAuditChain(db(), ctx),
  ]);
  const next = new URLSearchParams({ ...(sp as Record<string, string>), before: String(log.nextBeforeSeq ?? "") });
  return (
    <>
      <h1>Audit log</h1>
      <p role="status" className={`alert ${verification.ok ? "ok" : "error"}`} data-testid="chain-status">
        {verification.ok
          ? `Chain verified: ${verification.rows} rows, each linked to the one before by SHA-256. Head ${verification.headHash.slice(0, 16)}…`
          : `Chain broken at row ${verification.firstBrokenSeq}: ${verification.reason}.`}
      </p>
      <form className="inline panel" method="get" aria-label="Audit filters">
        <label>
          Action
          <select name="action" defaultValue={sp.action ?? ""}>
            <option value="">All</option>
            {log.actions.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label>Actor<input name="actor" defaultValue={sp.actor} placeholder="email or system:…" /></label>
        <label>From<input type="date" name="from" defaultValue={sp.from} /></label>
        <label>To<input type="date" name="to" defaultValue={sp.to} /></label>
        <button type="submit">Filter</button>
      </form>
      <div className="table-wrap">
        <table aria-label="Audit events">
          <thead><tr><th className="num">#</th><th>When (UTC)</th><th>Actor</th><th>Action</th><th>Record</th><th>Details</th></tr></thead>
          <tbody>
            {log.rows.map((r) => (
              <tr key={r.seq}>
                <td className="num">{r.seq}</td>
                <td>{r.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td>{r.actorLabel}</td>
                <td>{r.action}</td>
                <td>{r.entityType === "journal_entry" && r.entityId ? <Link href={`/ledger/entries/${r.entityId}`}>{r.entityType}</Link> : r.entityType}</td>
                <td><code style={{ fontSize: ".78rem", wordBreak: "break-all" }}>{JSON.stringify(r.data)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {log.nextBeforeSeq && <p><Link href={`/settings/audit?${next}`}>Older events →</Link></p>}
    </>
  );
}
