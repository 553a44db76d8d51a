"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { createSourceAction, updateSourceAction } from "@/app/(app)/sources/actions";
import type { ActionResult } from "@/app/_lib/action";
import type { AccountRef, EntityRef } from "@/server/ledger/queries";
import type { Provider } from "@/server/ingest/sources";

type Fields = { kind: "bank" | "psp"; name: string; entityId: string; currency: string; accountNumber: string; provider: string; glAccountId: string; webhookSecret?: string };

/** Create or edit a source; the GL account list follows the chosen entity and currency. */
export function SourceForm({ entities, accounts, initial, sourceId, locked }: {
  entities: EntityRef[];
  accounts: AccountRef[];
  initial?: Fields;
  sourceId?: string;
  /** Kind, entity, currency and provider cannot change once the source has imports. */
  locked?: boolean;
}) {
  const router = useRouter();
  const [f, setF] = useState<Fields>(
    initial ?? { kind: "bank", name: "", entityId: entities[0]?.id ?? "", currency: entities[0]?.functionalCurrency ?? "EUR", accountNumber: "", provider: "stripe", glAccountId: "" },
  );
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => setF((prev) => ({ ...prev, [k]: e.target.value }));
  const glAccounts = accounts.filter((a) => a.entityId === f.entityId && a.type === "asset" && a.isActive && a.currency === f.currency);
  const save = useMutation({
    mutationFn: (): Promise<ActionResult<unknown>> => {
      const fields = { ...f, provider: f.kind === "psp" ? (f.provider as Provider) : undefined };
      return sourceId ? updateSourceAction({ id: sourceId, ...fields }) : createSourceAction(fields);
    },
    onSuccess: (r) => {
      if (!r.ok) return;
      if (sourceId) router.refresh();
      else router.push(`/sources/${(r.data as { id: string }).id}`);
    },
  });
  const errors = save.data && !save.data.ok ? save.data.fieldErrors ?? {} : {};
  const err = (k: string) => errors[k]?.[0] && <span className="field-error" id={`${k}-error`}>{errors[k][0]}</span>;
  return (
    <form className="panel" aria-label={sourceId ? "Edit source" : "New source"} onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <div className="inline">
        <label>
          Kind
          <select value={f.kind} onChange={set("kind")} disabled={locked}>
            <option value="bank">Bank account</option>
            <option value="psp">Payment provider</option>
          </select>
        </label>
        <label>
          Name
          <input value={f.name} onChange={set("name")} required aria-invalid={!!errors.name} aria-describedby="name-error" />
          {err("name")}
        </label>
        <label>
          Entity
          <select value={f.entityId} onChange={set("entityId")} disabled={locked}>
            {entities.map((e) => <option key={e.id} value={e.id}>{e.name}</option>)}
          </select>
        </label>
        <label>
          Currency
          <input value={f.currency} onChange={(e) => setF((p) => ({ ...p, currency: e.target.value.toUpperCase() }))} maxLength={3} size={4} disabled={locked} aria-invalid={!!errors.currency} />
          {err("currency")}
        </label>
        {f.kind === "psp" && (
          <label>
            Provider
            <select value={f.provider} onChange={set("provider")} disabled={locked}>
              <option value="stripe">Stripe</option>
              <option value="adyen">Adyen</option>
              <option value="paypal">PayPal</option>
            </select>
          </label>
        )}
        <label>
          {f.kind === "bank" ? "IBAN or account number" : "Merchant account"}
          <input value={f.accountNumber} onChange={set("accountNumber")} />
        </label>
        <label>
          {f.kind === "bank" ? "GL cash account" : "GL clearing account"}
          <select value={f.glAccountId} onChange={set("glAccountId")} required aria-invalid={!!errors.glAccountId}>
            <option value="">Choose…</option>
            {glAccounts.map((a) => <option key={a.id} value={a.id}>{a.code} {a.name}</option>)}
          </select>
          {err("glAccountId")}
        </label>
        {f.kind === "psp" && (
          <label>
            Webhook signing secret from the provider
            <input type="password" autoComplete="off" value={f.webhookSecret ?? ""} onChange={set("webhookSecret")} placeholder={sourceId ? "unchanged" : "generate one"} />
          </label>
        )}
        <button type="submit" disabled={save.isPending}>{save.isPending ? "Saving…" : sourceId ? "Save changes" : "Create source"}</button>
      </div>
      {glAccounts.length === 0 && <p className="muted">No active asset account of this entity is kept in {f.currency || "that currency"}.</p>}
      {save.data && !save.data.ok && <p role="alert" className="alert error">{save.data.message}</p>}
      {save.data?.ok && sourceId && <p role="status" className="alert ok">Saved.</p>}
    </form>
  );
}
