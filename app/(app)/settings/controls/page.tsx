import type { Metadata } from "next";
import Link from "next/link";
import { Fragment } from "react";
import { requireActor } from "@/app/_lib/session";
import { db } from "@/app/_lib/db";
import { loadOrganisationControls, type PendingControlsChange } from "@/server/approvals/controls-settings";
import { EXCEPTION_POLICY_LABELS, policyValueText, type ExceptionPolicy } from "@/server/exceptions/exception-policy";
import { ApprovalTiersForm } from "@/components/controls/approval-tiers-form";
import { ControlSettingsForm } from "@/components/controls/control-settings-form";
import { ExceptionPolicyForm } from "@/components/controls/exception-policy-form";

export const metadata: Metadata = { title: "Controls" };

const POSTINGS = { refuse: "Refused", next_open_period: "Moved to the next open period" } as const;
const IMPORTS = { refuse: "The file is refused", flag: "Landed, with an exception raised" } as const;

function Waiting({ request }: { request?: PendingControlsChange }) {
  if (!request) return null;
  return (
    <p className="alert info">
      A proposed change is waiting for approval ({request.approvals} of {request.approvalsRequired}): <Link href={`/approvals/${request.id}`}>{request.summary}</Link>
    </p>
  );
}

export default async function ControlsSettingsPage() {
  const { ctx, current } = await requireActor();
  const c = await loadOrganisationControls(db(), ctx);
  const waitingFor = (targetKey: string) => c.pending.find((p) => p.targetKey === targetKey);
  const policy = c.exceptionPolicy;
  return (
    <>
      <h1>Settings — Controls</h1>
      <p className="muted">
        How {current.orgName} rates exceptions and who must approve what. A change is a proposal with a reason: it applies only when someone other than
        its maker — an approver or another admin — approves it, and the approval request keeps the before and after.
      </p>
      {!c.canPropose && <p className="alert info">Admins propose changes to these controls; your role ({ctx.role}) reads them.</p>}

      <h2>Waiting for approval</h2>
      <div className="table-wrap">
        <table aria-label="Proposed changes waiting for approval">
          <thead><tr><th>Change</th><th>Maker</th><th>Approvals</th><th>Submitted (UTC)</th><th>Expires (UTC)</th></tr></thead>
          <tbody>
            {c.pending.length === 0 && <tr><td colSpan={5} className="muted">No proposed change is waiting.</td></tr>}
            {c.pending.map((p) => (
              <tr key={p.id}>
                <td><Link href={`/approvals/${p.id}`}>{p.summary}</Link></td>
                <td>{p.makerLabel}</td>
                <td>{p.approvals} of {p.approvalsRequired}</td>
                <td>{p.createdAt.slice(0, 16)}</td>
                <td>{p.expiresAt.slice(0, 16)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Exception policy</h2>
      <p className="muted">
        An exception is medium from the first amount and high from the second (by magnitude, in its own currency); each age step it passes raises it one level.
        Its due date is the SLA for its severity. An approved change re-rates the open and snoozed exceptions at once.
      </p>
      <dl className="facts panel" aria-label="Current exception policy">
        {(Object.keys(EXCEPTION_POLICY_LABELS) as (keyof ExceptionPolicy)[]).map((k) => (
          <Fragment key={k}>
            <dt>{EXCEPTION_POLICY_LABELS[k]}</dt>
            <dd data-testid={`policy-${k}`}>{k === "writeOffAccountId" ? (policy.writeOffAccount ?? "none") : policyValueText(policy, k)}</dd>
          </Fragment>
        ))}
        <dt>Version</dt>
        <dd data-testid="policy-version">{policy.version}{policy.updatedBy ? `, proposed by ${policy.updatedBy}, applied ${policy.updatedAt.slice(0, 16)} UTC` : " (the defaults)"}</dd>
      </dl>
      <Waiting request={waitingFor("exception_policy")} />
      {c.canPropose && (
        <details>
          <summary>Propose a change to the exception policy</summary>
          <ExceptionPolicyForm current={policy} accounts={c.writeOffAccounts} />
        </details>
      )}

      <h2>Approval tiers</h2>
      <p className="muted">
        The tier for an amount (in the entity&apos;s functional currency) is the highest one starting at or below it; an action without an amount takes the
        lowest. Approvers are distinct members holding the approver or admin role, never the maker.
      </p>
      <div className="table-wrap">
        <table aria-label="Approval tiers">
          <thead><tr><th>Controlled action</th><th className="num">From amount</th><th>Approvers</th><th>Source</th></tr></thead>
          <tbody>
            {c.tiers.flatMap((k) =>
              k.tiers.map((t, i) => (
                <tr key={`${k.kind}:${t.minAmount}`}>
                  <td>{i === 0 ? k.label : ""}</td>
                  <td className="num">{t.minAmount}</td>
                  <td>{t.approvalsRequired === 0 ? "none (runs at once)" : `${t.approvalsRequired}${t.adminRequired ? ", an admin among them" : ""}`}</td>
                  <td>{i === 0 ? (k.source === "organisation" ? "organisation" : "default") : ""}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      {c.tiers.map((k) => (
        <Fragment key={k.kind}>
          <Waiting request={waitingFor(`policy:${k.kind}`)} />
          {c.canPropose && (
            <details>
              <summary>Propose tiers for “{k.label}”</summary>
              <ApprovalTiersForm kind={k.kind} label={k.label} current={k.tiers} />
            </details>
          )}
        </Fragment>
      ))}

      <h2>Requests and closed periods</h2>
      <dl className="facts panel" aria-label="Current control settings">
        <dt>Requests expire after</dt><dd data-testid="settings-requestTtlHours">{c.settings.requestTtlHours} hours</dd>
        <dt>Automated postings dated in a closed period</dt><dd>{POSTINGS[c.settings.closedPeriodPostings]}</dd>
        <dt>Imported lines dated in a closed period</dt><dd>{IMPORTS[c.settings.closedPeriodImports]}</dd>
      </dl>
      <Waiting request={waitingFor("control_settings")} />
      {c.canPropose && (
        <details>
          <summary>Propose control settings</summary>
          <ControlSettingsForm current={c.settings} />
        </details>
      )}
    </>
  );
}
