"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { confirmMatchesAction, rejectMatchesAction } from "@/app/(app)/matches/actions";
import type { MatchView } from "@/server/matching/queries";
import { MatchCard } from "./match-card";

/** The review list: suggestions one by one (keys c / r on a card) or several at once (select, then accept or reject). */
export function SuggestionReview({ suggestions, canDecide }: { suggestions: MatchView[]; canDecide: boolean }) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const done = { onSuccess: (r: { ok: boolean }) => { if (r.ok) { setSelected(new Set()); router.refresh(); } } };
  const accept = useMutation({ mutationFn: () => confirmMatchesAction({ matchIds: [...selected] }), ...done });
  const reject = useMutation({ mutationFn: () => rejectMatchesAction({ matchIds: [...selected] }), ...done });
  const failed = [accept.data, reject.data].find((r) => r && !r.ok) as { message: string } | undefined;
  const busy = accept.isPending || reject.isPending;
  const toggle = (id: string, on: boolean) => setSelected((s) => { const n = new Set(s); if (on) n.add(id); else n.delete(id); return n; });
  return (
    <>
      {canDecide && suggestions.length > 0 && (
        <div className="row bulk-bar" role="toolbar" aria-label="Bulk decisions">
          <label><input type="checkbox" aria-label="Select all suggestions" checked={selected.size === suggestions.length} onChange={(e) => setSelected(e.target.checked ? new Set(suggestions.map((m) => m.id)) : new Set())} /> All</label>
          <span className="muted" aria-live="polite">{selected.size} selected</span>
          <button type="button" disabled={busy || selected.size === 0} onClick={() => accept.mutate()}>Accept selected</button>
          <button type="button" className="secondary" disabled={busy || selected.size === 0} onClick={() => reject.mutate()}>Reject selected</button>
          {accept.data?.ok && <span role="status">{accept.data.data.confirmed} accepted.</span>}
        </div>
      )}
      {failed && <p role="alert" className="alert error">{failed.message}</p>}
      {suggestions.map((m) => <MatchCard key={m.id} match={m} canDecide={canDecide} selected={selected.has(m.id)} onSelect={canDecide ? (on) => toggle(m.id, on) : undefined} />)}
    </>
  );
}
