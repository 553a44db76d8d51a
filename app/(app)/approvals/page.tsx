import type { Metadata } from "next";
import Link from "next/link";
import { requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { BOXES, listRequests, STATUSES, type Box } from "@/server/approvals/queries";
import { KINDS } from "@/server/approvals/executors";
import { can } from "@/server/tenancy/context";
import { formatMoney } from "@/server/money";

export const metadata: Metadata = { title: "Approvals" };

const BOX_LABELS: Record<Box, string> = { waiting: "Waiting for me", submitted: "Submitted by me", decided: "Decided", all: "All" };

export default async function ApprovalsPage({ searchParams }: { searchParams: Promise<{ box?: string; kind?: string; status?: string }> }) {
  const { ctx } = await requireActor();
  const sp = await searchParams;
  const decides = can(ctx.role, "approvals.decide");
  const box: Box = (BOXES as readonly string[]).includes(sp.box ?? "") ? (sp.box as Box) : decides ? "waiting" : "submitted";
  const kind = KINDS.some((k) => k.kind === sp.kind) ? sp.kind : undefined;
  const rows = await listRequests(db(), ctx, { box, kind, status: sp.status || undefined });
  const href = (b: Box) => `/approvals?${new URLSearchParams({ box: b, ...(kind ? { kind } : {}) })}`;
  return (
    <>
      <h1>Approvals</h1>
      <nav aria-label="Approval boxes" className="row">
        {BOXES.filter((b) => b !== "waiting" || decides).map((b) => (
          <Link key={b} href={href(b)} className={b === box ? "button" : "button secondary"} aria-current={b === box ? "page" : undefined}>{BOX_LABELS[b]}</Link>
        ))}
      </nav>
      <form className="inline panel" method="get" aria-label="Approval filters">
        <input type="hidden" name="box" value={box} />
        <label>
          Kind
          <select name="kind" defaultValue={kind ?? ""}>
            <option value="">All kinds</option>
            {KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
          </select>
        </label>
        <label>
          Status
          <select name="status" defaultValue={sp.status ?? ""}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <div className="table-wrap">
        <table aria-label={BOX_LABELS[box]}>
          <thead><tr><th>Request</th><th>Kind</th><th>Maker</th><th className="num">Amount</th><th>Approvals</th><th>Status</th><th>Submitted (UTC)</th></tr></thead>
          <tbody>
            {rows.length === 0 && <tr><td colSpan={7} className="muted">Nothing here.</td></tr>}
            {rows.map((r) => (
              <tr key={r.id}>
                <td><Link href={`/approvals/${r.id}`}>{r.summary}</Link></td>
                <td>{KINDS.find((k) => k.kind === r.kind)?.label ?? r.kind}</td>
                <td>{r.makerLabel}</td>
                <td className="num">{r.amount && r.currency ? `${formatMoney(r.amount, r.currency)} ${r.currency}` : "—"}</td>
                <td>{r.approvals} of {r.approvalsRequired}{r.adminRequired ? " (admin among them)" : ""}</td>
                <td><span className={`badge ${r.status === "executed" ? "ok" : r.status === "pending" ? "" : "bad"}`}>{r.status}</span></td>
                <td>{r.createdAt.slice(0, 16)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
