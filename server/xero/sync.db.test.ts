import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { disconnectXeroTenant, listXeroConnections } from "./connections";
import { createSyncJob, cancelSyncJob, retrySyncJob } from "./sync-job";
import { runSyncJob } from "./sync-runner";
import { getSyncJob, listSyncJobs, syncStatistics, importedTransactionSummary } from "./sync-queries";
import { addEntity, connectTenants, heldCounts, simCounts, simLiveMoney, simulatorAndConfig } from "./xero-test-kit";
import { rateBudgetFor } from "./rate-budget";
import { sweepStaleSources } from "@/server/exceptions/stale-sources";
import { todayUtc } from "@/server/jobs/events";
import { addDays } from "@/server/matching/records";

/**
 * Connect → map → full sync → changes in Xero → incremental sync → disconnect, through the real
 * OAuth code path and HTTP client against the simulator, asserting what an auditor would: every
 * Xero record held once, every live bank transaction and payment landed once as a canonical line.
 */
const t = await testDatabase();
let org: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;
let tenant: string;
let connectionId: string;

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ timeScale: 50, recordsPerOrg: 800, seed: 11, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR", journalsEntitled: true }, { name: "Kauri Cafe Group Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  tenant = sim.tenantIds()[0];
  const { connectionIds } = await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId: tenant, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  connectionId = connectionIds.get(tenant)!;
});
afterAll(() => sim.close());

describe("Xero sync", () => {
  test("connect stores the picked organisations; tokens are never stored in the clear", async () => {
    const conns = await listXeroConnections(t.db, org.ctx.viewer);
    expect(conns.map((c) => [c.tenantName, c.status])).toEqual([["Harbour Road Trading Ltd", "active"]]);
    const rows = await t.adminDb.execute<{ a: Buffer; r: Buffer }>(sql`select access_token as a, refresh_token as r from xero_grants where org_id = ${org.orgId}`);
    expect(rows[0].a.toString("latin1")).not.toContain("eyJ");
  });

  test("a full sync copies every record once and lands live bank transactions and payments once", async () => {
    const budget = rateBudgetFor(t.db, config);
    const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "full", trigger: "manual" });
    const outcome = await runSyncJob(t.db, org.orgId, jobId, { config, budget });
    expect(outcome).toEqual({ done: true, status: "succeeded" });
    const held = await heldCounts(t.db, org.ctx.admin, connectionId);
    expect(held.records).toEqual(simCounts(sim, tenant));
    expect(held.canonical).toBe(simLiveMoney(sim, tenant));
    expect(held.canonicalDoubled).toBe(0);
    const job = await getSyncJob(t.db, org.ctx.viewer, jobId);
    expect(job.status).toBe("succeeded");
    const inv = job.progress.find((p) => p.resource === "invoices")!;
    expect(inv.newCount).toBe(simCounts(sim, tenant).invoices);
    expect(inv.pages).toBeGreaterThan(2);
    // Accounts map to the entity's chart by code where the code exists.
    const [mapped] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from xero_account_map where connection_id = ${connectionId}`));
    expect(mapped.n).toBe(simCounts(sim, tenant).accounts);
  });

  test("changes made in Xero arrive with the next incremental sync: new, edited and voided; voiding a landed line raises an exception", async () => {
    sim.clock.advance(60_000);
    const m = sim.mutate(tenant, { edits: 8, creates: 4, voids: 2 });
    sim.clock.advance(1000);
    const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "incremental", trigger: "manual" });
    expect((await runSyncJob(t.db, org.orgId, jobId, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
    const held = await heldCounts(t.db, org.ctx.admin, connectionId);
    expect(held.records).toEqual(simCounts(sim, tenant));
    expect(held.canonicalDoubled).toBe(0);
    const job = await getSyncJob(t.db, org.ctx.viewer, jobId);
    const inv = job.progress.find((p) => p.resource === "invoices")!;
    expect(inv.newCount).toBe(m.created.Invoices!.length);
    expect(inv.updatedCount).toBeGreaterThanOrEqual((m.updated.Invoices?.length ?? 0) + (m.voided.Invoices?.length ?? 0));
    const voidedInvoice = m.voided.Invoices![0];
    const [row] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ status: string }>(sql`select status from xero_records where connection_id = ${connectionId} and xero_id = ${voidedInvoice}`));
    expect(row.status).toBe("VOIDED");
    const exceptions = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ kind: string }>(sql`select kind from exceptions where org_id = ${org.orgId} and kind like 'xero_%'`));
    expect(exceptions.map((e) => e.kind)).toContain("xero_record_voided");
    // Fewer calls than the full sync: only what changed is read.
    const full = (await listSyncJobs(t.db, org.ctx.viewer, { kind: "full" }))[0];
    expect(job.calls).toBeLessThan(full.calls);
  });

  test("a sync that gets through counts as the source delivering: a stale Xero source clears at once, even when Xero had nothing new", async () => {
    const [{ source_id: sourceId }] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ source_id: string }>(sql`select source_id from xero_connections where id = ${connectionId}`));
    const staleOf = async () => (await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ status: string; resolution: string | null }>(sql`select status, resolution from exceptions where kind = 'stale_source' and source_id = ${sourceId}`)))[0];
    const imports = async () => (await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from imports where source_id = ${sourceId}`)))[0].n;
    // Nothing heard for 30 days (as the sweep sees it): the source is stale.
    await sweepStaleSources(t.db, org.system, addDays(todayUtc(), 30));
    expect(await staleOf()).toMatchObject({ status: "open" });
    const before = await imports();
    const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "incremental", trigger: "manual" });
    expect((await runSyncJob(t.db, org.orgId, jobId, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
    expect(await imports()).toBe(before); // nothing new, so nothing landed
    expect(await staleOf()).toMatchObject({ status: "resolved", resolution: "cleared" });
    // And today's sweep finds the source fresh: its last delivery is the sync, not its last import.
    expect(await sweepStaleSources(t.db, org.system, todayUtc())).toMatchObject({ raised: 0 });
  });

  test("one open job per connection; cancel and retry; statistics and the imported-transaction summary", async () => {
    const a = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "incremental", trigger: "webhook" });
    const b = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "incremental", trigger: "webhook" });
    expect(b).toEqual({ jobId: a.jobId, existing: true });
    await cancelSyncJob(t.db, org.ctx.accountant, a.jobId);
    await expect(createSyncJob(t.db, org.ctx.viewer, { connectionId, kind: "full", trigger: "manual" })).rejects.toMatchObject({ code: "forbidden" });
    await retrySyncJob(t.db, org.ctx.accountant, a.jobId);
    expect((await runSyncJob(t.db, org.orgId, a.jobId, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
    const stats = await syncStatistics(t.db, org.ctx.viewer, {});
    expect(stats.jobs.succeeded).toBeGreaterThanOrEqual(3);
    expect(stats.records.invoices).toBe(simCounts(sim, tenant).invoices);
    const summary = await importedTransactionSummary(t.db, org.ctx.viewer, { connectionId });
    expect(summary.total).toBe((await heldCounts(t.db, org.ctx.admin, connectionId)).canonical);
    expect(summary.byType.length).toBeGreaterThan(0);
  });

  test("Journals below the tier: the 401 is reported once and skipped, never asked again", async () => {
    const other = sim.tenantIds()[1];
    const kauri = await addEntity(t.db, org.ctx.admin, "Kauri GmbH");
    const { connectionIds } = await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId: other, entityId: kauri.entityId, glAccountId: kauri.bankAccountId }]);
    const otherId = connectionIds.get(other)!;
    const journalCalls = () => sim.requestLog.filter((r) => r.tenantId === other && r.path.startsWith("/api.xro/2.0/Journals")).length;
    for (const kind of ["full", "incremental"] as const) {
      const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId: otherId, kind, trigger: "manual" });
      expect((await runSyncJob(t.db, org.orgId, jobId, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
      const journals = (await getSyncJob(t.db, org.ctx.viewer, jobId)).progress.find((p) => p.resource === "journals")!;
      expect(journals.status).toBe("skipped");
      expect(journals.note).toMatch(kind === "full" ? /401/ : /not asked again/);
      expect(journalCalls()).toBe(1);
    }
    expect((await heldCounts(t.db, org.ctx.admin, otherId)).records).toEqual(simCounts(sim, other));
  });

  test("disconnect deletes the connection at Xero and revokes the refresh token", async () => {
    const res = await disconnectXeroTenant(t.db, org.ctx.admin, config, connectionId);
    expect(res.revoked).toBe(true);
    expect(sim.snapshot().connections.filter((c) => c.tenantId === tenant)).toEqual([]);
    expect(sim.stats.revocations).toBe(1);
    const [g] = await t.adminDb.execute<{ status: string; n: number }>(sql`select g.status, length(g.refresh_token) as n from xero_grants g join xero_connections c on c.grant_id = g.id where c.id = ${connectionId}`);
    expect(g).toEqual({ status: "revoked", n: 0 });
  });
});
