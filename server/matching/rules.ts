import { z } from "zod";
import { DECIMAL_PATTERN } from "@/server/money";

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
