"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { confirmMatchAction, rejectMatchAction, undoMatchAction } from "@/app/(app)/matches/actions";
import type { MatchView } from "@/server/matching/queries";
import { formatMoney } from "@/server/money";

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Per-signal bars: how well each signal agreed (bar) and how much it weighs. */
export function SignalBars({ signals }: { signals: MatchView["signals"] }) {
  const entries = Object.entries(signals).filter(([, s]) => s && typeof s.score === "number");
  if (!entries.length) return null;
  return (
    <ul className="signals" aria-label="Signals">
      {entries.map(([name, s]) => (
        <li key={name} title={`score ${s.score.toFixed(2)}, weight ${s.weight}, contribution ${s.contribution.toFixed(2)}`}>
          <span className="signal-name">{name}</span>
          <span className="progress" aria-hidden="true"><span style={{ width: pct(Math.max(0, Math.min(1, s.score))) }} /></span>
          <span className="muted">{pct(s.score)} × {s.weight}</span>
        </li>
      ))}
    </ul>
  );
}

/** One proposal with both sides' records; confirm / reject (suggestions) or undo with a reason (auto and confirmed). Keys: c confirm, r reject, u undo. */
export function MatchCard({ match, canDecide, selected, onSelect }: { match: MatchView; canDecide: boolean; selected?: boolean; onSelect?: (checked: boolean) => void }) {
  const router = useRouter();
  const [undoing, setUndoing] = useState(false);
  const [reason, setReason] = useState("");
  const done = { onSuccess: (r: { ok: boolean }) => r.ok && router.refresh() };
  const confirm = useMutation({ mutationFn: () => confirmMatchAction({ matchId: match.id }), ...done });
  const reject = useMutation({ mutationFn: () => rejectMatchAction({ matchId: match.id }), ...done });
  const undo = useMutation({ mutationFn: () => undoMatchAction({ matchId: match.id, reason }), ...done });
  const busy = confirm.isPending || reject.isPending || undo.isPending;
  const failed = [confirm.data, reject.data, undo.data].find((r) => r && !r.ok) as { message: string; fieldErrors?: Record<string, string[]> } | undefined;
  const suggested = match.status === "suggested";
  const undoable = match.status === "auto_matched" || match.status === "confirmed";
  const sides = (["left", "right"] as const).map((side) => match.members.filter((m) => m.side === side));
  return (
    <article
      className="panel match"
      tabIndex={0}
      aria-label={`Match ${match.reason}`}
      data-testid={`match-${match.status}`}
      onKeyDown={(e) => {
        if (!canDecide || busy || e.target !== e.currentTarget) return;
        if (suggested && e.key === "c") confirm.mutate();
        if (suggested && e.key === "r") reject.mutate();
        if (undoable && e.key === "u") setUndoing(true);
      }}
    >
      <div className="spread">
        <strong>
          {onSelect && <input type="checkbox" aria-label={`Select ${match.reason}`} checked={!!selected} onChange={(e) => onSelect(e.target.checked)} style={{ marginRight: 8 }} />}
          {match.sourceName} · {pct(Number(match.confidence))} · {match.level.replace("_", " ")}
        </strong>
        <span className="badge">{match.status.replace("_", " ")}</span>
      </div>
      <p>{match.reason}</p>
      <div className="match-sides">
        {sides.map((members, i) => (
          <table key={i} aria-label={i === 0 ? "Statement side" : match.pairing === "ledger" ? "Ledger side" : "Counterpart side"}>
            <thead><tr><th>{i === 0 ? "Statement" : match.pairing === "ledger" ? "Ledger" : "Counterpart"}</th><th>Counterparty</th><th>Reference</th><th className="num">Amount</th></tr></thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.key}>
                  <td>{m.date}</td>
                  <td>{m.counterparty}<div className="muted">{m.description}</div></td>
                  <td>{m.reference}</td>
                  <td className="num">{formatMoney(m.amount, m.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </div>
      {Number(match.difference) !== 0 && <p className="muted">Difference: {formatMoney(match.difference, match.currency)} {match.currency}</p>}
      <SignalBars signals={match.signals} />
      {match.undoReason && <p className="muted">Undone: {match.undoReason}</p>}
      {canDecide && (
        <div className="row">
          {suggested && <button type="button" disabled={busy} onClick={() => confirm.mutate()}>Confirm</button>}
          {suggested && <button type="button" className="secondary" disabled={busy} onClick={() => reject.mutate()}>Reject</button>}
          {undoable && !undoing && <button type="button" className="secondary" disabled={busy} onClick={() => setUndoing(true)}>Undo…</button>}
        </div>
      )}
      {undoing && (
        <form
          className="inline"
          aria-label="Undo this match"
          onSubmit={(e) => {
            e.preventDefault();
            undo.mutate();
          }}
        >
          <label style={{ flex: 1, minWidth: 240 }}>
            Why is this match wrong?
            <input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} autoFocus />
          </label>
          <button type="submit" className="danger" disabled={busy}>Undo match</button>
          <button type="button" className="secondary" onClick={() => setUndoing(false)}>Cancel</button>
        </form>
      )}
      {failed && <p role="alert" className="alert error">{failed.fieldErrors?.reason?.[0] ?? failed.message}</p>}
    </article>
  );
}
