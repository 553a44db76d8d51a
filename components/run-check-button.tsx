"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { runTrialBalanceCheckAction } from "@/app/(app)/ledger/actions";

export function RunCheckButton() {
  const router = useRouter();
  const m = useMutation({ mutationFn: () => runTrialBalanceCheckAction({}), onSuccess: (r) => r.ok && router.refresh() });
  return (
    <span className="row">
      <button type="button" className="secondary" disabled={m.isPending} onClick={() => m.mutate()}>{m.isPending ? "Checking…" : "Run check now"}</button>
      {m.data?.ok && m.data.data.queued && <span role="status" className="muted">Queued with Inngest.</span>}
      {m.data && !m.data.ok && <span role="alert" className="field-error">{m.data.message}</span>}
    </span>
  );
}
