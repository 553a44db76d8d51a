"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Decimal from "decimal.js";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { freeRecordsAction, manualMatchAction } from "@/app/(app)/exceptions/actions";
import type { ExceptionDetail, RecordView } from "@/server/exceptions/detail";
import { formatMoney } from "@/server/money";

type Side = "same" | "other";

/**
 * Builds a one-to-many or many-to-one match: the exception's record starts selected on its side;
 * the person adds records on either side until the difference is zero. The server checks the
 * sums again against the tolerance and asks for a reason when they do not tie; a match outside
 * the tolerance is then filed for a second person's approval instead of being made.
 */
export function ManualMatchBuilder({ exceptionId, subject, reconciliation }: { exceptionId: string; subject: RecordView; reconciliation: NonNullable<ExceptionDetail["reconciliation"]> }) {
  const router = useRouter();
  const [q, setQ] = useState<Record<Side, string>>({ same: "", other: "" });
  const [picked, setPicked] = useState<Record<Side, Map<string, RecordView>>>({ same: new Map([[subject.key, subject]]), other: new Map() });
  const [reason, setReason] = useState("");
  const lists = {
    same: useQuery({ queryKey: ["free", exceptionId, "same", q.same], queryFn: () => freeRecordsAction({ exceptionId, side: "same", q: q.same || undefined }) }),
    other: useQuery({ queryKey: ["free", exceptionId, "other", q.other], queryFn: () => freeRecordsAction({ exceptionId, side: "other", q: q.other || undefined }) }),
  };
  const total = (s: Side) => [...picked[s].values()].reduce((a, r) => a.plus(r.amount), new Decimal(0));
  const difference = total("other").minus(total("same"));
  const currency = subject.currency;
  const leftIsSame = reconciliation.side === "left";
  const ids = (s: Side) => [...picked[s].keys()].map((k) => k.split(":")[1]);
  const submit = useMutation({
    mutationFn: () => manualMatchAction({
      sourceId: reconciliation.sourceId,
      against: reconciliation.pairing === "source" && reconciliation.counterpartSourceId ? { kind: "source", sourceId: reconciliation.counterpartSourceId } : { kind: "ledger" },
      left: ids(leftIsSame ? "same" : "other"),
      right: ids(leftIsSame ? "other" : "same"),
      reason: reason || undefined,
    }),
    onSuccess: (r) => r.ok && router.refresh(),
  });
  const toggle = (s: Side, r: RecordView) => setPicked((p) => {
    const next = new Map(p[s]);
    if (next.has(r.key)) next.delete(r.key); else next.set(r.key, r);
    return { ...p, [s]: next };
  });
  const failed = submit.data && !submit.data.ok ? submit.data : null;
  const needsReason = !!failed?.fieldErrors?.reason;
  return (
    <div className="panel">
      <div className="side-by-side">
        {(["same", "other"] as const).map((s) => {
          const data = lists[s].data;
          const rows = data?.ok ? data.data.records : [];
          const shown = new Map<string, RecordView>([...picked[s]]);
          for (const r of rows) if (!shown.has(r.key)) shown.set(r.key, r);
          return (
            <div key={s}>
              <h3>{s === "same" ? (leftIsSame ? "Statement side" : "Ledger side") : reconciliation.counterpartName}</h3>
              <label>Search <input type="search" value={q[s]} onChange={(e) => setQ({ ...q, [s]: e.target.value })} placeholder="amount, counterparty, reference" aria-label={`Search ${s === "same" ? "this side" : "the other side"}`} /></label>
              {data && !data.ok && <p role="alert" className="alert error">{data.message}</p>}
              <table aria-label={s === "same" ? "This side's records" : "Other side's records"}>
                <thead><tr><th /><th>Date</th><th>Counterparty / text</th><th className="num">Amount</th></tr></thead>
                <tbody>
                  {[...shown.values()].map((r) => (
                    <tr key={r.key}>
                      <td><input type="checkbox" aria-label={`Pick ${r.date} ${r.amount} ${r.counterparty ?? r.description ?? ""}`.trim()} checked={picked[s].has(r.key)} onChange={() => toggle(s, r)} disabled={r.key === subject.key} /></td>
                      <td>{r.date}</td>
                      <td>{r.counterparty}<div className="muted">{[r.reference, r.description].filter(Boolean).join(" · ")}</div></td>
                      <td className="num">{formatMoney(r.amount, r.currency)}</td>
                    </tr>
                  ))}
                  {shown.size === 0 && <tr><td colSpan={4} className="muted">{lists[s].isFetching ? "Loading…" : "No free records within 50 days of this date."}</td></tr>}
                </tbody>
              </table>
              {data?.ok && data.data.truncated && <p className="muted">More records exist; search to narrow them down.</p>}
              <p>Selected: <strong data-testid={`total-${s}`}>{formatMoney(total(s).toFixed(), currency)}</strong> ({picked[s].size})</p>
            </div>
          );
        })}
      </div>
      <p aria-live="polite">
        Difference: <strong data-testid="match-difference" className={difference.isZero() ? "difference-zero" : "difference-open"}>{formatMoney(difference.toFixed(), currency)} {currency}</strong>
        {difference.isZero() ? " — ties out." : " — add records until it is zero, or give a reason (outside the tolerance, someone else must approve the match)."}
      </p>
      {(needsReason || !difference.isZero()) && (
        <label>Reason for accepting a difference <input value={reason} onChange={(e) => setReason(e.target.value)} /></label>
      )}
      <button type="button" disabled={submit.isPending || picked.other.size === 0} onClick={() => submit.mutate()}>Match selected</button>
      {failed && <p role="alert" className="alert error">{failed.message}</p>}
      {submit.data?.ok && submit.data.data.status === "matched" && <p role="status" className="alert ok">Matched.</p>}
      {submit.data?.ok && submit.data.data.status === "pending" && (
        <p role="status" className="alert ok" data-testid="match-waiting">
          Outside the tolerance: the match waits for approval. Nothing is matched until someone else approves{" "}
          <Link href={`/approvals/${submit.data.data.requestId}`}>the request</Link>.
        </p>
      )}
    </div>
  );
}
