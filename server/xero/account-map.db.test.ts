import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, failureOf, rowsInOrg, testDatabase, type TestOrg } from "@/test/db";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { listAccountMap, setAccountMapping } from "./account-map";
import { createSyncJob } from "./sync-job";
import { runSyncJob } from "./sync-runner";
import { addEntity, connectTenants, simCounts, simulatorAndConfig } from "./xero-test-kit";
import { rateBudgetFor } from "./rate-budget";

/**
 * The chart-of-accounts mapping after a real sync against the simulator: what the sync mapped by
 * code, what a person changes (row and audit row), and that a later sync leaves the person's choice.
 */
const t = await testDatabase();
let org: TestOrg;
let other: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;
let tenant: string;
let connectionId: string;
/** Tieout accounts carrying Xero's codes, so the sync maps them by code. */
const ours: Record<string, string> = {};

async function fullSync() {
  const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "full", trigger: "manual" });
  expect((await runSyncJob(t.db, org.orgId, jobId, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
}
const auditRows = () =>
  rowsInOrg<{ actor_label: string; entity_id: string; data: Record<string, unknown> }>(t.db, org, sql`select actor_label, entity_id, data from audit_log where org_id = ${org.orgId} and action = 'xero.account_mapped' order by seq`);
const rowByCode = async (code: string) => (await listAccountMap(t.db, org.ctx.viewer, connectionId)).rows.find((r) => r.code === code)!;

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ timeScale: 50, recordsPerOrg: 50, seed: 5, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db);
  await inOrg(t.db, org.ctx.admin, async (tx) => {
    for (const [code, name, type, normal] of [["200", "Sales", "income", "credit"], ["400", "Advertising", "expense", "debit"], ["404", "Bank fees (closed)", "expense", "debit"]]) {
      const [a] = await tx.execute<{ id: string }>(sql`
        insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${org.orgId}, ${org.entityId}, ${code}, ${name}, ${type}, ${normal}, 'EUR') returning id`);
      ours[code] = a.id;
    }
    await tx.execute(sql`update accounts set is_active = false where id = ${ours["404"]}`);
  });
  tenant = sim.tenantIds()[0];
  const { connectionIds } = await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId: tenant, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  connectionId = connectionIds.get(tenant)!;
  await fullSync();
});
afterAll(() => sim.close());

describe("Xero chart-of-accounts mapping", () => {
  test("after a sync: every Xero account, sorted by code, mapped by code where the entity has that code, the rest unmapped", async () => {
    const map = await listAccountMap(t.db, org.ctx.viewer, connectionId);
    expect(map.rows).toHaveLength(simCounts(sim, tenant).accounts);
    const codes = map.rows.map((r) => r.code);
    expect(codes).toEqual([...codes].sort());
    const sales = map.rows.find((r) => r.code === "200")!;
    expect(sales).toMatchObject({ name: "Sales", type: "REVENUE", status: "ACTIVE", account: { id: ours["200"], code: "200", name: "Sales" }, mappedBy: "code" });
    expect(map.rows.find((r) => r.code === "404")!.account).toEqual({ id: ours["404"], code: "404", name: "Bank fees (closed)" });
    const receivables = map.rows.find((r) => r.code === "120")!;
    expect(receivables).toMatchObject({ name: "Accounts Receivable", account: null, mappedBy: "code" });
    expect(map.counts).toEqual({ mapped: 3, unmapped: map.rows.length - 3, unmappedActive: map.rows.length - 3 });
    // Choices: the entity's active accounts only (the inactive 404 is not offered).
    expect(map.choices.map((c) => c.code)).toEqual(["1000", "1100", "200", "2000", "3000", "400", "4000", "6000"]);
    expect(map.connection).toMatchObject({ tenantName: "Harbour Road Trading Ltd", entityId: org.entityId, entityName: "Test GmbH" });
  });

  test("an admin remaps an account: the row names the person, an audit row says before → after; a later sync keeps it", async () => {
    const sales = await rowByCode("200");
    const res = await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: org.accounts["4000"] });
    expect(res).toEqual({ changed: true, account: { id: org.accounts["4000"], code: "4000", name: "Revenue" } });
    const advertising = await rowByCode("400");
    await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: advertising.xeroAccountId, accountId: null });
    const receivables = await rowByCode("120");
    await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: receivables.xeroAccountId, accountId: org.accounts["1100"] });

    expect(await rowByCode("200")).toMatchObject({ account: { id: org.accounts["4000"], code: "4000" }, mappedBy: "Test admin" });
    expect(await rowByCode("400")).toMatchObject({ account: null, mappedBy: "Test admin" });
    expect(await rowByCode("120")).toMatchObject({ account: { id: org.accounts["1100"] }, mappedBy: "Test admin" });
    const audit = await auditRows();
    expect(audit).toHaveLength(3);
    expect(audit[0]).toMatchObject({
      actor_label: "Test admin",
      entity_id: connectionId,
      data: { xeroAccountId: sales.xeroAccountId, xeroCode: "200", xeroName: "Sales", beforeMappedBy: "code", before: { accountId: ours["200"], code: "200" }, after: { accountId: org.accounts["4000"], code: "4000", name: "Revenue" } },
    });
    expect(audit[1].data).toMatchObject({ xeroCode: "400", before: { code: "400" }, after: null });

    // Someone edits these accounts in Xero: the next sync re-writes them and runs the code mapping
    // over them again (it only sees changed records), which must leave the person's choices alone.
    sim.clock.advance(60_000);
    for (const rec of sim.orgs.get(tenant)!.records.Accounts.values()) {
      if (["200", "400"].includes(rec.body.Code as string)) Object.assign(rec, { updated: sim.clock.now(), body: { ...rec.body, Name: `${rec.body.Name} (edited)` } });
    }
    sim.clock.advance(1000);
    await fullSync();
    expect(await rowByCode("200")).toMatchObject({ name: "Sales (edited)", account: { id: org.accounts["4000"] }, mappedBy: "Test admin" });
    expect(await rowByCode("400")).toMatchObject({ name: "Advertising (edited)", account: null, mappedBy: "Test admin" });
    expect((await listAccountMap(t.db, org.ctx.viewer, connectionId)).counts.mapped).toBe(3);
  });

  test("setting the same account again changes nothing and writes no audit row", async () => {
    const before = (await auditRows()).length;
    const sales = await rowByCode("200");
    expect(await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: org.accounts["4000"] })).toMatchObject({ changed: false });
    const advertising = await rowByCode("400");
    expect(await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: advertising.xeroAccountId, accountId: null })).toMatchObject({ changed: false });
    // The code-mapped inactive account may be kept as it is.
    const fees = await rowByCode("404");
    expect(await setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: fees.xeroAccountId, accountId: ours["404"] })).toMatchObject({ changed: false });
    expect(await rowByCode("404")).toMatchObject({ mappedBy: "code" });
    expect(await auditRows()).toHaveLength(before);
  });

  test("an account of another entity or organisation, an inactive account, or an unknown Xero account is refused", async () => {
    const sales = await rowByCode("200");
    const kauri = await addEntity(t.db, org.ctx.admin, "Kauri GmbH");
    const otherEntity = setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: kauri.bankAccountId });
    await expect(otherEntity).rejects.toMatchObject({ code: "validation", message: expect.stringContaining("Test GmbH"), fieldErrors: { accountId: [expect.any(String)] } });
    await expect(setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: other.accounts["4000"] })).rejects.toMatchObject({ code: "validation" });
    await expect(setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: ours["404"] })).rejects.toMatchObject({ code: "validation", message: expect.stringContaining("inactive") });
    expect(await failureOf(() => setAccountMapping(t.db, org.ctx.admin, { connectionId, xeroAccountId: "not-a-xero-account", accountId: null }))).toBe("not_found");
    expect(await rowByCode("200")).toMatchObject({ account: { id: org.accounts["4000"] } });
  });

  test("accountants and viewers may read but not change the mapping; another organisation's connection is not found", async () => {
    const sales = await rowByCode("200");
    for (const role of ["accountant", "approver", "viewer"] as const) {
      expect(await failureOf(() => setAccountMapping(t.db, org.ctx[role], { connectionId, xeroAccountId: sales.xeroAccountId, accountId: org.accounts["1000"] }))).toBe("forbidden");
      expect((await listAccountMap(t.db, org.ctx[role], connectionId)).rows.length).toBeGreaterThan(0);
    }
    expect(await failureOf(() => listAccountMap(t.db, other.ctx.admin, connectionId))).toBe("not_found");
    expect(await failureOf(() => listAccountMap(t.db, other.ctx.admin, "not-a-uuid"))).toBe("not_found");
    expect(await failureOf(() => setAccountMapping(t.db, other.ctx.admin, { connectionId, xeroAccountId: sales.xeroAccountId, accountId: other.accounts["4000"] }))).toBe("not_found");
    expect(await rowByCode("200")).toMatchObject({ account: { id: org.accounts["4000"] }, mappedBy: "Test admin" });
  });
});
