import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError } from "@/server/errors";
import {
  accountLabels, applyExceptionPolicy, assertWriteOffAccount, changedPolicyFields, EXCEPTION_POLICY_LABELS, exceptionPolicyChange, loadExceptionPolicy,
  policyValueText, type ExceptionPolicy, type ExceptionPolicyChange, type PolicyApplied,
} from "@/server/exceptions/exception-policy";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { controlSettingsInput, loadControlSettings, loadPolicy, normaliseTiers, policyTiersInput, type ControlSettings, type PolicyTier } from "../policy";
import type { Executor } from "../registry";
import { executorFor } from "./index";

export const controlsChangeContent = z
  .object({
    policy: z.object({ kind: z.string().min(1).max(50), tiers: policyTiersInput }).nullable().default(null),
    settings: controlSettingsInput.nullable().default(null),
    exceptionPolicy: exceptionPolicyChange.nullable().default(null),
  })
  .refine((c) => c.policy !== null || c.settings !== null || c.exceptionPolicy !== null, "Change approval tiers, the control settings or the exception policy");
export type ControlsChangeContent = z.output<typeof controlsChangeContent>;

const tiersText = (tiers: PolicyTier[]) =>
  normaliseTiers(tiers).map((t) => `from ${t.minAmount}: ${t.approvalsRequired === 0 ? "no approval" : `${t.approvalsRequired} approver(s)${t.adminRequired ? ", an admin among them" : ""}`}`).join("; ");

type Diff = { field: string; before: string; after: string };

function settingsDiff(before: ControlSettings, after: ControlSettings): Diff[] {
  return (Object.keys(after) as (keyof ControlSettings)[]).filter((k) => after[k] !== before[k]).map((k) => ({ field: k, before: String(before[k]), after: String(after[k]) }));
}

/** Before → after for each field the proposal changes, from the request itself; the write-off account by its name. */
async function exceptionPolicyDiff(tx: Db, ctx: Ctx, { before, after }: ExceptionPolicyChange): Promise<Diff[]> {
  const fields = changedPolicyFields(before, after);
  const names = fields.includes("writeOffAccountId") ? await accountLabels(tx, ctx.orgId, [before.writeOffAccountId, after.writeOffAccountId]) : new Map<string, string>();
  const text = (p: ExceptionPolicy, k: keyof ExceptionPolicy) => (k === "writeOffAccountId" && p.writeOffAccountId ? (names.get(p.writeOffAccountId) ?? p.writeOffAccountId) : policyValueText(p, k));
  return fields.map((k) => ({ field: EXCEPTION_POLICY_LABELS[k], before: text(before, k), after: text(after, k) }));
}

/**
 * Refuses a change proposed against a policy that has changed since (by SQL, or a request that
 * ran in between): applying it would silently undo the other change's fields.
 */
async function assertUnchangedSince(tx: Db, ctx: Ctx, before: ExceptionPolicy): Promise<void> {
  const now = await loadExceptionPolicy(tx, ctx.orgId);
  const moved = changedPolicyFields(before, now);
  if (moved.length) {
    throw new AppError("conflict", `The exception policy changed after this proposal was made (${moved.map((k) => EXCEPTION_POLICY_LABELS[k]).join(", ")}; now version ${now.version}); propose the change again from the current policy.`);
  }
}

/**
 * Changes to the controls themselves (approval tiers, request lifetime, closed-period handling,
 * the exception policy) are controlled: otherwise one admin could lower a tier to zero and approve
 * nothing, or raise the thresholds until no exception is ever high.
 */
export const controlsChange: Executor<ControlsChangeContent> = {
  kind: "controls_change",
  label: "Change of the controls (approval tiers, settings, exception policy)",
  submitPermission: "approvals.policy",
  content: controlsChangeContent,
  async describe(tx, ctx, c) {
    const parts: string[] = [];
    if (c.policy) {
      const before = await loadPolicy(tx, ctx.orgId, c.policy.kind);
      parts.push(`Policy for ${c.policy.kind}: ${tiersText(c.policy.tiers)} (was: ${tiersText(before.tiers)})`);
    }
    if (c.settings) {
      const changed = settingsDiff(await loadControlSettings(tx, ctx.orgId), c.settings).map((d) => `${d.field}: ${d.before} → ${d.after}`);
      parts.push(`Settings: ${changed.join(", ") || "unchanged"}`);
    }
    if (c.exceptionPolicy) {
      const changed = (await exceptionPolicyDiff(tx, ctx, c.exceptionPolicy)).map((d) => `${d.field}: ${d.before} → ${d.after}`);
      parts.push(`Exception policy: ${changed.join(", ") || "unchanged"}`);
    }
    return { entityId: null, effectiveDate: null, amount: null, currency: null, summary: parts.join(" · ") };
  },
  outcome: () => ({ text: "The new controls are in effect.", href: "/settings/controls" }),
  async present(tx, ctx, c) {
    const diff: Diff[] = [];
    if (c.policy) {
      const before = await loadPolicy(tx, ctx.orgId, c.policy.kind);
      diff.push({ field: `Approval tiers for ${c.policy.kind}`, before: `${tiersText(before.tiers)}${before.source === "default" ? " (default)" : ""}`, after: tiersText(c.policy.tiers) });
    }
    if (c.settings) {
      const before = await loadControlSettings(tx, ctx.orgId);
      for (const k of Object.keys(c.settings) as (keyof typeof c.settings)[]) diff.push({ field: k, before: String(before[k]), after: String(c.settings[k]) });
    }
    if (c.exceptionPolicy) {
      for (const d of await exceptionPolicyDiff(tx, ctx, c.exceptionPolicy)) diff.push({ ...d, field: `Exception policy: ${d.field}` });
    }
    return { diff };
  },
  async check(tx, ctx, c) {
    if (c.policy) {
      executorFor(c.policy.kind);
      // Every later change of the controls would otherwise run on one admin's say.
      if (c.policy.kind === "controls_change" && c.policy.tiers.some((t) => t.approvalsRequired === 0)) {
        throw new AppError("validation", "Changes to the controls always need another person's approval: every tier needs at least one approver.", { "policy.tiers": ["At least one approver in every tier"] });
      }
      const before = await loadPolicy(tx, ctx.orgId, c.policy.kind);
      if (tiersText(before.tiers) === tiersText(c.policy.tiers)) throw new AppError("validation", `Nothing changes: these are the tiers for ${c.policy.kind} already.`);
    }
    if (c.settings && settingsDiff(await loadControlSettings(tx, ctx.orgId), c.settings).length === 0) {
      throw new AppError("validation", "Nothing changes: these are the control settings already.");
    }
    if (c.exceptionPolicy) {
      requirePermission(ctx, "exceptions.policy");
      await assertUnchangedSince(tx, ctx, c.exceptionPolicy.before);
      await assertWriteOffAccount(tx, ctx.orgId, c.exceptionPolicy.after.writeOffAccountId);
      if (changedPolicyFields(c.exceptionPolicy.before, c.exceptionPolicy.after).length === 0) {
        throw new AppError("validation", "Nothing changes: this is the exception policy already.");
      }
    }
  },
  async execute(tx, ctx, c, request) {
    if (c.exceptionPolicy) await assertUnchangedSince(tx, ctx, c.exceptionPolicy.before);
    if (c.policy) {
      await tx.execute(sql`delete from approval_policies where org_id = ${ctx.orgId} and kind = ${c.policy.kind}`);
      for (const t of c.policy.tiers) {
        await tx.execute(sql`
          insert into approval_policies (org_id, kind, min_amount, approvals_required, admin_required, updated_by)
          values (${ctx.orgId}, ${c.policy.kind}, ${t.minAmount}, ${t.approvalsRequired}, ${t.adminRequired}, ${request.makerId})`);
      }
    }
    if (c.settings) {
      await tx.execute(sql`
        insert into control_settings (org_id, request_ttl_hours, closed_period_postings, closed_period_imports)
        values (${ctx.orgId}, ${c.settings.requestTtlHours}, ${c.settings.closedPeriodPostings}, ${c.settings.closedPeriodImports})
        on conflict (org_id) do update set request_ttl_hours = excluded.request_ttl_hours, closed_period_postings = excluded.closed_period_postings,
          closed_period_imports = excluded.closed_period_imports, updated_at = now()`);
    }
    let applied: PolicyApplied | null = null;
    if (c.exceptionPolicy) applied = await applyExceptionPolicy(tx, ctx, c.exceptionPolicy.after, request.makerId);
    await appendAudit(tx, ctx, [{
      action: "controls.changed", entityType: "approval_request", entityId: request.id,
      data: { policy: c.policy, settings: c.settings, ...(c.exceptionPolicy ? { exceptionPolicy: c.exceptionPolicy, exceptionsRerated: applied } : {}) },
    }]);
    return {
      policy: c.policy?.kind ?? null,
      settings: c.settings !== null,
      ...(applied ? { exceptionPolicyVersion: applied.version, severityChanged: applied.severityChanged, dueChanged: applied.dueChanged } : {}),
    };
  },
};
