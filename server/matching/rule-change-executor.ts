import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { canonicalJson } from "@/server/canonical-json";
import type { Ctx } from "@/server/tenancy/context";
import type { ContentView, Executor } from "@/server/approvals/registry";
import { actionText, conditionText } from "./rule-text";
import { assertCompleteOrder, checkRule, insertRule, lockRule, lockRuleOrder, ruleInput, ruleOrder, writeRuleEnabled, writeRuleOrder, writeRuleVersion } from "./rules-store";

/**
 * Tenant rules decide, before matching, what is ignored, categorised into journal drafts or given
 * a wider tolerance, so a change to them is a controlled action: each create, edit, enable/disable
 * and reordering is a request holding the exact change, in effect only once someone other than
 * the maker approves it. An edit or a toggle names the version it was made against and is refused
 * if the rule moved on meanwhile; a reordering names the order it started from.
 */

const ruleId = z.string().uuid();

export const ruleChangeContent = z.discriminatedUnion("op", [
  z.object({ op: z.literal("create"), rule: ruleInput }),
  z.object({ op: z.literal("update"), ruleId, baseVersion: z.number().int().min(1), before: ruleInput, rule: ruleInput }),
  z.object({ op: z.literal("enable"), ruleId, baseVersion: z.number().int().min(1), name: z.string(), enabled: z.boolean() }),
  z.object({ op: z.literal("reorder"), before: z.array(ruleId).max(500), after: z.array(ruleId).max(500) }),
]);
export type RuleChangeContent = z.output<typeof ruleChangeContent>;
type RuleDraft = z.output<typeof ruleInput>;

/** Stops a change made against one version of a rule from landing on another. */
async function lockUnchanged(tx: Db, ctx: Ctx, id: string, baseVersion: number, enabled?: boolean) {
  const locked = await lockRule(tx, ctx, id).catch((e) => {
    if (e instanceof AppError && e.code === "not_found") throw new AppError("conflict", "The rule no longer exists; nothing was changed.");
    throw e;
  });
  if (locked.version !== baseVersion || (enabled !== undefined && locked.enabled !== enabled)) {
    throw new AppError("conflict", `The rule was changed after this was proposed (proposed against v${baseVersion}, now v${locked.version}${locked.enabled ? ", enabled" : ", disabled"}); nothing was changed. Propose it again.`);
  }
  return locked;
}

async function lockUnchangedOrder(tx: Db, ctx: Ctx, before: string[]) {
  await lockRuleOrder(tx, ctx.orgId);
  const current = await ruleOrder(tx, ctx.orgId);
  if (canonicalJson(current) !== canonicalJson(before)) throw new AppError("conflict", "The rules were added, removed or reordered after this order was proposed; nothing was changed. Propose it again.");
  return current;
}

/** Account and member names for the ids a rule's action names. */
async function namesFor(tx: Db, ctx: Ctx, drafts: RuleDraft[]): Promise<Map<string, string>> {
  const accounts = drafts.flatMap((d) => (d.action.type === "categorise" ? [d.action.accountId] : [])).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const users = drafts.flatMap((d) => (d.action.type === "assign" ? [d.action.userId] : [])).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const names = new Map<string, string>();
  if (accounts.length) {
    for (const r of await tx.execute<{ id: string; label: string }>(sql`select id, code || ' ' || name as label from accounts where org_id = ${ctx.orgId} and id = any(${`{${accounts.join(",")}}`}::uuid[])`)) names.set(r.id, r.label);
  }
  if (users.length) {
    for (const r of await tx.execute<{ id: string; label: string }>(sql`
      select u.id, coalesce(u.name, u.email) as label from users u join memberships m on m.user_id = u.id and m.org_id = ${ctx.orgId}
      where u.id = any(${`{${users.join(",")}}`}::uuid[])`)) names.set(r.id, r.label);
  }
  return names;
}

const ruleFields = (d: RuleDraft, names: Map<string, string>) => ({
  Name: d.name,
  "Looks at": d.side === "right" ? "ledger lines" : "statement lines",
  Conditions: d.conditions.map(conditionText).join(" and "),
  Action: actionText(d.action, names),
  Status: d.enabled ? "enabled" : "disabled",
});

async function ruleNames(tx: Db, ctx: Ctx, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await tx.execute<{ id: string; name: string }>(sql`select id, name from matching_rules where org_id = ${ctx.orgId} and id = any(${`{${ids.join(",")}}`}::uuid[])`);
  return new Map(rows.map((r) => [r.id, r.name]));
}

const orderText = (ids: string[], names: Map<string, string>) => ids.map((id, i) => `${i + 1}. ${names.get(id) ?? id.slice(0, 8)}`).join("; ");

export const matchingRuleChange: Executor<RuleChangeContent> = {
  kind: "matching_rule_change",
  label: "Change of a matching rule",
  submitPermission: "matching.rules",
  content: ruleChangeContent,
  async describe(tx, ctx, c) {
    const summary =
      c.op === "create" ? `New rule “${c.rule.name}”: ${actionText(c.rule.action)}`
      : c.op === "update" ? `Edit rule “${c.before.name}” (v${c.baseVersion} → v${c.baseVersion + 1})`
      : c.op === "enable" ? `${c.enabled ? "Enable" : "Disable"} rule “${c.name}”`
      : `Reorder ${c.after.length} matching rules`;
    return { entityId: null, effectiveDate: null, amount: null, currency: null, summary };
  },
  outcome: (_r, c) => ({
    text: c.op === "create" ? `Rule ${c.rule.name} is in effect.` : c.op === "update" ? `The new version of rule ${c.rule.name} is in effect.`
      : c.op === "enable" ? `Rule ${c.name} is ${c.enabled ? "enabled" : "disabled"}.` : "The new rule order is in effect.",
    href: "/matches/rules",
  }),
  async present(tx, ctx, c): Promise<ContentView> {
    if (c.op === "reorder") {
      const names = await ruleNames(tx, ctx, c.after);
      return { diff: [{ field: "Order (first runs first)", before: orderText(c.before, names), after: orderText(c.after, names) }] };
    }
    if (c.op === "enable") {
      return { fields: [{ label: "Rule", value: `${c.name} (v${c.baseVersion})` }], diff: [{ field: "Status", before: c.enabled ? "disabled" : "enabled", after: c.enabled ? "enabled" : "disabled" }] };
    }
    const before = c.op === "update" ? c.before : null;
    const names = await namesFor(tx, ctx, before ? [before, c.rule] : [c.rule]);
    const b = before ? ruleFields(before, names) : null;
    const a = ruleFields(c.rule, names);
    const keys = Object.keys(a) as (keyof typeof a)[];
    return {
      ...(c.op === "update" ? { fields: [{ label: "Rule", value: `${c.before.name} (edit of v${c.baseVersion})` }] } : { fields: [{ label: "Rule", value: "a new rule, placed last" }] }),
      // An edit shows what differs (and says so when nothing does); a new rule shows every field.
      diff: keys.filter((k) => !b || b[k] !== a[k]).map((k) => ({ field: k, before: b ? b[k] : "—", after: a[k] })),
    };
  },
  async check(tx, ctx, c) {
    switch (c.op) {
      case "create":
        return checkRule(tx, ctx, c.rule);
      case "update":
        await lockUnchanged(tx, ctx, c.ruleId, c.baseVersion, c.before.enabled);
        return checkRule(tx, ctx, c.rule);
      case "enable":
        await lockUnchanged(tx, ctx, c.ruleId, c.baseVersion, !c.enabled);
        return;
      case "reorder":
        assertCompleteOrder(await lockUnchangedOrder(tx, ctx, c.before), c.after);
        return;
    }
  },
  async execute(tx, ctx, c, request) {
    switch (c.op) {
      case "create":
        return insertRule(tx, ctx, c.rule, request.makerId);
      case "update": {
        const locked = await lockUnchanged(tx, ctx, c.ruleId, c.baseVersion, c.before.enabled);
        return writeRuleVersion(tx, ctx, c.ruleId, locked, c.rule, request.makerId);
      }
      case "enable":
        await lockUnchanged(tx, ctx, c.ruleId, c.baseVersion, !c.enabled);
        await writeRuleEnabled(tx, ctx, c.ruleId, c.enabled);
        return { id: c.ruleId, enabled: c.enabled };
      case "reorder":
        assertCompleteOrder(await lockUnchangedOrder(tx, ctx, c.before), c.after);
        await writeRuleOrder(tx, ctx, c.before, c.after);
        return { order: c.after };
    }
  },
};
