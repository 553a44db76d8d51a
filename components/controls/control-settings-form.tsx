"use client";
import { useState } from "react";
import type { ControlSettings } from "@/server/approvals/policy";
import { Field, ProposalSubmit, useProposal } from "./proposal";

/** Proposes how long requests wait and what closed periods do to late postings and imports. */
export function ControlSettingsForm({ current }: { current: ControlSettings }) {
  const [ttl, setTtl] = useState(String(current.requestTtlHours));
  const [postings, setPostings] = useState(current.closedPeriodPostings);
  const [imports, setImports] = useState(current.closedPeriodImports);
  const [reason, setReason] = useState("");
  const { m, err } = useProposal();
  const submit = () =>
    m.mutate({
      target: "control_settings",
      reason,
      settings: { requestTtlHours: ttl.trim() === "" ? Number.NaN : Number(ttl), closedPeriodPostings: postings, closedPeriodImports: imports },
    });
  return (
    <form className="panel proposal" aria-label="Propose control settings" onSubmit={(ev) => { ev.preventDefault(); submit(); }}>
      <div className="inline">
        <Field label="Requests expire after (hours)" error={err("settings.requestTtlHours")}>
          {(a) => <input {...a} type="number" min={1} max={8760} step={1} value={ttl} onChange={(e) => setTtl(e.target.value)} required />}
        </Field>
        <Field label="Automated postings dated in a closed period" error={err("settings.closedPeriodPostings")}>
          {(a) => (
            <select {...a} value={postings} onChange={(e) => setPostings(e.target.value as ControlSettings["closedPeriodPostings"])}>
              <option value="refuse">Refuse them</option>
              <option value="next_open_period">Move them to the next open period</option>
            </select>
          )}
        </Field>
        <Field label="Imported lines dated in a closed period" error={err("settings.closedPeriodImports")}>
          {(a) => (
            <select {...a} value={imports} onChange={(e) => setImports(e.target.value as ControlSettings["closedPeriodImports"])}>
              <option value="refuse">Refuse the file</option>
              <option value="flag">Land them and raise an exception</option>
            </select>
          )}
        </Field>
      </div>
      <ProposalSubmit reason={reason} onReason={setReason} error={err("reason")} pending={m.isPending} label="Propose settings" result={m.data} />
    </form>
  );
}
