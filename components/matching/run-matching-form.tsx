"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { runMatchingAction } from "@/app/(app)/matches/actions";

export type SourceOption = { id: string; name: string; currency: string; kind: string };

export function RunMatchingForm({ sources, from, to }: { sources: SourceOption[]; from: string; to: string }) {
  const router = useRouter();
  const [sourceId, setSourceId] = useState(sources[0]?.id ?? "");
  const [against, setAgainst] = useState("ledger");
  const [range, setRange] = useState({ from, to });
  const m = useMutation({
    mutationFn: () => runMatchingAction({ sourceId, against: against === "ledger" ? { kind: "ledger" } : { kind: "source", sourceId: against }, ...range }),
    onSuccess: (r) => r.ok && router.refresh(),
  });
  const r = m.data;
  return (
    <form
      className="inline panel"
      aria-label="Run matching"
      onSubmit={(e) => {
        e.preventDefault();
        m.mutate();
      }}
    >
      <label>
        Source
        <select aria-label="Source" value={sourceId} onChange={(e) => setSourceId(e.target.value)} required>
          {sources.map((s) => <option key={s.id} value={s.id}>{s.name} ({s.currency})</option>)}
        </select>
      </label>
      <label>
        Against
        <select aria-label="Against" value={against} onChange={(e) => setAgainst(e.target.value)}>
          <option value="ledger">Ledger (the source&apos;s GL account)</option>
          {sources.filter((s) => s.id !== sourceId).map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      </label>
      <label>From<input aria-label="From" type="date" value={range.from} onChange={(e) => setRange({ ...range, from: e.target.value })} required /></label>
      <label>To<input aria-label="To" type="date" value={range.to} onChange={(e) => setRange({ ...range, to: e.target.value })} required /></label>
      <button type="submit" disabled={m.isPending || !sourceId}>{m.isPending ? "Matching…" : "Run now"}</button>
      {r?.ok && r.data.status === "queued" && <span role="status" className="muted">Queued with Inngest; the run appears below when it starts.</span>}
      {r?.ok && r.data.status === "succeeded" && r.data.counts && (
        <span role="status" data-testid="run-result">
          Run finished: {r.data.counts.auto} auto-matched, {r.data.counts.suggested} suggested, {r.data.counts.unmatched} without a match.
        </span>
      )}
      {r?.ok && (r.data.status === "failed" || r.data.status === "invalid") && <span role="alert" className="field-error">{r.data.message}</span>}
      {r && !r.ok && <span role="alert" className="field-error">{Object.values(r.fieldErrors ?? {})[0]?.[0] ?? r.message}</span>}
    </form>
  );
}
