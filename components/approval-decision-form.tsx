"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { approveAction, rejectAction, withdrawAction } from "@/app/(app)/approvals/actions";

/**
 * Approve or reject one version of a request; the version is the one this page showed.
 * The page keeps this mounted after the decision (open turns false once the refreshed request
 * is no longer the viewer's to decide) so the outcome stays on screen instead of vanishing
 * with the buttons.
 */
export function ApprovalDecisionForm({ requestId, version, open }: { requestId: string; version: number; open: boolean }) {
  const router = useRouter();
  const [comment, setComment] = useState("");
  const m = useMutation({
    mutationFn: (decision: "approve" | "reject") => (decision === "approve" ? approveAction : rejectAction)({ requestId, version, comment }),
    onSuccess: (r) => {
      if (r.ok) router.refresh();
    },
  });
  const result = m.data;
  const outcome = result?.ok && (
    <p role="status" className="alert ok">
      {result.data.status === "executed" ? "Approved and executed." : result.data.status === "rejected" ? "Rejected." : `Approved: ${result.data.approvals} of ${result.data.required}${result.data.adminMissing ? ", an admin is still needed" : ""}.`}
    </p>
  );
  if (!open) return outcome || null;
  return (
    <form className="panel" aria-label="Decide this request" onSubmit={(e) => e.preventDefault()}>
      <label>
        Comment
        <textarea value={comment} onChange={(e) => setComment(e.target.value)} rows={2} maxLength={2000} placeholder="Required to reject" />
      </label>
      <div className="row" style={{ marginTop: ".5rem" }}>
        <button type="button" disabled={m.isPending} onClick={() => m.mutate("approve")}>Approve</button>
        <button type="button" className="danger" disabled={m.isPending} onClick={() => m.mutate("reject")}>Reject</button>
      </div>
      {result && !result.ok && <p role="alert" className="alert error">{result.fieldErrors?.comment?.[0] ?? result.message}</p>}
      {outcome}
    </form>
  );
}

export function WithdrawButton({ requestId }: { requestId: string }) {
  const router = useRouter();
  const m = useMutation({ mutationFn: () => withdrawAction({ requestId }), onSuccess: (r) => r.ok && router.refresh() });
  return (
    <>
      <button type="button" className="secondary" disabled={m.isPending} onClick={() => m.mutate()}>Withdraw request</button>
      {m.data && !m.data.ok && <p role="alert" className="alert error">{m.data.message}</p>}
    </>
  );
}
