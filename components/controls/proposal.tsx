"use client";
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, type ReactNode } from "react";
import { proposeControlsChangeAction } from "@/app/(app)/settings/controls/actions";
import type { ActionResult } from "@/app/_lib/action";
import type { ControlsProposal, ControlsProposalInput } from "@/server/approvals/controls-settings";

/** Submits one proposal; the page re-reads its pending list once the request exists. */
export function useProposal() {
  const router = useRouter();
  const m = useMutation({ mutationFn: (input: ControlsProposalInput) => proposeControlsChangeAction(input), onSuccess: (r) => r.ok && router.refresh() });
  const errors = m.data && !m.data.ok ? (m.data.fieldErrors ?? {}) : {};
  /** The first complaint about a field or anything inside it ("ageStepDays" covers "ageStepDays.1"). */
  const err = (path: string) => Object.entries(errors).find(([k]) => k === path || k.startsWith(`${path}.`))?.[1][0];
  /** A complaint about exactly this path (the tiers as a whole, not one tier). */
  const errAt = (path: string) => errors[path]?.[0];
  return { m, err, errAt };
}

/** A labelled control with its error under it; the error is the input's description, not part of its name. */
export function Field({ label, error, children }: { label: string; error?: string; children: (a: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": !!error, "aria-describedby": error ? `${id}-error` : undefined })}
      {error && <span className="field-error" id={`${id}-error`}>{error}</span>}
    </div>
  );
}

/** The end of every proposal form: the reason approvers will read, the submit button, and what became of the proposal. */
export function ProposalSubmit({ reason, onReason, error, pending, label, result }: {
  reason: string; onReason: (v: string) => void; error?: string; pending: boolean; label: string; result?: ActionResult<ControlsProposal>;
}) {
  return (
    <>
      <Field label="Reason for approvers" error={error}>
        {(a) => <textarea {...a} value={reason} onChange={(e) => onReason(e.target.value)} rows={2} required minLength={3} maxLength={2000} />}
      </Field>
      <div className="row" style={{ marginTop: ".5rem" }}>
        <button type="submit" disabled={pending}>{pending ? "Proposing…" : label}</button>
      </div>
      <ProposalOutcome result={result} />
    </>
  );
}

/** What became of the proposal: refused (the service's message), or waiting for someone else, with the way to the request. */
function ProposalOutcome({ result }: { result?: ActionResult<ControlsProposal> }) {
  if (!result) return null;
  if (!result.ok) return <p role="alert" className="alert error">{result.message}</p>;
  if (result.data.status === "executed") return <p role="status" className="alert ok">Applied: this organisation&apos;s tiers let controls changes run without approval.</p>;
  const { requestId, version, replayed } = result.data;
  return (
    <p role="status" className="alert ok">
      {replayed ? "This proposal was already waiting." : version > 1 ? `Your waiting proposal now reads this way (version ${version}); approvals given to the earlier version no longer count.` : "Proposed."}{" "}
      Nothing changes until a second person (an approver or another admin) approves it: <Link href={`/approvals/${requestId}`}>open the approval request</Link>.
    </p>
  );
}
