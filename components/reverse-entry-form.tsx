"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { reverseEntryAction } from "@/app/(app)/ledger/actions";

export function ReverseEntryForm({ entryId, entryDate }: { entryId: string; entryDate: string }) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const [date, setDate] = useState(entryDate);
  const m = useMutation({
    mutationFn: () => reverseEntryAction({ entryId, reason, reversalDate: date }),
    onSuccess: (r) => {
      if (!r.ok) return;
      if (r.data.status === "executed") router.push(`/ledger/entries/${String(r.data.result.entryId)}`);
      else router.push(`/approvals/${r.data.requestId}`);
    },
  });
  const result = m.data;
  return (
    <form
      className="inline panel"
      aria-label="Reverse this entry"
      onSubmit={(e) => {
        e.preventDefault();
        m.mutate();
      }}
    >
      <label>
        Reversal date
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
      </label>
      <label style={{ flex: 1, minWidth: 220 }}>
        Reason
        <input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} aria-invalid={result && !result.ok && result.fieldErrors?.reason ? true : undefined} />
      </label>
      <button type="submit" className="danger" disabled={m.isPending}>{m.isPending ? "Reversing…" : "Reverse entry"}</button>
      {result && !result.ok && <p role="alert" className="alert error" style={{ width: "100%" }}>{result.fieldErrors?.reason?.[0] ?? result.message}</p>}
    </form>
  );
}
