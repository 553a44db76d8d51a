import type { Metadata } from "next";
import Link from "next/link";
import { Fragment } from "react";
import { orNotFound, requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { getRequest } from "@/server/approvals/queries";
import { formatMoney } from "@/server/money";
import { ApprovalDecisionForm, WithdrawButton } from "@/components/approval-decision-form";

export const metadata: Metadata = { title: "Approval request" };

export default async function ApprovalRequestPage({ params }: { params: Promise<{ id: string }> }) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const r = await orNotFound(getRequest(db(), ctx, id));
  const tier = r.policy.tier;
  return (
    <>
      <h1>{r.kindLabel}</h1>
      <p className="spread">
        <span>{r.summary}</span>
        <span className={`badge ${r.status === "executed" ? "ok" : r.status === "pending" ? "" : "bad"}`} data-testid="request-status">{r.status}</span>
      </p>
      {r.outcome && <p role="status" className="alert ok">Executed: <Link href={r.outcome.href}>{r.outcome.text}</Link></p>}
      <dl className="panel">
        <dt>Maker</dt><dd>{r.makerLabel}</dd>
        <dt>Reason</dt><dd>{r.reason}</dd>
        {r.links.length > 0 && (<><dt>Links</dt><dd>{r.links.map((l) => <a key={l.url} href={l.url} rel="noreferrer noopener">{l.label} </a>)}</dd></>)}
        <dt>Amount</dt><dd>{r.amount && r.currency ? `${formatMoney(r.amount, r.currency)} ${r.currency}` : "—"}</dd>
        <dt>Policy</dt>
        <dd data-testid="policy">
          {tier.approvalsRequired} approver(s){tier.adminRequired ? ", an admin among them" : ""} — tier from {tier.minAmount} ({r.policy.source === "default" ? "default policy" : "organisation policy"});
          approvers are distinct members holding the approver or admin role, never the maker
        </dd>
        <dt>Approvals so far</dt><dd data-testid="approvals-so-far">{r.approvals} of {r.approvalsRequired}</dd>
        <dt>Version</dt><dd>{r.version} · content SHA-256 <code>{r.contentHash.slice(0, 16)}…</code></dd>
        <dt>{r.status === "pending" ? "Expires" : "Decided"}</dt><dd>{(r.status === "pending" ? r.expiresAt : r.decidedAt ?? "").slice(0, 16)} UTC</dd>
      </dl>

      <h2>Content</h2>
      {r.view.fields && (
        <dl className="panel">{r.view.fields.map((f) => (<Fragment key={f.label}><dt>{f.label}</dt><dd>{f.value}</dd></Fragment>))}</dl>
      )}
      {r.view.table && (
        <div className="table-wrap">
          <table aria-label={r.view.table.caption}>
            <thead><tr>{r.view.table.columns.map((c, i) => <th key={c} className={r.view.table!.numeric.includes(i) ? "num" : undefined}>{c}</th>)}</tr></thead>
            <tbody>{r.view.table.rows.map((row, j) => <tr key={j}>{row.map((cell, i) => <td key={i} className={r.view.table!.numeric.includes(i) ? "num" : undefined}>{cell}</td>)}</tr>)}</tbody>
          </table>
        </div>
      )}
      {r.view.diff && (
        <div className="table-wrap">
          <table aria-label="Changes">
            <thead><tr><th>Setting</th><th>Before</th><th>After</th></tr></thead>
            <tbody>{r.view.diff.map((d) => <tr key={d.field}><td>{d.field}</td><td>{d.before}</td><td>{d.after}</td></tr>)}</tbody>
          </table>
        </div>
      )}

      <h2>Decisions</h2>
      <div className="table-wrap">
        <table aria-label="Decisions">
          <thead><tr><th>Approver</th><th>Role</th><th>Decision</th><th>Comment</th><th>Version</th><th>When (UTC)</th></tr></thead>
          <tbody>
            {r.decisions.length === 0 && <tr><td colSpan={6} className="muted">No decisions yet.</td></tr>}
            {r.decisions.map((d, i) => (
              <tr key={i}>
                <td>{d.approverLabel}</td><td>{d.approverRole}</td>
                <td>{d.decision}{d.voidedAt && <span className="badge bad"> void: the request changed</span>}</td>
                <td>{d.comment}</td><td>{d.version}</td><td>{d.decidedAt.slice(0, 19)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <ApprovalDecisionForm requestId={r.id} version={r.version} open={r.canDecide} />
      {r.isMaker && r.status === "pending" && (
        <div className="panel row">
          <span className="muted">You submitted this request; someone else must approve it.</span>
          <WithdrawButton requestId={r.id} />
        </div>
      )}

      <h2>Audit trail</h2>
      <div className="table-wrap">
        <table aria-label="Audit trail">
          <thead><tr><th className="num">#</th><th>When (UTC)</th><th>Actor</th><th>Action</th></tr></thead>
          <tbody>{r.trail.map((a) => <tr key={a.seq}><td className="num">{a.seq}</td><td>{a.at.slice(0, 19)}</td><td>{a.actorLabel}</td><td>{a.action}</td></tr>)}</tbody>
        </table>
      </div>
    </>
  );
}
