"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { previewRuleAction, reorderRulesAction, saveRuleAction, setRuleEnabledAction } from "@/app/(app)/matches/actions";
import type { Rule, RuleCondition } from "@/server/matching/rules";
import { RULE_FIELDS } from "@/server/matching/rules";

type Account = { id: string; code: string; name: string };
type Member = { userId: string; name: string };
type Draft = { name: string; side: "left" | "right"; conditions: RuleCondition[]; action: Rule["action"]; enabled: boolean };

const OPS = ["contains", "equals", "regex", "counterparty", "direction", "amount_range"] as const;
const blankCondition = (op: (typeof OPS)[number]): RuleCondition =>
  op === "contains" || op === "equals" ? { op, field: "description", value: "" }
  : op === "regex" ? { op, field: "reference", pattern: "" }
  : op === "counterparty" ? { op, name: "" }
  : op === "direction" ? { op, value: "out" }
  : { op: "amount_range" };

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

/**
 * Proposes a new rule or a new version of one, with a live preview of what it would do over the
 * last 90 days. Nothing changes until the proposal is approved by someone else.
 */
export function RuleEditor({ ruleId, initial, accounts, members }: { ruleId?: string; initial?: Draft; accounts: Account[]; members: Member[] }) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const [d, setD] = useState<Draft>(initial ?? { name: "", side: "left", conditions: [blankCondition("contains")], action: { type: "ignore" }, enabled: true });
  const debounced = useDebounced(d, 500);
  const preview = useQuery({
    queryKey: ["rule-preview", debounced],
    queryFn: () => previewRuleAction({ rule: { ...debounced, name: debounced.name || "Preview" } }),
  });
  // The rules page lists the proposal (with its link) under "Waiting for approval".
  const save = useMutation({ mutationFn: () => saveRuleAction({ id: ruleId, rule: d, reason }), onSuccess: (r) => { if (r.ok) { router.push("/matches/rules"); router.refresh(); } } });
  const setCond = (i: number, c: RuleCondition) => setD({ ...d, conditions: d.conditions.map((x, j) => (j === i ? c : x)) });
  const p = preview.data;
  return (
    <form className="panel" aria-label={ruleId ? "Edit rule" : "New rule"} onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <div className="inline">
        <label>Name<input value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} required /></label>
        <label>Looks at<select value={d.side} onChange={(e) => setD({ ...d, side: e.target.value as Draft["side"] })}><option value="left">statement lines</option><option value="right">ledger lines</option></select></label>
        <label className="row" style={{ flexDirection: "row", alignItems: "center" }}><input type="checkbox" checked={d.enabled} onChange={(e) => setD({ ...d, enabled: e.target.checked })} />Enabled</label>
      </div>
      <fieldset className="mapping">
        <legend>When all of these hold</legend>
        {d.conditions.map((c, i) => (
          <div className="inline" key={i}>
            <label>Condition<select aria-label={`Condition ${i + 1}`} value={c.op} onChange={(e) => setCond(i, blankCondition(e.target.value as (typeof OPS)[number]))}>{OPS.map((o) => <option key={o} value={o}>{o.replace("_", " ")}</option>)}</select></label>
            {(c.op === "contains" || c.op === "equals" || c.op === "regex") && (
              <label>Field<select value={c.field} onChange={(e) => setCond(i, { ...c, field: e.target.value as (typeof RULE_FIELDS)[number] })}>{RULE_FIELDS.map((f) => <option key={f}>{f}</option>)}</select></label>
            )}
            {(c.op === "contains" || c.op === "equals") && <label>Text<input aria-label={`Text ${i + 1}`} value={c.value} onChange={(e) => setCond(i, { ...c, value: e.target.value })} /></label>}
            {c.op === "regex" && <label>Pattern<input value={c.pattern} onChange={(e) => setCond(i, { ...c, pattern: e.target.value })} /></label>}
            {c.op === "counterparty" && <label>Name<input aria-label={`Counterparty ${i + 1}`} value={c.name} onChange={(e) => setCond(i, { ...c, name: e.target.value })} /></label>}
            {c.op === "direction" && <label>Direction<select value={c.value} onChange={(e) => setCond(i, { ...c, value: e.target.value as "in" | "out" })}><option value="in">money in</option><option value="out">money out</option></select></label>}
            {c.op === "amount_range" && (
              <>
                <label>Min<input value={c.min ?? ""} onChange={(e) => setCond(i, { ...c, min: e.target.value || undefined })} /></label>
                <label>Max<input value={c.max ?? ""} onChange={(e) => setCond(i, { ...c, max: e.target.value || undefined })} /></label>
                <label className="row" style={{ flexDirection: "row", alignItems: "center" }}><input type="checkbox" checked={c.absolute ?? false} onChange={(e) => setCond(i, { ...c, absolute: e.target.checked })} />absolute</label>
              </>
            )}
            {d.conditions.length > 1 && <button type="button" className="secondary" onClick={() => setD({ ...d, conditions: d.conditions.filter((_, j) => j !== i) })}>Remove</button>}
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => setD({ ...d, conditions: [...d.conditions, blankCondition("contains")] })}>Add condition</button>
      </fieldset>
      <fieldset className="mapping">
        <legend>Then</legend>
        <div className="inline">
          <label>Action
            <select value={d.action.type} onChange={(e) => {
              const t = e.target.value;
              setD({ ...d, action: t === "categorise" ? { type: "categorise", accountId: accounts[0]?.id ?? "" } : t === "assign" ? { type: "assign", userId: members[0]?.userId ?? "" } : t === "set_tolerance" ? { type: "set_tolerance", absolute: "1.00" } : { type: "ignore" } });
            }}>
              <option value="ignore">ignore (leave out of matching and exceptions)</option>
              <option value="categorise">categorise (draft a journal entry)</option>
              <option value="set_tolerance">allow an amount difference</option>
              <option value="assign">assign the exception</option>
            </select>
          </label>
          {d.action.type === "categorise" && (
            <>
              <label>Account<select value={d.action.accountId} onChange={(e) => setD({ ...d, action: { ...d.action, accountId: e.target.value } as Rule["action"] })}>{accounts.map((a) => <option key={a.id} value={a.id}>{a.code} {a.name}</option>)}</select></label>
              <label>Memo<input value={d.action.memo ?? ""} onChange={(e) => setD({ ...d, action: { ...d.action, memo: e.target.value || undefined } as Rule["action"] })} /></label>
            </>
          )}
          {d.action.type === "set_tolerance" && (
            <>
              <label>Absolute<input value={d.action.absolute ?? ""} onChange={(e) => setD({ ...d, action: { ...d.action, absolute: e.target.value || undefined } as Rule["action"] })} /></label>
              <label>Percent<input value={d.action.percent ?? ""} onChange={(e) => setD({ ...d, action: { ...d.action, percent: e.target.value || undefined } as Rule["action"] })} /></label>
            </>
          )}
          {d.action.type === "assign" && <label>Person<select value={d.action.userId} onChange={(e) => setD({ ...d, action: { type: "assign", userId: e.target.value } })}>{members.map((m) => <option key={m.userId} value={m.userId}>{m.name}</option>)}</select></label>}
        </div>
      </fieldset>
      <section aria-label="Rule preview" className="panel">
        <strong>Preview, last 90 days: </strong>
        {preview.isFetching && <span className="muted">checking…</span>}
        {p && !p.ok && <span className="muted">{Object.values(p.fieldErrors ?? {})[0]?.[0] ?? p.message}</span>}
        {p?.ok && <span data-testid="preview-hits">{p.data.hits} of {p.data.considered} records would be affected.</span>}
        {p?.ok && p.data.sample.length > 0 && (
          <table aria-label="Records the rule would affect">
            <thead><tr><th>Date</th><th>Counterparty</th><th>Text</th><th className="num">Amount</th><th>Action</th></tr></thead>
            <tbody>{p.data.sample.map((s) => <tr key={s.record.id}><td>{s.record.date}</td><td>{s.record.counterparty}</td><td>{s.record.reference ?? s.record.description}</td><td className="num">{s.record.amount}</td><td>{s.action.type}</td></tr>)}</tbody>
          </table>
        )}
      </section>
      <div className="row">
        <label>Reason for approvers<input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} /></label>
        <button type="submit" disabled={save.isPending}>{ruleId ? "Propose as new version" : "Propose rule"}</button>
        {save.data && !save.data.ok && <span role="alert" className="field-error">{Object.entries(save.data.fieldErrors ?? {}).map(([k, v]) => `${k}: ${v[0]}`).join("; ") || save.data.message}</span>}
      </div>
    </form>
  );
}

type Change = { kind: "up" | "down" | "toggle"; label: string };

/** Move and enable/disable, each proposed with a reason for the approvers. */
export function RuleListControls({ id, name, enabled, order, index }: { id: string; name: string; enabled: boolean; order: string[]; index: number }) {
  const router = useRouter();
  const [change, setChange] = useState<Change | null>(null);
  const [reason, setReason] = useState("");
  const propose = useMutation({
    mutationFn: (c: Change) => {
      if (c.kind === "toggle") return setRuleEnabledAction({ id, enabled: !enabled, reason });
      const ids = [...order];
      const [x] = ids.splice(index, 1);
      ids.splice(index + (c.kind === "up" ? -1 : 1), 0, x);
      return reorderRulesAction({ ids, reason });
    },
    onSuccess: (r) => { if (r.ok) { setChange(null); setReason(""); router.refresh(); } },
  });
  const done = propose.data?.ok ? propose.data.data : null;
  return (
    <span className="row">
      <button type="button" className="secondary" disabled={index === 0} onClick={() => setChange({ kind: "up", label: `Move “${name}” up` })} aria-label="Move up">↑</button>
      <button type="button" className="secondary" disabled={index === order.length - 1} onClick={() => setChange({ kind: "down", label: `Move “${name}” down` })} aria-label="Move down">↓</button>
      <button type="button" className="secondary" onClick={() => setChange({ kind: "toggle", label: `${enabled ? "Disable" : "Enable"} “${name}”` })}>{enabled ? "Disable…" : "Enable…"}</button>
      {change && (
        <form className="inline" aria-label={change.label} onSubmit={(e) => { e.preventDefault(); propose.mutate(change); }}>
          <label>Reason for approvers<input value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} autoFocus /></label>
          <button type="submit" disabled={propose.isPending}>Propose</button>
          <button type="button" className="secondary" onClick={() => setChange(null)}>Cancel</button>
          {propose.data && !propose.data.ok && <span role="alert" className="field-error">{propose.data.fieldErrors?.reason?.[0] ?? propose.data.message}</span>}
        </form>
      )}
      {done?.requestId && <span role="status">Waiting for approval: <Link href={`/approvals/${done.requestId}`}>the request</Link></span>}
    </span>
  );
}
