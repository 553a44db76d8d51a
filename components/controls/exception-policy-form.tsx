"use client";
import { useState } from "react";
import type { ExceptionPolicy, WriteOffAccount } from "@/server/exceptions/exception-policy";
import { Field, ProposalSubmit, useProposal } from "./proposal";

type Fields = Record<Exclude<keyof ExceptionPolicy, "ageStepDays" | "writeOffAccountId">, string> & { ageStepDays: string; writeOffAccountId: string };

/** Days as typed; anything that is not a whole number reaches the service as NaN and is refused there with the field's message. */
const wholeNumber = (s: string) => (s.trim() === "" ? Number.NaN : Number(s.trim()));

const SLA: [keyof Fields & `slaDays${string}`, string][] = [
  ["slaDaysCritical", "SLA days, critical"],
  ["slaDaysHigh", "SLA days, high"],
  ["slaDaysMedium", "SLA days, medium"],
  ["slaDaysLow", "SLA days, low"],
];

/** Proposes a new exception policy; amounts stay the strings typed, the service checks them. */
export function ExceptionPolicyForm({ current, accounts }: { current: ExceptionPolicy; accounts: WriteOffAccount[] }) {
  const [f, setF] = useState<Fields>({
    amountMedium: current.amountMedium, amountHigh: current.amountHigh, ageStepDays: current.ageStepDays.join(", "),
    slaDaysCritical: String(current.slaDaysCritical), slaDaysHigh: String(current.slaDaysHigh), slaDaysMedium: String(current.slaDaysMedium), slaDaysLow: String(current.slaDaysLow),
    staleSourceDays: String(current.staleSourceDays), writeOffAccountId: current.writeOffAccountId ?? "",
  });
  const [reason, setReason] = useState("");
  const { m, err } = useProposal();
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => setF((p) => ({ ...p, [k]: e.target.value }));
  const e = (k: keyof Fields) => err(`exceptionPolicy.${k}`);
  const submit = () =>
    m.mutate({
      target: "exception_policy",
      reason,
      exceptionPolicy: {
        amountMedium: f.amountMedium, amountHigh: f.amountHigh,
        ageStepDays: f.ageStepDays.split(/[\s,;]+/).filter(Boolean).map(wholeNumber),
        slaDaysCritical: wholeNumber(f.slaDaysCritical), slaDaysHigh: wholeNumber(f.slaDaysHigh), slaDaysMedium: wholeNumber(f.slaDaysMedium), slaDaysLow: wholeNumber(f.slaDaysLow),
        staleSourceDays: wholeNumber(f.staleSourceDays), writeOffAccountId: f.writeOffAccountId || null,
      },
    });
  return (
    <form className="panel proposal" aria-label="Propose an exception policy" onSubmit={(ev) => { ev.preventDefault(); submit(); }}>
      <div className="inline">
        <Field label="Medium from amount" error={e("amountMedium")}>{(a) => <input {...a} value={f.amountMedium} onChange={set("amountMedium")} inputMode="decimal" size={12} required />}</Field>
        <Field label="High from amount" error={e("amountHigh")}>{(a) => <input {...a} value={f.amountHigh} onChange={set("amountHigh")} inputMode="decimal" size={12} required />}</Field>
        <Field label="Age steps (days, comma-separated)" error={e("ageStepDays")}>{(a) => <input {...a} value={f.ageStepDays} onChange={set("ageStepDays")} size={12} placeholder="30, 60" />}</Field>
      </div>
      <div className="inline">
        {SLA.map(([k, label]) => (
          <Field key={k} label={label} error={e(k)}>{(a) => <input {...a} type="number" min={0} max={365} step={1} value={f[k]} onChange={set(k)} required />}</Field>
        ))}
        <Field label="Stale source after (days)" error={e("staleSourceDays")}>{(a) => <input {...a} type="number" min={1} max={365} step={1} value={f.staleSourceDays} onChange={set("staleSourceDays")} required />}</Field>
      </div>
      <div className="inline">
        <Field label="Write-off account" error={e("writeOffAccountId")}>
          {(a) => (
            <select {...a} value={f.writeOffAccountId} onChange={set("writeOffAccountId")}>
              <option value="">None (write-offs are refused)</option>
              {accounts.map((acc) => <option key={acc.id} value={acc.id}>{acc.label}</option>)}
            </select>
          )}
        </Field>
      </div>
      <ProposalSubmit reason={reason} onReason={setReason} error={err("reason")} pending={m.isPending} label="Propose policy change" result={m.data} />
    </form>
  );
}
