"use client";
import type { ActionResult } from "@/app/_lib/action";
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { adjustAction, assignAction, explainAction, reopenAction, snoozeAction, wakeAction } from "@/app/(app)/exceptions/actions";
import type { Assignee } from "@/server/exceptions/assignees";
import { REASON_CODES } from "@/server/exceptions/kinds";
import type { SubmitResult } from "@/server/approvals/requests";
import { failureText } from "./failure-text";

type Result = ActionResult<unknown>;

/** What a successful action did: a write-off or adjustment links the approval request it filed. */
function submitted(data: unknown) {
  const r = data as Partial<SubmitResult> | null;
  if (r?.status === "pending" && r.requestId) return <>Sent for approval: <Link href={`/approvals/${r.requestId}`}>open the request</Link>. The exception stays open until it is approved.</>;
  if (r?.status === "executed") return "Posted; the exception is resolved.";
  return "Saved.";
}
type Panel = "explain" | "snooze" | "adjust" | "reopen" | null;

/** Everything a person can do with one exception, besides matching: assign, snooze, explain, write off or adjust, reopen. */
export function ExceptionActions({ exception, assignees, me, accounts, today }: {
  exception: { id: string; status: string; kind: string; assigneeId: string | null; adjustable: boolean; pending: boolean; occurredOn: string };
  assignees: Assignee[]; me: string; accounts: { id: string; label: string }[]; today: string;
}) {
  const router = useRouter();
  const ids = [exception.id];
  const [panel, setPanel] = useState<Panel>(null);
  const [reason, setReason] = useState<keyof typeof REASON_CODES>("timing_difference");
  const [note, setNote] = useState("");
  const [until, setUntil] = useState(new Date(Date.parse(today) + 7 * 86_400_000).toISOString().slice(0, 10));
  const [mode, setMode] = useState<"written_off" | "adjusted">("written_off");
  const [account, setAccount] = useState("");
  const act = useMutation({ mutationFn: (fn: () => Promise<Result>) => fn(), onSuccess: (r) => { if (r.ok) { setPanel(null); setNote(""); router.refresh(); } } });
  const failed = act.data && !act.data.ok ? act.data : null;
  const resolved = exception.status === "resolved";
  return (
    <section className="panel" aria-label="Actions">
      <div className="row">
        {!resolved && (
          <>
            <label className="row">Assignee
              <select aria-label="Assignee" value={exception.assigneeId ?? ""} disabled={act.isPending} onChange={(e) => act.mutate(() => assignAction({ ids, assigneeId: e.target.value || null }) as Promise<Result>)}>
                <option value="">Unassigned</option>
                {assignees.map((a) => <option key={a.userId} value={a.userId}>{a.name}{a.userId === me ? " (me)" : ""}</option>)}
              </select>
            </label>
            <button type="button" className="secondary" onClick={() => setPanel("explain")}>Explain…</button>
            {exception.status === "open" && <button type="button" className="secondary" onClick={() => setPanel("snooze")}>Snooze…</button>}
            {exception.status === "snoozed" && <button type="button" className="secondary" onClick={() => act.mutate(() => wakeAction({ ids }) as Promise<Result>)}>Wake now</button>}
            {exception.adjustable && !exception.pending && <button type="button" className="secondary" onClick={() => setPanel("adjust")}>Write off or adjust…</button>}
          </>
        )}
        {resolved && <button type="button" className="secondary" onClick={() => setPanel("reopen")}>Reopen…</button>}
      </div>
      {panel === "explain" && (
        <form className="inline" aria-label="Explain" onSubmit={(e) => { e.preventDefault(); act.mutate(() => explainAction({ ids, reasonCode: reason, note: note || undefined }) as Promise<Result>); }}>
          <label>Reason <select value={reason} onChange={(e) => setReason(e.target.value as keyof typeof REASON_CODES)}>{Object.entries(REASON_CODES).map(([k, l]) => <option key={k} value={k}>{l}</option>)}</select></label>
          <label>Note <input value={note} onChange={(e) => setNote(e.target.value)} /></label>
          <button type="submit" disabled={act.isPending}>Resolve as explained</button>
          <button type="button" className="secondary" onClick={() => setPanel(null)}>Cancel</button>
        </form>
      )}
      {panel === "snooze" && (
        <form className="inline" aria-label="Snooze" onSubmit={(e) => { e.preventDefault(); act.mutate(() => snoozeAction({ ids, until, note: note || undefined }) as Promise<Result>); }}>
          <label>Until <input type="date" value={until} min={today} onChange={(e) => setUntil(e.target.value)} /></label>
          <label>Note <input value={note} onChange={(e) => setNote(e.target.value)} /></label>
          <button type="submit" disabled={act.isPending}>Snooze</button>
          <button type="button" className="secondary" onClick={() => setPanel(null)}>Cancel</button>
        </form>
      )}
      {panel === "adjust" && (
        <form className="inline" aria-label="Write off or adjust" onSubmit={(e) => { e.preventDefault(); act.mutate(() => adjustAction({ exceptionId: exception.id, resolution: mode, accountId: mode === "adjusted" ? account || undefined : undefined, note }) as Promise<Result>); }}>
          <label>As <select value={mode} onChange={(e) => setMode(e.target.value as "written_off" | "adjusted")}><option value="written_off">Write-off (policy account)</option><option value="adjusted">Adjustment to an account</option></select></label>
          {mode === "adjusted" && <label>Account <select value={account} onChange={(e) => setAccount(e.target.value)} required><option value="">Choose…</option>{accounts.map((a) => <option key={a.id} value={a.id}>{a.label}</option>)}</select></label>}
          <label>Why <input value={note} onChange={(e) => setNote(e.target.value)} required minLength={3} /></label>
          <button type="submit" disabled={act.isPending}>Draft the entry for approval</button>
          <button type="button" className="secondary" onClick={() => setPanel(null)}>Cancel</button>
          <p className="muted">The entry is posted, and the exception resolved, when an approver signs it off.</p>
        </form>
      )}
      {panel === "reopen" && (
        <form className="inline" aria-label="Reopen" onSubmit={(e) => { e.preventDefault(); act.mutate(() => reopenAction({ ids, reason: note }) as Promise<Result>); }}>
          <label>Why <input value={note} onChange={(e) => setNote(e.target.value)} required minLength={3} /></label>
          <button type="submit" disabled={act.isPending}>Reopen</button>
          <button type="button" className="secondary" onClick={() => setPanel(null)}>Cancel</button>
        </form>
      )}
      {failed && <p role="alert" className="alert error">{failureText(failed)}</p>}
      {act.data?.ok && <p role="status" className="alert ok">{submitted(act.data.data)}</p>}
    </section>
  );
}
