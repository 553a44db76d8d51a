import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { exceptionPolicyInput, listWriteOffAccounts, loadExceptionPolicy, policyValues, type CurrentExceptionPolicy, type WriteOffAccount } from "@/server/exceptions/exception-policy";
import { can, requirePermission, type Ctx } from "@/server/tenancy/context";
import { KINDS } from "./executors";
import { controlSettingsInput, loadControlSettings, loadPolicy, policyTiersInput, type ControlSettings, type Policy } from "./policy";
import { expireOverdueRequests, requestApproval, requestReason, validate } from "./requests";

/**
 * The organisation's controls in one place — exception policy, approval tiers per kind, request
 * lifetime and closed-period handling — and the way to change them: a proposal is a
 * `controls_change` request that another approver or admin must approve before anything changes.
 */

export type PendingControlsChange = {
  id: string; targetKey: string; summary: string; makerLabel: string; createdAt: string; expiresAt: string; approvals: number; approvalsRequired: number; version: number;
};

export type OrganisationControls = {
  exceptionPolicy: CurrentExceptionPolicy;
  /** Where a write-off may go (active, non-control accounts), for the policy form. */
  writeOffAccounts: WriteOffAccount[];
  tiers: (Policy & { label: string })[];
  settings: ControlSettings;
  pending: PendingControlsChange[];
  /** Whether this person may propose changes (admins); everyone else reads. */
  canPropose: boolean;
};

export async function loadOrganisationControls(db: Db, ctx: Ctx): Promise<OrganisationControls> {
  requirePermission(ctx, "approvals.read");
  // A request past its lifetime is no longer pending: it must not be listed as waiting.
  await expireOverdueRequests(db, ctx);
  return inOrg(db, ctx, async (tx) => {
    const tiers = [];
    for (const k of KINDS) tiers.push({ ...(await loadPolicy(tx, ctx.orgId, k.kind)), label: k.label });
    const pending = await tx.execute<PendingControlsChange>(sql`
      select q.id, q.target_key as "targetKey", q.summary, q.maker_label as "makerLabel", q.created_at::text as "createdAt", q.expires_at::text as "expiresAt",
             q.approvals_required as "approvalsRequired", q.version,
             (select count(*)::int from approval_decisions d where d.request_id = q.id and d.voided_at is null and d.decision = 'approved') as approvals
      from approval_requests q
      where q.org_id = ${ctx.orgId} and q.kind = 'controls_change' and q.status = 'pending'
      order by q.created_at`);
    return {
      exceptionPolicy: await loadExceptionPolicy(tx, ctx.orgId),
      writeOffAccounts: await listWriteOffAccounts(tx, ctx.orgId),
      tiers,
      settings: await loadControlSettings(tx, ctx.orgId),
      pending: [...pending],
      canPropose: can(ctx.role, "approvals.policy"),
    };
  });
}


/** One proposal changes one thing, so each has its own pending request (its target). */
export const controlsProposalInput = z.discriminatedUnion("target", [
  z.object({ target: z.literal("exception_policy"), exceptionPolicy: exceptionPolicyInput, reason: requestReason }),
  z.object({ target: z.literal("approval_tiers"), policy: z.object({ kind: z.string().min(1).max(50), tiers: policyTiersInput }), reason: requestReason }),
  z.object({ target: z.literal("control_settings"), settings: controlSettingsInput, reason: requestReason }),
]);
export type ControlsProposalInput = z.input<typeof controlsProposalInput>;

export type ControlsProposal = { status: "pending"; requestId: string; version: number; replayed: boolean } | { status: "executed"; requestId: null };

/** The request's target: one pending change per thing changed (the tiers of one kind, the policy, the settings). */
export function controlsTargetKey(p: z.output<typeof controlsProposalInput>): string {
  return p.target === "approval_tiers" ? `policy:${p.policy.kind}` : p.target;
}

/**
 * Submits a proposed change of the controls for approval. The role is checked here and again by
 * requestApproval (the executor's submit permission); the executor refuses what could not apply
 * (an account of another organisation, a change that changes nothing).
 */
export async function proposeControlsChange(db: Db, ctx: Ctx, input: ControlsProposalInput): Promise<ControlsProposal> {
  requirePermission(ctx, "approvals.policy");
  const p = validate(controlsProposalInput, input);
  // The policy is proposed against the one in force now; the executor re-checks that it still is.
  const content =
    p.target === "exception_policy"
      ? { exceptionPolicy: { before: policyValues(await inOrg(db, ctx, (tx) => loadExceptionPolicy(tx, ctx.orgId))), after: p.exceptionPolicy } }
      : p.target === "approval_tiers" ? { policy: p.policy } : { settings: p.settings };
  const r = await requestApproval(db, ctx, { kind: "controls_change", targetKey: controlsTargetKey(p), content, reason: p.reason });
  // "executed" only where an organisation's own tiers for controls changes (set before they had
  // to keep an approver) still let one run at once.
  return r.status === "pending" ? { status: "pending", requestId: r.requestId, version: r.version, replayed: r.replayed } : { status: "executed", requestId: null };
}
