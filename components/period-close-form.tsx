"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { closePeriodAction, requestReopenAction } from "@/app/(app)/periods/actions";

/** Close the period; each blocked item needs an override reason, which is recorded. */
export function ClosePeriodForm({ periodId, failing }: { periodId: string; failing: { key: string; label: string }[] }) {
  const router = useRouter();
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const m = useMutation({
    mutationFn: () => closePeriodAction({ periodId, overrides: Object.entries(reasons).filter(([, r]) => r.trim()).map(([key, reason]) => ({ key, reason })) }),
    onSuccess: (r) => r.ok && router.refresh(),
  });
  return (
    <form className="panel" aria-label="Close the period" onSubmit={(e) => { e.preventDefault(); m.mutate(); }}>
      {failing.map((f) => (
        <label key={f.key}>
          Override “{f.label}” — reason
          <input value={reasons[f.key] ?? ""} onChange={(e) => setReasons((r) => ({ ...r, [f.key]: e.target.value }))} />
        </label>
      ))}
      <button type="submit" disabled={m.isPending}>Close period</button>
      {m.data && !m.data.ok && <p role="alert" className="alert error">{m.data.message}</p>}
    </form>
  );
}

/** Ask to reopen: an admin gives a reason; it reopens when another approver signs off. */
export function ReopenPeriodForm({ periodId }: { periodId: string }) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () => requestReopenAction({ periodId, reason }),
    onSuccess: (r) => {
      if (r.ok && r.data.status === "pending") router.push(`/approvals/${r.data.requestId}`);
      else if (r.ok) router.refresh();
    },
  });
  return (
    <form className="inline panel" aria-label="Reopen the period" onSubmit={(e) => { e.preventDefault(); m.mutate(); }}>
      <label style={{ flex: 1 }}>
        Reason for reopening
        <input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={5} />
      </label>
      <button type="submit" className="danger" disabled={m.isPending}>Request reopening</button>
      {m.data && !m.data.ok && <p role="alert" className="alert error" style={{ width: "100%" }}>{m.data.fieldErrors?.reason?.[0] ?? m.data.message}</p>}
    </form>
  );
}
