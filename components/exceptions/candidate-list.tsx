"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { acceptAction } from "@/app/(app)/exceptions/actions";
import { SignalBars } from "@/components/matching/match-card";
import type { Candidate, RecordView } from "@/server/exceptions/detail";
import { formatMoney } from "@/server/money";

const FAILED: Record<string, string> = {
  amount: "amount", date: "date window", currency: "currency", reference: "reference", counterparty: "counterparty",
  rejected: "rejected before", taken: "already matched", below_threshold: "confidence too low",
};

/** The record beside its nearest candidates: each with its confidence, signal breakdown and the criterion it failed. */
export function CandidateList({ exceptionId, subject, candidates, counterpartName, canDecide }: {
  exceptionId: string; subject: RecordView; candidates: Candidate[]; counterpartName: string; canDecide: boolean;
}) {
  const router = useRouter();
  const accept = useMutation({ mutationFn: () => acceptAction({ exceptionId }), onSuccess: (r) => r.ok && router.refresh() });
  return (
    <div className="side-by-side">
      <div className="panel" aria-label="The record">
        <h3>The record</h3>
        <RecordLine r={subject} />
      </div>
      <div className="panel" aria-label="Nearest candidates">
        <h3>Nearest in {counterpartName}</h3>
        {candidates.length === 0 && <p className="muted">The run found no candidate in the date window. Search below to match by hand.</p>}
        <ol className="plain">
          {candidates.map((c, i) => (
            <li key={c.id} className="candidate" data-testid="candidate">
              {c.record ? <RecordLine r={c.record} /> : <span className="muted">{c.id} (no longer found)</span>}
              <p>
                <strong>{Math.round(c.confidence * 100)}%</strong>{" "}
                {c.failed.length > 0 && <span className="badge bad">failed: {c.failed.map((f) => FAILED[f] ?? f).join(", ")}</span>}{" "}
                {!c.free && <span className="badge">matched elsewhere since</span>}
              </p>
              <p className="muted">{c.detail}</p>
              {c.signals && <SignalBars signals={c.signals} />}
              {i === 0 && canDecide && c.free && c.failed.every((f) => f === "below_threshold") && (
                <button type="button" disabled={accept.isPending} onClick={() => accept.mutate()}>Accept this match</button>
              )}
            </li>
          ))}
        </ol>
        {accept.data && !accept.data.ok && <p role="alert" className="alert error">{accept.data.message}</p>}
      </div>
    </div>
  );
}

export function RecordLine({ r }: { r: RecordView }) {
  return (
    <div className="record">
      <div className="spread"><span>{r.date}</span><strong>{formatMoney(r.amount, r.currency)} {r.currency}</strong></div>
      <div>{r.counterparty ?? <span className="muted">no counterparty</span>}</div>
      <div className="muted">{[r.reference, r.description].filter(Boolean).join(" · ")}</div>
    </div>
  );
}
