import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { runMatching } from "./run-matching";
import { createRule, getRule, listRules, previewRule, reorderRules, setRuleEnabled, updateRule, type RuleInput } from "./rules-store";
import { listUnmatched } from "./queries";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

const cardFees = (accountId: string): RuleInput => ({
  name: "Card fees are bank charges",
  conditions: [{ op: "counterparty", name: "Deutsche Bank AG" }, { op: "direction", value: "out" }],
  action: { type: "categorise", accountId, memo: "Card fees" },
});

async function tableCounts() {
  const [c] = await rowsInOrg<Record<string, number>>(t.db, org, sql`
    select (select count(*) from matching_rules)::int as rules, (select count(*) from matching_rule_versions)::int as versions,
           (select count(*) from journal_drafts)::int as drafts, (select count(*) from audit_log)::int as audit,
           (select count(*) from match_rule_outcomes)::int as outcomes, (select count(*) from matches)::int as matches`);
  return c;
}

describe("tenant rules", () => {
  it("preview shows what a rule would do over the last 90 days and writes nothing", async () => {
    const before = await tableCounts();
    const p = await previewRule(t.db, org.ctx.admin, { rule: cardFees(org.accounts["6000"]), today: "2026-04-10" });
    expect(p).toMatchObject({ considered: 11, hits: 1, days: 90 });
    expect(p.sample[0].record).toMatchObject({ amount: "-23.1000", counterparty: "DEUTSCHE BANK AG" });
    expect(p.sample[0].action).toMatchObject({ type: "categorise" });
    expect(await tableCounts()).toEqual(before);
    expect(await failureOf(() => previewRule(t.db, org.ctx.accountant, { rule: cardFees(org.accounts["6000"]) }))).toBe("forbidden");
  });

  it("creating and editing keep every version; rules are ordered, can be disabled, and refuse foreign accounts", async () => {
    expect(await failureOf(() => createRule(t.db, org.ctx.admin, cardFees("00000000-0000-0000-0000-000000000001")))).toBe("validation");
    expect(await failureOf(() => createRule(t.db, org.ctx.admin, { ...cardFees(org.accounts["6000"]), conditions: [] }))).toBe("validation");
    expect(await failureOf(() => createRule(t.db, org.ctx.accountant, cardFees(org.accounts["6000"])))).toBe("forbidden");
    const a = await createRule(t.db, org.ctx.admin, { ...cardFees(org.accounts["6000"]), enabled: false });
    const b = await createRule(t.db, org.ctx.admin, { name: "Ignore tiny interest", conditions: [{ op: "contains", field: "description", value: "INTEREST" }], action: { type: "ignore" } });
    const v2 = await updateRule(t.db, org.ctx.admin, a.id, { ...cardFees(org.accounts["6000"]), name: "Card fees → bank charges", enabled: false });
    expect(v2.version).toBe(2);
    const rule = await getRule(t.db, org.ctx.viewer, a.id);
    expect(rule.versions.map((v) => [v.version, v.definition.name])).toEqual([[2, "Card fees → bank charges"], [1, "Card fees are bank charges"]]);
    expect(rule.definition).toMatchObject({ id: a.id, priority: rule.position, enabled: false });
    expect((await listRules(t.db, org.ctx.viewer)).map((r) => r.id)).toEqual([a.id, b.id]);
    await reorderRules(t.db, org.ctx.admin, [b.id, a.id]);
    expect((await listRules(t.db, org.ctx.viewer)).map((r) => r.id)).toEqual([b.id, a.id]);
    expect(await failureOf(() => reorderRules(t.db, org.ctx.admin, [b.id]))).toBe("validation");
    expect(await failureOf(() => t.adminDb.execute(sql`update matching_rule_versions set definition = '{}' where rule_id = ${a.id}`))).toBe("matching_rule_versions_append_only");

    // Disabled: the fees stay an exception. Enabled: categorised into a journal draft, once, however often matching re-runs.
    const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
    expect((await run()).counts).toMatchObject({ categorised: 0, unmatched: 2 });
    await setRuleEnabled(t.db, org.ctx.admin, a.id, true);
    expect((await run()).counts).toMatchObject({ categorised: 1, draftsCreated: 1, unmatched: 1, exceptionsResolved: 1 });
    expect((await run()).counts).toMatchObject({ categorised: 1, draftsCreated: 0, unmatched: 1 });
    const drafts = await rowsInOrg<{ description: string; lines: { accountId: string; debit?: string; credit?: string }[] }>(t.db, org, sql`select description, lines from journal_drafts`);
    expect(drafts).toHaveLength(1);
    expect(drafts[0].lines.map((l) => [l.accountId, l.debit ?? null, l.credit ?? null])).toEqual([[org.accounts["1000"], null, "23.1"], [org.accounts["6000"], "23.1", null]]);
    const unmatched = await listUnmatched(t.db, org.ctx.viewer, { sourceId: f.sourceId });
    expect(unmatched.rows.map((u) => u.amount)).toEqual(["11800.0000"]);
  });
});
