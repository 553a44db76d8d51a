import { sql } from "drizzle-orm";
import { z } from "zod";
import { appendAudit } from "@/server/audit/append-audit";
import { controlSettingsInput, loadControlSettings, loadPolicy, normaliseTiers, policyTiersInput, type PolicyTier } from "../policy";
import type { Executor } from "../registry";
import { executorFor } from "./index";

export const controlsChangeContent = z
  .object({
    policy: z.object({ kind: z.string().min(1).max(50), tiers: policyTiersInput }).nullable().default(null),
    settings: controlSettingsInput.nullable().default(null),
  })
  .refine((c) => c.policy !== null || c.settings !== null, "Change a policy or the settings");
export type ControlsChangeContent = z.output<typeof controlsChangeContent>;

const tiersText = (tiers: PolicyTier[]) =>
  normaliseTiers(tiers).map((t) => `from ${t.minAmount}: ${t.approvalsRequired === 0 ? "no approval" : `${t.approvalsRequired} approver(s)${t.adminRequired ? ", an admin among them" : ""}`}`).join("; ");

/**
 * Changes to the controls themselves (approval tiers, request lifetime, closed-period handling)
 * are controlled: otherwise one admin could lower a tier to zero and approve nothing.
 */
export const controlsChange: Executor<ControlsChangeContent> = {
  kind: "controls_change",
  label: "Change of approval policy or control settings",
  submitPermission: "approvals.policy",
  content: controlsChangeContent,
  async describe(tx, ctx, c) {
    const parts: string[] = [];
    if (c.policy) {
      const before = await loadPolicy(tx, ctx.orgId, c.policy.kind);
      parts.push(`Policy for ${c.policy.kind}: ${tiersText(c.policy.tiers)} (was: ${tiersText(before.tiers)})`);
    }
    if (c.settings) {
      const before = await loadControlSettings(tx, ctx.orgId);
      const changed = (Object.keys(c.settings) as (keyof typeof c.settings)[]).filter((k) => c.settings![k] !== before[k]).map((k) => `${k}: ${before[k]} → ${c.settings![k]}`);
      parts.push(`Settings: ${changed.join(", ") || "unchanged"}`);
    }
    return { entityId: null, effectiveDate: null, amount: null, currency: null, summary: parts.join(" · ") };
  },
  async present(tx, ctx, c) {
    const diff: { field: string; before: string; after: string }[] = [];
    if (c.policy) {
      const before = await loadPolicy(tx, ctx.orgId, c.policy.kind);
      diff.push({ field: `Approval tiers for ${c.policy.kind}`, before: `${tiersText(before.tiers)}${before.source === "default" ? " (default)" : ""}`, after: tiersText(c.policy.tiers) });
    }
    if (c.settings) {
      const before = await loadControlSettings(tx, ctx.orgId);
      for (const k of Object.keys(c.settings) as (keyof typeof c.settings)[]) diff.push({ field: k, before: String(before[k]), after: String(c.settings[k]) });
    }
    return { diff };
  },
  async check(_tx, _ctx, c) {
    if (c.policy) executorFor(c.policy.kind);
  },
  async execute(tx, ctx, c, request) {
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
    await appendAudit(tx, ctx, [{ action: "controls.changed", entityType: "approval_request", entityId: request.id, data: { policy: c.policy, settings: c.settings } }]);
    return { policy: c.policy?.kind ?? null, settings: c.settings !== null };
  },
};
