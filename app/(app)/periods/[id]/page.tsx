import type { Metadata } from "next";
import Link from "next/link";
import { orNotFound, requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { getPeriodClose } from "@/server/period-close/close-period";
import { can } from "@/server/tenancy/context";
import { ClosePeriodForm, ReopenPeriodForm } from "@/components/period-close-form";

export const metadata: Metadata = { title: "Period close" };

export default async function PeriodClosePage({ params }: { params: Promise<{ id: string }> }) {
  const { ctx } = await requireActor();
  const { id } = await params;
  const c = await orNotFound(getPeriodClose(db(), ctx, id));
  const p = c.period;
  const admin = can(ctx.role, "periods.close");
  return (
    <>
      <h1>Period {p.name} — {p.entityName}</h1>
      <p className="spread">
        <span>{p.startsOn} – {p.endsOn}</span>
        <span className={`badge ${p.status === "closed" ? "bad" : "ok"}`} data-testid="period-status">{p.status}</span>
      </p>
      {p.status === "closed" && <p role="status" className="alert info">Closed by {p.closedByName ?? "—"} at {p.closedAt?.slice(0, 16)} UTC. Postings, imports and approvals dated in it are refused.</p>}
      <h2>Checklist</h2>
      <ul aria-label="Close checklist" className="panel" style={{ listStyle: "none", paddingLeft: "1rem" }}>
        {c.checklist.map((i) => (
          <li key={i.key} data-testid={`check-${i.key}`}>
            <span className={`badge ${i.ok ? "ok" : "bad"}`}>{i.ok ? "clear" : "blocked"}</span> <strong>{i.label}</strong> <span className="muted">{i.detail}</span>
            {i.blockers.length > 0 && (
              <ul>{i.blockers.map((b, j) => <li key={j}><Link href={b.href}>{b.label}</Link></li>)}</ul>
            )}
          </li>
        ))}
      </ul>
      {admin && p.status === "open" && <ClosePeriodForm periodId={p.id} failing={c.checklist.filter((i) => !i.ok).map((i) => ({ key: i.key, label: i.label }))} />}
      {admin && p.status === "closed" && !p.pendingReopenId && <ReopenPeriodForm periodId={p.id} />}
      {p.pendingReopenId && <p className="alert info">Reopening is waiting for approval: <Link href={`/approvals/${p.pendingReopenId}`}>the request</Link>.</p>}
      {!admin && <p className="muted">Only admins close and reopen periods.</p>}
      {c.events.length > 0 && (
        <>
          <h2>History</h2>
          <ul>{c.events.map((e, i) => <li key={i}>{e.at.slice(0, 16)} — {e.action} by {e.actorLabel}{e.reason ? `: ${e.reason}` : ""}{e.overrides.map((o) => ` · override ${o.key}: ${o.reason}`).join("")}</li>)}</ul>
        </>
      )}
    </>
  );
}
