"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { recalibrateAction, rollbackSettingsAction } from "@/app/(app)/matches/actions";

export function RecalibrateButton() {
  const router = useRouter();
  const m = useMutation({ mutationFn: () => recalibrateAction({}), onSuccess: (r) => r.ok && router.refresh() });
  const r = m.data;
  return (
    <span className="row">
      <button type="button" disabled={m.isPending} onClick={() => m.mutate()}>{m.isPending ? "Recalibrating…" : "Recalibrate now"}</button>
      {r?.ok && <span role="status">{r.data.changed ? `Now version ${r.data.version}: ${r.data.changes.map((c) => c.kind).join(" and ")}.` : `No change (${r.data.feedbackUsed} new decisions).`}</span>}
      {r && !r.ok && <span role="alert" className="field-error">{r.message}</span>}
    </span>
  );
}

export function RollbackForm({ version }: { version: number }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const m = useMutation({ mutationFn: () => rollbackSettingsAction({ toVersion: version, reason }), onSuccess: (r) => r.ok && router.refresh() });
  if (!open) return <button type="button" className="secondary" onClick={() => setOpen(true)}>Roll back to v{version}…</button>;
  return (
    <form className="inline" aria-label={`Roll back to version ${version}`} onSubmit={(e) => { e.preventDefault(); m.mutate(); }}>
      <label>Reason<input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} autoFocus /></label>
      <button type="submit" className="danger" disabled={m.isPending}>Roll back</button>
      {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.fieldErrors?.reason?.[0] ?? m.data.message}</span>}
    </form>
  );
}
