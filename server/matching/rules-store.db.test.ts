import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { addTestMember } from "@/test/approvals";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { runMatching } from "./run-matching";
import { approveRequest } from "@/server/approvals/requests";
import { getRule, listRules, previewRule, type RuleInput } from "./rules-store";
import { proposeRule, proposeRuleEnabled, proposeRuleOrder, type RuleProposal } from "./rule-proposals";
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

/** A proposal is pending until someone other than its maker (an admin here) approves it. */
async function approved(p: Promise<RuleProposal>) {
  const r = await p;
  expect(r.status).toBe("pending");
  const d = await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId!, version: 1 });
  expect(d.status).toBe("executed");
  return d.result as { id: string; version: number };
}
const why = "Bank charges belong in 6000";

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

  it("creating and editing keep every version; rules are ordered, can be disabled, and refuse foreign accounts — each change once approved", async () => {
    const create = (ctx: typeof org.ctx.admin, rule: RuleInput) => proposeRule(t.db, ctx, { rule, reason: why });
    expect(await failureOf(() => create(org.ctx.admin, cardFees("00000000-0000-0000-0000-000000000001")))).toBe("validation");
    expect(await failureOf(() => create(org.ctx.admin, { ...cardFees(org.accounts["6000"]), conditions: [] }))).toBe("validation");
    expect(await failureOf(() => create(org.ctx.accountant, cardFees(org.accounts["6000"])))).toBe("forbidden");
    const a = await approved(create(org.ctx.admin, { ...cardFees(org.accounts["6000"]), enabled: false }));
    const b = await approved(create(org.ctx.admin, { name: "Ignore tiny interest", conditions: [{ op: "contains", field: "description", value: "INTEREST" }], action: { type: "ignore" } }));
    const v2 = await approved(proposeRule(t.db, org.ctx.admin, { id: a.id, rule: { ...cardFees(org.accounts["6000"]), name: "Card fees → bank charges", enabled: false }, reason: why }));
    expect(v2.version).toBe(2);
    const rule = await getRule(t.db, org.ctx.viewer, a.id);
    expect(rule.versions.map((v) => [v.version, v.definition.name])).toEqual([[2, "Card fees → bank charges"], [1, "Card fees are bank charges"]]);
    expect(rule.definition).toMatchObject({ id: a.id, priority: rule.position, enabled: false });
    expect((await listRules(t.db, org.ctx.viewer)).map((r) => r.id)).toEqual([a.id, b.id]);
    await approved(proposeRuleOrder(t.db, org.ctx.admin, { ids: [b.id, a.id], reason: why }));
    expect((await listRules(t.db, org.ctx.viewer)).map((r) => r.id)).toEqual([b.id, a.id]);
    expect(await failureOf(() => proposeRuleOrder(t.db, org.ctx.admin, { ids: [b.id], reason: why }))).toBe("validation");
    expect(await failureOf(() => t.adminDb.execute(sql`update matching_rule_versions set definition = '{}' where rule_id = ${a.id}`))).toBe("matching_rule_versions_append_only");

    // Disabled: the fees stay an exception. Enabled: categorised into a journal draft, once, however often matching re-runs.
    const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
    expect((await run()).counts).toMatchObject({ categorised: 0, unmatched: 2 });
    await approved(proposeRuleEnabled(t.db, org.ctx.admin, { id: a.id, enabled: true, reason: why }));
    expect((await run()).counts).toMatchObject({ categorised: 1, draftsCreated: 1, unmatched: 1, exceptionsResolved: 1 });
    expect((await run()).counts).toMatchObject({ categorised: 1, draftsCreated: 0, unmatched: 1 });
    const drafts = await rowsInOrg<{ description: string; lines: { accountId: string; debit?: string; credit?: string }[] }>(t.db, org, sql`select description, lines from journal_drafts`);
    expect(drafts).toHaveLength(1);
    expect(drafts[0].lines.map((l) => [l.accountId, l.debit ?? null, l.credit ?? null])).toEqual([[org.accounts["1000"], null, "23.1"], [org.accounts["6000"], "23.1", null]]);
    const unmatched = await listUnmatched(t.db, org.ctx.viewer, { sourceId: f.sourceId });
    expect(unmatched.rows.map((u) => u.amount)).toEqual(["11800.0000"]);
  });

  it("a proposed rule is not in effect until someone other than its maker approves it", async () => {
    const p = await proposeRule(t.db, org.ctx.admin, { rule: { name: "Ignore Nordlicht advances", conditions: [{ op: "counterparty", name: "Nordlicht Design GmbH" }], action: { type: "ignore" } }, reason: "Advances are booked at project end" });
    expect(p.status).toBe("pending");
    // A double click is the same request, not a second one.
    expect(await proposeRule(t.db, org.ctx.admin, { rule: { name: "Ignore Nordlicht advances", conditions: [{ op: "counterparty", name: "Nordlicht Design GmbH" }], action: { type: "ignore" } }, reason: "Advances are booked at project end" })).toEqual(p);
    const names = async () => (await listRules(t.db, org.ctx.viewer)).map((r) => r.name);
    expect(await names()).not.toContain("Ignore Nordlicht advances");
    const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
    expect((await run()).counts).toMatchObject({ ignored: 0, unmatched: 1 });
    // The maker holds the admin role, which decides requests, and still cannot approve their own.
    expect(await failureOf(() => approveRequest(t.db, org.ctx.admin, { requestId: p.requestId!, version: 1 }))).toBe("forbidden");
    await approveRequest(t.db, org.ctx.approver, { requestId: p.requestId!, version: 1 });
    expect(await names()).toContain("Ignore Nordlicht advances");
    expect((await run()).counts).toMatchObject({ ignored: 1, unmatched: 0 });
  });

  it("an edit made against a version that moved on meanwhile is refused on approval, and nothing changes", async () => {
    const [rule] = (await listRules(t.db, org.ctx.viewer)).filter((r) => r.name === "Ignore tiny interest");
    const edit = await proposeRule(t.db, org.ctx.admin, { id: rule.id, rule: { name: "Ignore interest", conditions: [{ op: "contains", field: "description", value: "INTEREST" }], action: { type: "ignore" }, enabled: true }, reason: "Clearer name" });
    // Another admin's disabling of the same rule is approved first.
    const admin2 = await addTestMember(t.db, org, "admin", "Second admin");
    await approved(proposeRuleEnabled(t.db, admin2, { id: rule.id, enabled: false, reason: "Interest is matched now" }));
    let message = "";
    try {
      await approveRequest(t.db, org.ctx.approver, { requestId: edit.requestId!, version: 1 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Not approved: the action can no longer run\. The rule was changed after this was proposed/);
    const [after] = (await listRules(t.db, org.ctx.viewer)).filter((r) => r.id === rule.id);
    expect(after).toMatchObject({ name: "Ignore tiny interest", version: rule.version, enabled: false });
    const [req] = await rowsInOrg<{ status: string; decisions: number }>(t.db, org, sql`
      select status, (select count(*)::int from approval_decisions d where d.request_id = q.id) as decisions from approval_requests q where id = ${edit.requestId}`);
    expect(req).toEqual({ status: "pending", decisions: 0 });
  });
});
