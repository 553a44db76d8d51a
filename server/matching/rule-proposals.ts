import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { canonicalJson } from "@/server/canonical-json";
import { requestApproval, requestReason, validate, type SubmitResult } from "@/server/approvals/requests";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { matchingRuleChange, type RuleChangeContent } from "./rule-change-executor";
import { lockRule, ruleInput, ruleOrder } from "./rules-store";

/**
 * What an admin does on the rules page: each change becomes a request for approval
 * (rule-change-executor.ts). The current state is read here so the request holds what the change
 * was made against (the version, the order) and the approver sees before and after.
 */

export const proposeRuleInput = z.object({ id: z.string().uuid().optional(), rule: ruleInput, reason: requestReason });
export const proposeRuleEnabledInput = z.object({ id: z.string().uuid(), enabled: z.boolean(), reason: requestReason });
export const proposeRuleOrderInput = z.object({ ids: z.array(z.string().uuid()).max(500), reason: requestReason });

export type RuleProposal = { status: SubmitResult["status"]; requestId: string | null };

async function submit(db: Db, ctx: Ctx, targetKey: string, content: RuleChangeContent, why: string): Promise<RuleProposal> {
  const r = await requestApproval(db, ctx, { kind: matchingRuleChange.kind, targetKey, content, reason: why });
  return { status: r.status, requestId: r.requestId };
}

/** A new rule (no id) or a new version of a rule. */
export async function proposeRule(db: Db, ctx: Ctx, input: z.input<typeof proposeRuleInput>): Promise<RuleProposal> {
  requirePermission(ctx, "matching.rules");
  const p = validate(proposeRuleInput, input);
  if (!p.id) {
    // The same new rule proposed twice (a double click) is one request.
    const digest = createHash("sha256").update(canonicalJson(p.rule)).digest("hex").slice(0, 40);
    return submit(db, ctx, `rule:new:${digest}`, { op: "create", rule: p.rule }, p.reason);
  }
  const id = p.id;
  const current = await inOrg(db, ctx, (tx) => lockRule(tx, ctx, id));
  // One pending edit per rule version and maker; another admin's edit of the same version may wait
  // beside it, and whichever is approved second is refused as stale.
  return submit(db, ctx, `rule:${id}:v${current.version}:edit`, { op: "update", ruleId: id, baseVersion: current.version, before: current.input, rule: p.rule }, p.reason);
}

export async function proposeRuleEnabled(db: Db, ctx: Ctx, input: z.input<typeof proposeRuleEnabledInput>): Promise<RuleProposal> {
  requirePermission(ctx, "matching.rules");
  const p = validate(proposeRuleEnabledInput, input);
  const current = await inOrg(db, ctx, (tx) => lockRule(tx, ctx, p.id));
  return submit(db, ctx, `rule:${p.id}:v${current.version}:${p.enabled ? "enable" : "disable"}`, { op: "enable", ruleId: p.id, baseVersion: current.version, name: current.input.name, enabled: p.enabled }, p.reason);
}

/** The rules named first run first; every rule of the organisation must be named once. */
export async function proposeRuleOrder(db: Db, ctx: Ctx, input: z.input<typeof proposeRuleOrderInput>): Promise<RuleProposal> {
  requirePermission(ctx, "matching.rules");
  const p = validate(proposeRuleOrderInput, input);
  const before = await inOrg(db, ctx, (tx) => ruleOrder(tx, ctx.orgId));
  // Keyed by the order it starts from: a second proposal by the same admin from the same order replaces the first.
  const from = createHash("sha256").update(before.join(",")).digest("hex").slice(0, 40);
  return submit(db, ctx, `rules:order:${from}`, { op: "reorder", before, after: p.ids }, p.reason);
}
