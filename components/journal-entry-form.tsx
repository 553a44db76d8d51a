"use client";
import { useMutation } from "@tanstack/react-query";
import Decimal from "decimal.js";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { saveDraftAction, submitDraftAction, submitEntryAction } from "@/app/(app)/ledger/actions";
import type { AccountRef, EntityRef } from "@/server/ledger/queries";

type Line = { accountId: string; debit: string; credit: string; memo: string };
const emptyLine = (): Line => ({ accountId: "", debit: "", credit: "", memo: "" });
type Initial = { draftId?: string; entityId: string; entryDate: string; description: string; lines: Line[] };

/** Totals for display only; the service recomputes and decides. Invalid input counts as zero here. */
function total(values: string[]): Decimal {
  return values.reduce((acc, v) => {
    try {
      return v.trim() ? acc.plus(new Decimal(v.trim())) : acc;
    } catch {
      return acc;
    }
  }, new Decimal(0));
}

export function JournalEntryForm({ entities, accounts, initial }: { entities: EntityRef[]; accounts: AccountRef[]; initial: Initial }) {
  const router = useRouter();
  const [entityId, setEntityId] = useState(initial.entityId);
  const [entryDate, setEntryDate] = useState(initial.entryDate);
  const [description, setDescription] = useState(initial.description);
  const [lines, setLines] = useState<Line[]>(initial.lines.length >= 2 ? initial.lines : [emptyLine(), emptyLine()]);
  const [draftId, setDraftId] = useState(initial.draftId);
  const [reason, setReason] = useState("");
  // One key per opened form: a double click or a retry after a lost response posts once.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const entity = entities.find((e) => e.id === entityId);
  const entityAccounts = accounts.filter((a) => a.entityId === entityId && a.isActive);
  const debits = useMemo(() => total(lines.map((l) => l.debit)), [lines]);
  const credits = useMemo(() => total(lines.map((l) => l.credit)), [lines]);
  const difference = debits.minus(credits);

  const payload = () => ({
    entityId, entryDate, description,
    lines: lines.map((l) => ({ accountId: l.accountId, debit: l.debit || undefined, credit: l.credit || undefined, memo: l.memo || undefined })),
  });
  const post = useMutation({
    mutationFn: async () => {
      if (!draftId) return submitEntryAction({ ...payload(), idempotencyKey, reason: reason || undefined });
      // A draft is saved as shown, then submitted as the draft (a resubmission is a new version of its request).
      const saved = await saveDraftAction({ ...payload(), draftId });
      return saved.ok ? submitDraftAction({ draftId, reason: reason || undefined }) : saved;
    },
    onSuccess: (r) => {
      if (!r.ok) return;
      // Below the policy's lowest tier the entry posts at once; otherwise it waits for approvers.
      if (r.data.status === "executed") router.push(`/ledger/entries/${String(r.data.result.entryId)}`);
      else router.push(`/approvals/${r.data.requestId}`);
    },
  });
  const save = useMutation({
    mutationFn: () => saveDraftAction({ ...payload(), draftId }),
    onSuccess: (r) => {
      if (r.ok) {
        setDraftId(r.data.draftId);
        router.replace(`/ledger/entries/new?draft=${r.data.draftId}`);
      }
    },
  });
  const result = post.data ?? save.data;
  const errors = result && !result.ok ? result.fieldErrors ?? {} : {};
  const err = (path: string) => errors[path]?.[0];
  const setLine = (i: number, patch: Partial<Line>) => setLines((ls) => ls.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  return (
    <form
      aria-label="Journal entry"
      onSubmit={(e) => {
        e.preventDefault();
        post.mutate();
      }}
    >
      <div className="inline panel">
        <label>
          Entity
          <select value={entityId} onChange={(e) => setEntityId(e.target.value)} aria-invalid={!!err("entityId")}>
            {entities.map((e) => <option key={e.id} value={e.id}>{e.name} ({e.functionalCurrency})</option>)}
          </select>
        </label>
        <label>
          Date
          <input type="date" value={entryDate} onChange={(e) => setEntryDate(e.target.value)} required aria-invalid={!!err("entryDate")} />
          {err("entryDate") && <span className="field-error">{err("entryDate")}</span>}
        </label>
        <label style={{ flex: 1, minWidth: 240 }}>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} required aria-invalid={!!err("description")} />
          {err("description") && <span className="field-error">{err("description")}</span>}
        </label>
      </div>
      <div className="table-wrap">
        <table className="lines-grid" aria-label="Entry lines">
          <thead><tr><th>Account</th><th>Memo</th><th className="num">Debit</th><th className="num">Credit</th><th><span className="skip">Remove</span></th></tr></thead>
          <tbody>
            {lines.map((l, i) => (
              <tr key={i}>
                <td>
                  <select aria-label={`Line ${i + 1} account`} value={l.accountId} onChange={(e) => setLine(i, { accountId: e.target.value })} aria-invalid={!!err(`lines.${i}.accountId`)}>
                    <option value="">Choose…</option>
                    {entityAccounts.map((a) => <option key={a.id} value={a.id}>{a.code} {a.name}</option>)}
                  </select>
                  {err(`lines.${i}.accountId`) && <span className="field-error">{err(`lines.${i}.accountId`)}</span>}
                </td>
                <td><input aria-label={`Line ${i + 1} memo`} value={l.memo} onChange={(e) => setLine(i, { memo: e.target.value })} /></td>
                <td>
                  <input aria-label={`Line ${i + 1} debit`} inputMode="decimal" value={l.debit} onChange={(e) => setLine(i, { debit: e.target.value })} aria-invalid={!!err(`lines.${i}.debit`)} />
                  {err(`lines.${i}.debit`) && <span className="field-error">{err(`lines.${i}.debit`)}</span>}
                </td>
                <td>
                  <input aria-label={`Line ${i + 1} credit`} inputMode="decimal" value={l.credit} onChange={(e) => setLine(i, { credit: e.target.value })} aria-invalid={!!err(`lines.${i}.credit`)} />
                  {err(`lines.${i}.credit`) && <span className="field-error">{err(`lines.${i}.credit`)}</span>}
                </td>
                <td>
                  <button type="button" className="secondary" aria-label={`Remove line ${i + 1}`} disabled={lines.length <= 2} onClick={() => setLines((ls) => ls.filter((_, j) => j !== i))}>×</button>
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td><button type="button" className="secondary" onClick={() => setLines((ls) => [...ls, emptyLine()])}>Add line</button></td>
              <td>{difference.isZero() ? <span className="badge ok">balanced</span> : <span className="badge bad" aria-live="polite">difference {difference.abs().toFixed(2)} {entity?.functionalCurrency}</span>}</td>
              <td className="num">{debits.toFixed(2)}</td>
              <td className="num">{credits.toFixed(2)}</td>
              <td></td>
            </tr>
          </tfoot>
        </table>
      </div>
      <label style={{ marginTop: ".75rem" }}>
        Reason for approvers
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Defaults to the description" maxLength={2000} />
      </label>
      {result && !result.ok && <p role="alert" className="alert error">{result.message}</p>}
      {save.data?.ok && <p role="status" className="alert ok">Draft saved.</p>}
      <div className="row" style={{ marginTop: ".75rem" }}>
        <button type="submit" disabled={post.isPending}>{post.isPending ? "Submitting…" : "Submit for approval"}</button>
        <button type="button" className="secondary" disabled={save.isPending} onClick={() => save.mutate()}>{save.isPending ? "Saving…" : "Save draft"}</button>
      </div>
    </form>
  );
}
