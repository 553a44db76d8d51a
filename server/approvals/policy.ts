import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { money } from "@/server/money";
import { decimalString } from "@/server/ledger/schemas";

/** One tier: from `minAmount` (inclusive, functional currency) up to the next tier. */
export type PolicyTier = { minAmount: string; approvalsRequired: number; adminRequired: boolean };
export type Policy = { kind: string; tiers: PolicyTier[]; source: "organisation" | "default" };
/** The tier that applied to one request, copied onto it so later policy changes do not move it. */
export type AppliedPolicy = { kind: string; source: Policy["source"]; tier: PolicyTier; amount: string | null; currency: string | null; tiers: PolicyTier[] };

/**
 * Defaults when an organisation has set nothing for a kind. Every manual entry needs one approver:
 * a manual entry is the one way money moves in the books without an outside record behind it, so
 * four eyes on each is the control an auditor expects to find; an organisation with volume can
 * add a tier with 0 approvals below a threshold (that is a policy change, made by an admin).
 */
const JOURNAL_TIERS: PolicyTier[] = [
  { minAmount: "0", approvalsRequired: 1, adminRequired: false },
  { minAmount: "10000", approvalsRequired: 2, adminRequired: false },
  { minAmount: "100000", approvalsRequired: 2, adminRequired: true },
];

export const DEFAULT_POLICIES: Record<string, PolicyTier[]> = {
  manual_journal: JOURNAL_TIERS,
  // A write-off or adjustment of an exception is a journal entry: the same tiers by default.
  exception_adjustment: JOURNAL_TIERS,
  // Many write-offs in one request: the tier is read off the sum of their amounts.
  exception_write_off_bulk: JOURNAL_TIERS,
  period_reopen: [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }],
  // Matching controls: one other person signs off each. A forced match's tier is read off the
  // difference it accepts (in the source's currency, see forced-match-executor.ts); rule and
  // settings changes carry no amount and take this single tier.
  forced_match: [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }],
  matching_rule_change: [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }],
  matching_settings_change: [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }],
};
const FALLBACK: PolicyTier[] = [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }];

export const policyTiersInput = z
  .array(z.object({ minAmount: decimalString.refine((s) => !s.startsWith("-"), "Not negative"), approvalsRequired: z.number().int().min(0).max(5), adminRequired: z.boolean() }))
  .min(1)
  .max(10)
  .superRefine((tiers, ctx) => {
    const mins = tiers.map((t) => money(t.minAmount).toFixed());
    if (new Set(mins).size !== mins.length) ctx.addIssue({ code: "custom", message: "Two tiers start at the same amount" });
    tiers.forEach((t, i) => {
      if (t.adminRequired && t.approvalsRequired === 0) ctx.addIssue({ code: "custom", path: [i, "adminRequired"], message: "An admin among zero approvers is impossible" });
    });
  });

/** Tiers in ascending order; the lowest starts at 0 or the amounts below it need no approval. */
export function normaliseTiers(tiers: PolicyTier[]): PolicyTier[] {
  return [...tiers].map((t) => ({ ...t, minAmount: money(t.minAmount).toFixed() })).sort((a, b) => money(a.minAmount).comparedTo(money(b.minAmount)));
}

/**
 * The tier for an amount: the highest tier starting at or below it. An amount below every tier,
 * or a tier of 0 approvals, means the action runs without approval. A kind without an amount
 * (reopening a period) takes the lowest tier. Amounts compare by magnitude.
 */
export function tierFor(tiers: PolicyTier[], amount: string | null): PolicyTier {
  const sorted = normaliseTiers(tiers);
  if (amount === null) return sorted[0];
  const a = money(amount).abs();
  let found: PolicyTier = { minAmount: "0", approvalsRequired: 0, adminRequired: false };
  for (const t of sorted) if (a.gte(t.minAmount)) found = t;
  return found;
}

export async function loadPolicy(tx: Db, orgId: string, kind: string): Promise<Policy> {
  const rows = await tx.execute<{ min_amount: string; approvals_required: number; admin_required: boolean }>(sql`
    select min_amount::text, approvals_required, admin_required from approval_policies where org_id = ${orgId} and kind = ${kind} order by min_amount`);
  if (rows.length) {
    return { kind, source: "organisation", tiers: normaliseTiers(rows.map((r) => ({ minAmount: r.min_amount, approvalsRequired: r.approvals_required, adminRequired: r.admin_required }))) };
  }
  return { kind, source: "default", tiers: DEFAULT_POLICIES[kind] ?? FALLBACK };
}

export type ControlSettings = { requestTtlHours: number; closedPeriodPostings: "refuse" | "next_open_period"; closedPeriodImports: "refuse" | "flag" };
export const DEFAULT_CONTROL_SETTINGS: ControlSettings = { requestTtlHours: 336, closedPeriodPostings: "refuse", closedPeriodImports: "refuse" };

export const controlSettingsInput = z.object({
  requestTtlHours: z.number().int().min(1).max(8760),
  closedPeriodPostings: z.enum(["refuse", "next_open_period"]),
  closedPeriodImports: z.enum(["refuse", "flag"]),
});

export async function loadControlSettings(tx: Db, orgId: string): Promise<ControlSettings> {
  const [row] = await tx.execute<{ request_ttl_hours: number; closed_period_postings: ControlSettings["closedPeriodPostings"]; closed_period_imports: ControlSettings["closedPeriodImports"] }>(sql`
    select request_ttl_hours, closed_period_postings, closed_period_imports from control_settings where org_id = ${orgId}`);
  return row ? { requestTtlHours: row.request_ttl_hours, closedPeriodPostings: row.closed_period_postings, closedPeriodImports: row.closed_period_imports } : DEFAULT_CONTROL_SETTINGS;
}
