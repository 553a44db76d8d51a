"use client";
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { recalibrateAction, rollbackSettingsAction } from "@/app/(app)/matches/actions";

/** What a proposal came to: a link to the request that waits, or why nothing was filed. */
function Proposed({ status, requestId, feedbackUsed }: { status: string; requestId: string | null; feedbackUsed: number }) {
  if (status === "unchanged") return <span role="status">No change to propose ({feedbackUsed} new decisions).</span>;
  if (status === "executed") return <span role="status">Applied: the policy needs no approval for this.</span>;
  return <span role="status" data-testid="settings-proposed">Waiting for approval: <Link href={`/approvals/${requestId}`}>the request</Link>.</span>;
}

export function RecalibrateButton() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const m = useMutation({ mutationFn: () => recalibrateAction({ reason }), onSuccess: (r) => r.ok && router.refresh() });
  const r = m.data;
  if (!open) return <button type="button" onClick={() => setOpen(true)}>Propose recalibration…</button>;
  return (
    <form className="inline" aria-label="Propose recalibration" onSubmit={(e) => { e.preventDefault(); m.mutate(); }}>
      <label>Reason for approvers<input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} autoFocus /></label>
      <button type="submit" disabled={m.isPending}>{m.isPending ? "Working out the change…" : "Propose"}</button>
      {r?.ok && <Proposed {...r.data} />}
      {r && !r.ok && <span role="alert" className="field-error">{r.fieldErrors?.reason?.[0] ?? r.message}</span>}
    </form>
  );
}

export function RollbackForm({ version }: { version: number }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const m = useMutation({ mutationFn: () => rollbackSettingsAction({ toVersion: version, reason }), onSuccess: (r) => r.ok && router.refresh() });
  if (!open) return <button type="button" className="secondary" onClick={() => setOpen(true)}>Propose rollback to v{version}…</button>;
  return (
    <form className="inline" aria-label={`Roll back to version ${version}`} onSubmit={(e) => { e.preventDefault(); m.mutate(); }}>
      <label>Reason<input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} autoFocus /></label>
      <button type="submit" className="danger" disabled={m.isPending}>Propose rollback</button>
      {m.data?.ok && <Proposed {...m.data.data} />}
      {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.fieldErrors?.reason?.[0] ?? m.data.message}</span>}
    </form>
  );
}
