"use client";
import { useState } from "react";
import type { PolicyTier } from "@/server/approvals/policy";
import { Field, ProposalSubmit, useProposal } from "./proposal";

type Row = { minAmount: string; approvalsRequired: string; adminRequired: boolean };

/**
 * Proposes the tiers for one kind of controlled action. Changes to the controls themselves keep at
 * least one approver in every tier (the service refuses fewer), so 0 is not offered there.
 */
export function ApprovalTiersForm({ kind, label, current }: { kind: string; label: string; current: PolicyTier[] }) {
  const [rows, setRows] = useState<Row[]>(current.map((t) => ({ minAmount: t.minAmount, approvalsRequired: String(t.approvalsRequired), adminRequired: t.adminRequired })));
  const [reason, setReason] = useState("");
  const { m, err, errAt } = useProposal();
  const setRow = (i: number, patch: Partial<Row>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const least = kind === "controls_change" ? 1 : 0;
  const submit = () =>
    m.mutate({
      target: "approval_tiers",
      reason,
      policy: { kind, tiers: rows.map((r) => ({ minAmount: r.minAmount, approvalsRequired: Number(r.approvalsRequired), adminRequired: r.adminRequired })) },
    });
  return (
    <form className="panel proposal" aria-label={`Propose approval tiers for ${label}`} onSubmit={(ev) => { ev.preventDefault(); submit(); }}>
      {rows.map((r, i) => (
        <div className="inline" key={i}>
          <Field label={`Tier ${i + 1}: from amount`} error={err(`policy.tiers.${i}.minAmount`)}>
            {(a) => <input {...a} value={r.minAmount} onChange={(e) => setRow(i, { minAmount: e.target.value })} inputMode="decimal" size={12} required />}
          </Field>
          <Field label={`Tier ${i + 1}: approvers`} error={err(`policy.tiers.${i}.approvalsRequired`)}>
            {(a) => (
              <select {...a} value={r.approvalsRequired} onChange={(e) => setRow(i, { approvalsRequired: e.target.value })}>
                {[0, 1, 2, 3, 4, 5].filter((n) => n >= least).map((n) => <option key={n} value={n}>{n === 0 ? "none (runs at once)" : n}</option>)}
              </select>
            )}
          </Field>
          <label className="check">
            <input type="checkbox" checked={r.adminRequired} onChange={(e) => setRow(i, { adminRequired: e.target.checked })} />
            Tier {i + 1}: an admin among them
          </label>
          {err(`policy.tiers.${i}.adminRequired`) && <span className="field-error">{err(`policy.tiers.${i}.adminRequired`)}</span>}
          <button type="button" className="secondary" disabled={rows.length === 1} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>Remove tier {i + 1}</button>
        </div>
      ))}
      {errAt("policy.tiers") && <p className="field-error">{errAt("policy.tiers")}</p>}
      <div className="row" style={{ margin: ".5rem 0" }}>
        <button type="button" className="secondary" disabled={rows.length >= 10} onClick={() => setRows((rs) => [...rs, { minAmount: "", approvalsRequired: "1", adminRequired: false }])}>Add tier</button>
      </div>
      <ProposalSubmit reason={reason} onReason={setReason} error={err("reason")} pending={m.isPending} label="Propose tiers" result={m.data} />
    </form>
  );
}
