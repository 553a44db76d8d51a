import type { Metadata } from "next";
import Link from "next/link";
import { db } from "@/app/_lib/db";
import { orNotFound, requireActor } from "@/app/_lib/session";
import { ExceptionActions } from "@/components/exceptions/exception-actions";
import { CandidateList } from "@/components/exceptions/candidate-list";
import { ManualMatchBuilder } from "@/components/exceptions/manual-match-builder";
import { ExceptionThread } from "@/components/exceptions/exception-thread";
import { MatchCard } from "@/components/matching/match-card";
import { listAssignees } from "@/server/exceptions/assignees";
import { getException } from "@/server/exceptions/detail";
import { listAccounts } from "@/server/ledger/queries";
import { formatMoney } from "@/server/money";
import { can } from "@/server/tenancy/context";

export const metadata: Metadata = { title: "Exception" };

export default async function ExceptionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { ctx, user } = await requireActor();
  const e = await orNotFound(getException(db(), ctx, id));
  const [assignees, accounts] = await Promise.all([listAssignees(db(), ctx), listAccounts(db(), ctx)]);
  const work = can(ctx.role, "exceptions.work");
  const decide = can(ctx.role, "matching.decide");
  const open = e.status !== "resolved";
  return (
    <>
      <p><Link href="/exceptions">← Exceptions</Link></p>
      <div className="spread">
        <h1>{e.title}</h1>
        <span className="row">
          <span className={`badge sev-${e.severity}`}>{e.severity}</span>
          <span className="badge" data-testid="exception-status">{e.status}</span>
        </span>
      </div>
      <dl className="facts">
        <dt>Type</dt><dd>{e.kindLabel}</dd>
        <dt>Source</dt><dd>{e.sourceName ?? "—"}</dd>
        {e.amount && e.currency && <><dt>Amount</dt><dd>{formatMoney(e.amount, e.currency)} {e.currency}</dd></>}
        <dt>Happened</dt><dd>{e.occurredOn}</dd>
        <dt>Raised</dt><dd>{e.raisedAt.slice(0, 16).replace("T", " ")}</dd>
        <dt>Due</dt><dd>{e.dueAt ? e.dueAt.slice(0, 10) : "—"}</dd>
        <dt>Assignee</dt><dd>{e.assignee ?? "nobody"}</dd>
        {e.snoozedUntil && <><dt>Snoozed until</dt><dd>{e.snoozedUntil.slice(0, 10)}</dd></>}
        {e.resolution && <><dt>Resolution</dt><dd data-testid="resolution">{e.resolutionLabel}{e.reasonLabel ? ` — ${e.reasonLabel}` : ""}{e.resolutionNote ? `: ${e.resolutionNote}` : ""}{e.resolvedBy ? ` (${e.resolvedBy})` : ""}</dd></>}
        {e.pendingApproval && <><dt>Waiting</dt><dd><Link href={`/approvals/${e.pendingApproval.id}`}>{e.pendingApproval.summary}</Link> awaits approval</dd></>}
      </dl>

      {work && (
        <ExceptionActions
          exception={{ id: e.id, status: e.status, kind: e.kind, assigneeId: e.assigneeId, adjustable: !!e.reconciliation || e.kind === "amount_mismatch", pending: !!e.pendingApproval, occurredOn: e.occurredOn }}
          assignees={assignees}
          me={user.userId}
          accounts={accounts.map((a) => ({ id: a.id, label: `${a.code} ${a.name}` }))}
          today={new Date().toISOString().slice(0, 10)}
        />
      )}

      {e.match && (
        <section aria-label="Proposed match">
          <h2>The proposed match</h2>
          <MatchCard match={e.match} canDecide={decide && open} />
        </section>
      )}

      {e.subject && e.reconciliation && (
        <section aria-label="Record and candidates">
          <h2>The record and its nearest candidates</h2>
          <CandidateList exceptionId={e.id} subject={e.subject} candidates={e.candidates} counterpartName={e.reconciliation.counterpartName} canDecide={decide && open} />
        </section>
      )}

      {e.subject && e.reconciliation && decide && open && (
        <section aria-label="Manual match">
          <h2>Match by hand</h2>
          <p className="muted">Select records on each side until the difference is zero (or within the tolerance); one-to-many and many-to-one both work.</p>
          <ManualMatchBuilder exceptionId={e.id} subject={e.subject} reconciliation={e.reconciliation} />
        </section>
      )}

      <ExceptionThread exceptionId={e.id} comments={e.comments} events={e.events} canComment={work} />
    </>
  );
}
