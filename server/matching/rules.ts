import { z } from "zod";
import { DECIMAL_PATTERN } from "@/server/money";
import { AppError } from "@/server/errors";
import { unitsOf } from "./amount-units";
import { counterpartySimilarity, NameBook, normaliseCounterparty, normalOf } from "./normalise-counterparty";
import type { MatchRecord } from "./types";

/**
 * Tenant rules: ordered conditions → actions, run before matching. The shape here is what the
 * database stores (one JSON document per rule version) and what the CLI reads from rules.json.
 */

const decimal = z.string().trim().regex(DECIMAL_PATTERN, "Enter an amount like 1234.56");

export const RULE_FIELDS = ["counterparty", "reference", "description", "externalId", "kind", "currency", "sourceId"] as const;

export const ruleConditionSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("equals"), field: z.enum(RULE_FIELDS), value: z.string().max(500), caseSensitive: z.boolean().optional() }),
  z.object({ op: z.literal("contains"), field: z.enum(RULE_FIELDS), value: z.string().min(1).max(500), caseSensitive: z.boolean().optional() }),
  z.object({ op: z.literal("regex"), field: z.enum(RULE_FIELDS), pattern: z.string().min(1).max(500) }),
  z.object({ op: z.literal("amount_range"), min: decimal.optional(), max: decimal.optional(), absolute: z.boolean().optional() }),
  z.object({ op: z.literal("direction"), value: z.enum(["in", "out"]) }),
  z.object({ op: z.literal("source"), sourceIds: z.array(z.string()).min(1) }),
  z.object({ op: z.literal("counterparty"), name: z.string().min(1).max(200) }),
]);
export type RuleCondition = z.infer<typeof ruleConditionSchema>;

export const ruleActionSchema = z.discriminatedUnion("type", [
  /** Draft a journal entry moving the amount to this account (bank fees, interest). */
  z.object({ type: z.literal("categorise"), accountId: z.string().min(1), memo: z.string().max(200).optional() }),
  /** Leave the record out of matching and out of the exceptions list. */
  z.object({ type: z.literal("ignore") }),
  /** Allow this amount difference (absolute and/or percent) when matching the record. */
  z.object({ type: z.literal("set_tolerance"), absolute: decimal.optional(), percent: decimal.optional() }),
  /** Route the record's exception to this person. */
  z.object({ type: z.literal("assign"), userId: z.string().min(1) }),
]);
export type RuleAction = z.infer<typeof ruleActionSchema>;

export const ruleSchema = z.object({
  id: z.string().min(1),
  name: z.string().trim().min(1).max(120),
  /** Lower runs first; the first rule whose conditions all hold wins a record. */
  priority: z.number().int(),
  /** Which side the rule looks at: the outside world's records (left) or the ledger's (right). */
  side: z.enum(["left", "right"]).default("left"),
  conditions: z.array(ruleConditionSchema).min(1).max(20),
  action: ruleActionSchema,
  enabled: z.boolean().default(true),
});
export type Rule = z.infer<typeof ruleSchema>;

export const rulesFileSchema = z.array(ruleSchema);

/** What a rule did to one record. */
export type RuleOutcome = { ruleId: string; side: "left" | "right"; recordId: string; action: RuleAction };

/**
 * Regular expressions in tenant rules run on every record of every run, so a pattern that can
 * backtrack exponentially ("(a+)+$") would let one rule stall matching for everybody. We refuse
 * such patterns when a rule runs (and when it is saved, through assertSafePattern): no
 * backreferences, no lookaround, and no quantified group that itself contains a quantifier or an
 * alternation, and at most MAX_UNBOUNDED_QUANTIFIERS unbounded repetitions (*, +, {n,}). With
 * those gone, V8's backtracker is at worst polynomial of that degree in the text, and the text a
 * rule sees is cut to RULE_TEXT_LIMIT characters (references and descriptions are shorter), so one
 * test costs at most ~256³ steps. JavaScript cannot interrupt a running RegExp, so a time box
 * would need a worker per test; bounding the pattern is cheaper and decided before the run.
 */
export const RULE_TEXT_LIMIT = 256;
const MAX_UNBOUNDED_QUANTIFIERS = 3;

export function unsafePatternReason(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not allowed";
  if (/\(\?<?[=!]/.test(pattern)) return "lookaround is not allowed";
  // Walk the pattern, tracking for each open group whether it contains a quantifier or "|".
  const stack: boolean[] = [];
  let inClass = false;
  let unbounded = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") stack.push(false);
    else if (c === ")") {
      const risky = stack.pop() ?? false;
      const next = pattern[i + 1];
      if (risky && (next === "*" || next === "+" || next === "{")) return "a repeated group cannot contain a repetition or an alternative (nested quantifiers)";
      if (risky && stack.length > 0) stack[stack.length - 1] = true;
    } else if (c === "*" || c === "+" || c === "{" || c === "|") {
      if (c === "*" || c === "+" || (c === "{" && /^\{\d+,\}/.test(pattern.slice(i, i + 12)))) unbounded++;
      if (stack.length > 0) stack[stack.length - 1] = true;
    }
  }
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) return `at most ${MAX_UNBOUNDED_QUANTIFIERS} unbounded repetitions (*, +, {n,}) are allowed`;
  return null;
}

export function assertSafePattern(pattern: string, ruleId: string): RegExp {
  const reason = unsafePatternReason(pattern);
  if (reason) throw new AppError("validation", `Rule ${ruleId}: the pattern ${JSON.stringify(pattern)} is refused: ${reason}`);
  try {
    return new RegExp(pattern, "i");
  } catch (e) {
    throw new AppError("validation", `Rule ${ruleId}: the pattern ${JSON.stringify(pattern)} is not a valid regular expression (${(e as Error).message})`);
  }
}

type CompiledCondition = (r: MatchRecord) => boolean;

function fieldText(r: MatchRecord, field: (typeof RULE_FIELDS)[number]): string {
  const v = r[field];
  return v == null ? "" : v.length > RULE_TEXT_LIMIT ? v.slice(0, RULE_TEXT_LIMIT) : v;
}

function compileCondition(c: RuleCondition, ruleId: string, names: NameBook): CompiledCondition {
  switch (c.op) {
    case "equals": {
      const want = c.caseSensitive ? c.value.trim() : c.value.trim().toLowerCase();
      return (r) => (c.caseSensitive ? fieldText(r, c.field).trim() : fieldText(r, c.field).trim().toLowerCase()) === want;
    }
    case "contains": {
      const want = c.caseSensitive ? c.value : c.value.toLowerCase();
      return (r) => (c.caseSensitive ? fieldText(r, c.field) : fieldText(r, c.field).toLowerCase()).includes(want);
    }
    case "regex": {
      const re = assertSafePattern(c.pattern, ruleId);
      return (r) => re.test(fieldText(r, c.field));
    }
    case "amount_range": {
      const min = c.min === undefined ? null : unitsOf(c.min, `Rule ${ruleId} minimum`);
      const max = c.max === undefined ? null : unitsOf(c.max, `Rule ${ruleId} maximum`);
      return (r) => {
        const u = unitsOf(r.amount, `Record ${r.id}`);
        const v = c.absolute ? Math.abs(u) : u;
        return (min === null || v >= min) && (max === null || v <= max);
      };
    }
    case "direction":
      return (r) => {
        const u = unitsOf(r.amount, `Record ${r.id}`);
        return c.value === "in" ? u > 0 : u < 0;
      };
    case "source": {
      const ids = new Set(c.sourceIds);
      return (r) => r.sourceId != null && ids.has(r.sourceId);
    }
    case "counterparty": {
      const want = normaliseCounterparty(c.name);
      return (r) => counterpartySimilarity(normalOf(names.of(r.counterparty)), want) >= 0.95;
    }
  }
}

/**
 * Runs the enabled rules of one side over its records: lowest priority first (then rule id, so
 * equal priorities still run in one order), the first rule whose conditions all hold wins the
 * record. "ignore" and "categorise" take the record out of matching; "set_tolerance" and "assign"
 * leave it in (the tolerance then applies to any pair it is part of).
 */
export function applyRules(
  records: MatchRecord[],
  rules: Rule[],
  side: "left" | "right",
  names = new NameBook(),
): { outcomes: RuleOutcome[]; remaining: MatchRecord[]; tolerances: Map<string, { absolute?: string; percent?: string }> } {
  const active = rules
    .filter((r) => r.enabled !== false && (r.side ?? "left") === side)
    .sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((rule) => ({ rule, conditions: rule.conditions.map((c) => compileCondition(c, rule.id, names)) }));
  const outcomes: RuleOutcome[] = [];
  const tolerances = new Map<string, { absolute?: string; percent?: string }>();
  if (active.length === 0) return { outcomes, remaining: records, tolerances };
  const remaining: MatchRecord[] = [];
  for (const record of records) {
    const hit = active.find((a) => a.conditions.every((holds) => holds(record)));
    if (!hit) {
      remaining.push(record);
      continue;
    }
    const action = hit.rule.action;
    outcomes.push({ ruleId: hit.rule.id, side, recordId: record.id, action });
    if (action.type === "set_tolerance") tolerances.set(record.id, { absolute: action.absolute, percent: action.percent });
    if (action.type === "set_tolerance" || action.type === "assign") remaining.push(record);
  }
  return { outcomes, remaining, tolerances };
}
