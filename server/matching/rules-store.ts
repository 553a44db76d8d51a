import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { saveDraft } from "@/server/ledger/drafts";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { addDays, loadLedgerLines, loadTransactions, parseKey, type SourceRow } from "./records";
import { applyRules, ruleActionSchema, ruleConditionSchema, ruleSchema, type Rule, type RuleOutcome } from "./rules";
import type { MatchRecord } from "./types";

/** What a person edits; id and priority come from the rule's row (its position). */
export const ruleInput = z.object({
  name: z.string().trim().min(1, "Name the rule").max(120),
  side: z.enum(["left", "right"]).default("left"),
  conditions: z.array(ruleConditionSchema).min(1, "Add at least one condition").max(20),
  action: ruleActionSchema,
  enabled: z.boolean().default(true),
});
export type RuleInput = z.input<typeof ruleInput>;

export type RuleRow = { id: string; name: string; position: number; enabled: boolean; version: number; definition: Rule; updatedAt: string };
export type RuleVersion = { version: number; definition: Rule; createdBy: string | null; createdAt: string };

function parseRule(input: RuleInput, id: string, position: number): Rule {
  const r = ruleInput.safeParse(input);
  if (!r.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(r.error));
  const rule = ruleSchema.safeParse({ ...r.data, id, priority: position });
  if (!rule.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(rule.error));
  return rule.data;
}

/** A rule's accounts and people must be this organisation's. */
async function assertRuleTargets(tx: Db, ctx: Ctx, rule: Rule) {
  const a = rule.action;
  if (a.type === "categorise") {
    const [acc] = isUuid(a.accountId) ? await tx.execute(sql`select 1 from accounts where org_id = ${ctx.orgId} and id = ${a.accountId} and is_active`) : [];
    if (!acc) throw new AppError("validation", "Some fields need attention.", { "action.accountId": ["Choose an active account of this organisation"] });
  }
  if (a.type === "assign") {
    const [m] = isUuid(a.userId) ? await tx.execute(sql`select 1 from memberships where org_id = ${ctx.orgId} and user_id = ${a.userId}`) : [];
    if (!m) throw new AppError("validation", "Some fields need attention.", { "action.userId": ["Choose a member of this organisation"] });
  }
  for (const c of rule.conditions) {
    if (c.op === "regex") {
      try {
        new RegExp(c.pattern);
      } catch {
        throw new AppError("validation", "Some fields need attention.", { conditions: [`Not a valid pattern: ${c.pattern}`] });
      }
    }
  }
}

export async function listRules(db: Db, ctx: Ctx): Promise<RuleRow[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, (tx) => selectRules(tx, ctx.orgId, false));
}

async function selectRules(tx: Db, orgId: string, enabledOnly: boolean): Promise<RuleRow[]> {
  const rows = await tx.execute<{ id: string; name: string; position: number; enabled: boolean; version: number; definition: Rule; updated_at: Date }>(sql`
    select r.id, r.name, r.position, r.enabled, r.current_version as version, v.definition, r.updated_at
    from matching_rules r join matching_rule_versions v on v.rule_id = r.id and v.version = r.current_version
    where r.org_id = ${orgId} ${enabledOnly ? sql`and r.enabled` : sql``}
    order by r.position, r.created_at`);
  return rows.map((r) => ({ id: r.id, name: r.name, position: r.position, enabled: r.enabled, version: r.version, updatedAt: new Date(r.updated_at).toISOString(), definition: { ...r.definition, id: r.id, priority: r.position, enabled: r.enabled } }));
}

/** The enabled rules in order, as the engine reads them (priority = position). */
export async function loadRulesForRun(tx: Db, orgId: string): Promise<Rule[]> {
  return (await selectRules(tx, orgId, true)).map((r) => r.definition);
}

export async function getRule(db: Db, ctx: Ctx, id: string): Promise<RuleRow & { versions: RuleVersion[] }> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(id)) throw notFound("The rule");
  return inOrg(db, ctx, async (tx) => {
    const rule = (await selectRules(tx, ctx.orgId, false)).find((r) => r.id === id);
    if (!rule) throw notFound("The rule");
    const versions = await tx.execute<{ version: number; definition: Rule; email: string | null; created_at: Date }>(sql`
      select v.version, v.definition, u.email, v.created_at from matching_rule_versions v left join users u on u.id = v.created_by
      where v.org_id = ${ctx.orgId} and v.rule_id = ${id} order by v.version desc`);
    return { ...rule, versions: versions.map((v) => ({ version: v.version, definition: v.definition, createdBy: v.email, createdAt: new Date(v.created_at).toISOString() })) };
  });
}

/*
 * The writes below run only inside the transaction that approves a rule change
 * (rule-change-executor.ts); people propose changes through rule-proposals.ts. `createdBy` is the
 * person who wrote the rule (the maker), the audit names who acted (the approval).
 */

/** Refuses a rule that could not be saved (invalid, or naming another organisation's account or person); writes nothing. */
export async function checkRule(tx: Db, ctx: Ctx, input: RuleInput): Promise<void> {
  await assertRuleTargets(tx, ctx, parseRule(input, "00000000-0000-0000-0000-000000000000", 0));
}

/** The ids of the organisation's rules in run order. */
export async function ruleOrder(tx: Db, orgId: string): Promise<string[]> {
  const rows = await tx.execute<{ id: string }>(sql`select id from matching_rules where org_id = ${orgId} order by position, created_at`);
  return rows.map((r) => r.id);
}

/** Serialises positions: two rules created at once must not take the same place. */
export const lockRuleOrder = (tx: Db, orgId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.rules:' || ${orgId}, 0))`);

/** A new rule, placed last. */
export async function insertRule(tx: Db, ctx: Ctx, input: RuleInput, createdBy: string | null): Promise<{ id: string; version: number }> {
  await lockRuleOrder(tx, ctx.orgId);
  const [{ next }] = await tx.execute<{ next: number }>(sql`select coalesce(max(position), 0) + 10 as next from matching_rules where org_id = ${ctx.orgId}`);
  const [{ id }] = await tx.execute<{ id: string }>(sql`select gen_random_uuid()::text as id`);
  const rule = parseRule(input, id, next);
  await assertRuleTargets(tx, ctx, rule);
  await tx.execute(sql`insert into matching_rules (org_id, id, name, position, enabled, current_version, created_by) values (${ctx.orgId}, ${id}, ${rule.name}, ${next}, ${rule.enabled}, 1, ${createdBy})`);
  await tx.execute(sql`insert into matching_rule_versions (org_id, rule_id, version, definition, created_by) values (${ctx.orgId}, ${id}, 1, ${JSON.stringify(rule)}::jsonb, ${createdBy})`);
  await appendAudit(tx, ctx, [{ action: "matching.rule.created", entityType: "matching_rule", entityId: id, data: { version: 1, definition: rule } }]);
  return { id, version: 1 };
}

export type LockedRule = { position: number; version: number; enabled: boolean; input: z.output<typeof ruleInput> };

/** The rule's row, locked, with its current definition in the form a person edits. */
export async function lockRule(tx: Db, ctx: Ctx, id: string): Promise<LockedRule> {
  if (!isUuid(id)) throw notFound("The rule");
  const [row] = await tx.execute<{ position: number; current_version: number; enabled: boolean; definition: Rule }>(sql`
    select r.position, r.current_version, r.enabled, v.definition from matching_rules r
    join matching_rule_versions v on v.rule_id = r.id and v.version = r.current_version
    where r.org_id = ${ctx.orgId} and r.id = ${id} for update of r`);
  if (!row) throw notFound("The rule");
  const d = row.definition;
  return { position: row.position, version: row.current_version, enabled: row.enabled, input: { name: d.name, side: d.side, conditions: d.conditions, action: d.action, enabled: row.enabled } };
}

/** Editing adds a version; earlier versions stay readable (and runs recorded which version applied). */
export async function writeRuleVersion(tx: Db, ctx: Ctx, id: string, locked: LockedRule, input: RuleInput, createdBy: string | null): Promise<{ id: string; version: number }> {
  const rule = parseRule(input, id, locked.position);
  await assertRuleTargets(tx, ctx, rule);
  const version = locked.version + 1;
  await tx.execute(sql`insert into matching_rule_versions (org_id, rule_id, version, definition, created_by) values (${ctx.orgId}, ${id}, ${version}, ${JSON.stringify(rule)}::jsonb, ${createdBy})`);
  await tx.execute(sql`update matching_rules set name = ${rule.name}, enabled = ${rule.enabled}, current_version = ${version}, updated_at = now() where org_id = ${ctx.orgId} and id = ${id}`);
  await appendAudit(tx, ctx, [{ action: "matching.rule.updated", entityType: "matching_rule", entityId: id, data: { version, definition: rule } }]);
  return { id, version };
}

export async function writeRuleEnabled(tx: Db, ctx: Ctx, id: string, enabled: boolean): Promise<void> {
  await tx.execute(sql`update matching_rules set enabled = ${enabled}, updated_at = now() where org_id = ${ctx.orgId} and id = ${id}`);
  await appendAudit(tx, ctx, [{ action: enabled ? "matching.rule.enabled" : "matching.rule.disabled", entityType: "matching_rule", entityId: id, data: {} }]);
}

/** Every rule of the organisation named exactly once, or a validation error. */
export function assertCompleteOrder(existing: string[], ids: string[]) {
  const known = new Set(existing);
  if (ids.length !== known.size || new Set(ids).size !== ids.length || !ids.every((i) => known.has(i))) {
    throw new AppError("validation", "Name every rule of the organisation exactly once.");
  }
}

/** Sets the order: the rules named first run first (the caller holds lockRuleOrder and checked the list). */
export async function writeRuleOrder(tx: Db, ctx: Ctx, before: string[], ids: string[]): Promise<void> {
  await tx.execute(sql`
    update matching_rules r set position = o.pos * 10, updated_at = now()
    from (select id::uuid, ordinality as pos from unnest(${`{${ids.join(",")}}`}::text[]) with ordinality as u(id, ordinality)) o
    where r.org_id = ${ctx.orgId} and r.id = o.id`);
  await appendAudit(tx, ctx, [{ action: "matching.rules.reordered", entityType: "matching_rule", entityId: null, data: { before, after: ids } }]);
}

export type RulePreview = { considered: number; hits: number; days: number; sample: { record: MatchRecord; action: Rule["action"] }[] };

/**
 * What a rule (saved or not) would do to the last `days` days of records, without writing:
 * left rules look at the organisation's canonical transactions, right rules at the ledger lines
 * on the sources' GL accounts. Runs in a read-only transaction.
 */
export async function previewRule(db: Db, ctx: Ctx, q: { rule: RuleInput; days?: number; today?: string }): Promise<RulePreview> {
  requirePermission(ctx, "matching.rules");
  const days = Math.min(Math.max(q.days ?? 90, 1), 366);
  const today = q.today ?? new Date().toISOString().slice(0, 10);
  const rule = parseRule(q.rule, "00000000-0000-0000-0000-000000000000", 0);
  const range = { from: addDays(today, -days), to: today };
  return inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`set transaction read only`);
    const sources = await tx.execute<SourceRow>(sql`select id, kind, name, currency, gl_account_id, entity_id from sources where org_id = ${ctx.orgId} and archived_at is null order by name`);
    const records: MatchRecord[] = [];
    for (const s of sources) {
      if (records.length >= 50_000) break;
      records.push(...(rule.side === "left"
        ? await loadTransactions(tx, ctx.orgId, s, range, { pairing: null, limit: 50_000 - records.length })
        : await loadLedgerLines(tx, ctx.orgId, s.gl_account_id, range, { free: false, limit: 50_000 - records.length })));
    }
    const { outcomes } = applyRules(records, [{ ...rule, enabled: true }], rule.side);
    const byId = new Map(records.map((r) => [r.id, r]));
    return { considered: records.length, hits: outcomes.length, days, sample: outcomes.slice(0, 50).map((o) => ({ record: byId.get(o.recordId)!, action: o.action })) };
  });
}

export type RuledRecords = { excluded: Set<string>; assignees: Map<string, string>; ignored: number; categorised: number; draftsCreated: number };

/**
 * Persists what the rules did in a run: every outcome as a row; "categorise" on a bank line
 * becomes a journal draft (once per record, however often matching re-runs) moving the amount
 * between the source's GL account and the rule's account; "ignore" and "categorise" take the
 * record out of matching and exceptions; "assign" names who gets its exception.
 */
export async function applyRuleOutcomes(
  tx: Db,
  ctx: Ctx,
  run: { runId: string; source: SourceRow; outcomes: RuleOutcome[]; records: Map<string, MatchRecord>; drafts?: boolean },
): Promise<RuledRecords> {
  const out: RuledRecords = { excluded: new Set(), assignees: new Map(), ignored: 0, categorised: 0, draftsCreated: 0 };
  if (!run.outcomes.length) return out;
  const categorise = run.outcomes.filter((o) => o.action.type === "categorise" && o.side === "left" && o.recordId.startsWith("ct:"));
  const drafted = new Set<string>();
  if (categorise.length) {
    const rows = await tx.execute<{ record_key: string }>(sql`
      select record_key from match_rule_outcomes where org_id = ${ctx.orgId} and draft_id is not null
        and record_key = any(${`{${categorise.map((o) => `"${o.recordId}"`).join(",")}}`}::text[])`);
    for (const r of rows) drafted.add(r.record_key);
  }
  const rows: { rule_id: string; side: string; record_key: string; action: unknown; draft_id: string | null }[] = [];
  for (const o of run.outcomes) {
    let draftId: string | null = null;
    if (o.side === "left") {
      if (o.action.type === "ignore") {
        out.excluded.add(o.recordId);
        out.ignored++;
      } else if (o.action.type === "categorise") {
        out.excluded.add(o.recordId);
        out.categorised++;
        const rec = run.records.get(o.recordId);
        if (rec && (run.drafts ?? true) && o.recordId.startsWith("ct:") && !drafted.has(o.recordId)) {
          draftId = (await saveDraft(tx, ctx, draftFor(run.source, rec, o.action))).draftId;
          drafted.add(o.recordId);
          out.draftsCreated++;
        }
      } else if (o.action.type === "assign") {
        out.assignees.set(o.recordId, o.action.userId);
      }
    }
    if (isUuid(o.ruleId)) rows.push({ rule_id: o.ruleId, side: o.side, record_key: o.recordId, action: o.action, draft_id: draftId });
    parseKey(o.recordId);
  }
  if (rows.length) {
    await tx.execute(sql`
      insert into match_rule_outcomes (org_id, run_id, rule_id, side, record_key, action, draft_id)
      select ${ctx.orgId}, ${run.runId}, rule_id, side, record_key, action, draft_id
      from json_to_recordset(${JSON.stringify(rows)}::json) as r(rule_id uuid, side text, record_key text, action jsonb, draft_id uuid)`);
  }
  return out;
}

/** Cash in: debit the bank account, credit the rule's account; cash out the other way round. */
function draftFor(source: SourceRow, rec: MatchRecord, action: Extract<Rule["action"], { type: "categorise" }>) {
  const amount = money(rec.amount);
  const abs = amount.abs().toFixed();
  const memo = action.memo ?? (rec.counterparty || rec.description || rec.reference || "Categorised by rule");
  const cash = amount.isNeg() ? { accountId: source.gl_account_id, credit: abs, memo } : { accountId: source.gl_account_id, debit: abs, memo };
  const other = amount.isNeg() ? { accountId: action.accountId, debit: abs, memo } : { accountId: action.accountId, credit: abs, memo };
  return {
    entityId: source.entity_id,
    entryDate: rec.date,
    description: `${memo} (${source.name}, ${rec.date})`.slice(0, 500),
    lines: [cash, other].map((l) => ({ ...l, reference: rec.reference ?? undefined, counterparty: rec.counterparty ?? undefined })),
  };
}
