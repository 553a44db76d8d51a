import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import { connect } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { accessTokenFor } from "./grant-tokens";
import { rateBudgetFor } from "./rate-budget";
import { createSyncJob } from "./sync-job";
import { listSyncJobs } from "./sync-queries";
import { runSyncJob } from "./sync-runner";
import { XeroApi } from "./xero-client";
import { addEntity, connectTenants, heldCounts, simCounts, simLiveMoney, simulatorAndConfig } from "./xero-test-kit";

/**
 * Fault tests against the simulator, each printing its figures. Time is compressed: the simulator
 * and the client's budget share a time scale, so "60 calls a minute" is enforced and checked with a
 * minute of 3 s of wall time (timeScale 20), and Retry-After seconds are
 * Xero seconds on the same scale. Every limit is checked on the simulator's side, on arrival.
 */
const t = await testDatabase({ max: 12 });

/** Most calls that arrived in any window of `windowMs` (simulated), for one tenant or (`"app"`) every tenant's API calls together. */
function maxPerWindow(sim: XeroSimulator, tenantId: string | "app", windowMs = 60_000): number {
  const at = sim.requestLog.filter((r) => (tenantId === "app" ? r.tenantId !== null : r.tenantId === tenantId)).map((r) => r.at).sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/**
 * A fresh organisation connected to every tenant of the simulator with one consent (one token set,
 * its grant shared by all the connections): the first tenant maps to the organisation's entity,
 * each other one to an entity of its own.
 */
async function connectEveryTenant(sim: XeroSimulator, config: XeroConfig) {
  const org = await createTestOrg(t.db);
  const maps = [{ tenantId: sim.tenantIds()[0], entityId: org.entityId, glAccountId: org.accounts["1000"] }];
  for (const [i, tenantId] of sim.tenantIds().slice(1).entries()) {
    const e = await addEntity(t.db, org.ctx.admin, `Entity ${i + 2}`);
    maps.push({ tenantId, entityId: e.entityId, glAccountId: e.bankAccountId });
  }
  const { connectionIds } = await connectTenants(t.db, org.ctx.admin, sim, config, maps);
  const [{ grant_id: grantId }] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ grant_id: string }>(sql`select grant_id from xero_connections where id = ${connectionIds.get(maps[0].tenantId)!}`));
  return { org, connectionIds, grantId };
}

describe("5 tenants × 2,000 records with 429s, 5xx, resets, malformed pages and a token expiring mid-sync", () => {
  let sim: XeroSimulator;
  let config: XeroConfig;
  let org: TestOrg;
  const tenants: { tenantId: string; connectionId: string }[] = [];

  beforeAll(async () => {
    ({ sim, config } = await simulatorAndConfig({
      timeScale: 20, recordsPerOrg: 2200, seed: 21, pageSize: 25,
      orgs: ["Harbour Road Trading Ltd", "Kauri Cafe Group Ltd", "Totara Logistics Ltd", "Matai Design Studio", "Rimu Plumbing & Co"].map((name, i) => ({ name, baseCurrency: "EUR", journalsEntitled: i === 0 })),
    }));
    // One consent for all five organisations: one token set shared by five concurrent syncs.
    let connectionIds: Map<string, string>;
    ({ org, connectionIds } = await connectEveryTenant(sim, config));
    for (const [tenantId, connectionId] of connectionIds) tenants.push({ tenantId, connectionId });
  });
  afterAll(() => sim.close());

  test("0 lost, 0 duplicated, never over 60 a minute or 5 concurrent per tenant, every Retry-After honoured", async () => {
    for (const kind of ["500", "503", "reset", "malformed"] as const) sim.addFault({ kind, path: "/api.xro/", probability: 0.025 });
    sim.addFault({ kind: "429", path: "/api.xro/", probability: 0.03, retryAfterS: 4 });
    sim.addFault({ kind: "slow", path: "/api.xro/", probability: 0.01, delayMs: 150 });
    sim.addFault({ kind: "expire-token", path: "/Invoices", times: 1 });
    const budget = rateBudgetFor(t.db, config);
    const retries: Record<string, number> = {};
    const started = performance.now();
    const outcomes = await Promise.all(
      tenants.map(async ({ connectionId }) => {
        const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "full", trigger: "manual" });
        return runSyncJob(t.db, org.orgId, jobId, { config, budget, onRetry: (e) => void (retries[e.reason.replace(/\d{3} /, (m) => m)] = (retries[e.reason] ?? 0) + 1) });
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(outcomes.map((o) => o.status)).toEqual(tenants.map(() => "succeeded"));

    const figures = [];
    for (const { tenantId, connectionId } of tenants) {
      const held = await heldCounts(t.db, org.ctx.admin, connectionId);
      const expected = simCounts(sim, tenantId);
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      const heldTotal = Object.values(held.records).reduce((a, b) => a + b, 0);
      const lost = Object.entries(expected).reduce((n, [r, c]) => n + Math.max(0, c - (held.records[r] ?? 0)), 0);
      figures.push({
        tenant: sim.orgs.get(tenantId)!.name, records: total, held: heldTotal, lost, duplicated: held.canonicalDoubled + Math.max(0, heldTotal - total),
        canonical: held.canonical, expectedCanonical: simLiveMoney(sim, tenantId), maxCallsPerMinute: maxPerWindow(sim, tenantId), peakConcurrent: sim.tenantPeaks()[tenantId].peakInFlight,
        calls: sim.requestLog.filter((r) => r.tenantId === tenantId).length,
      });
      expect(held.records).toEqual(expected);
      expect(held.canonical).toBe(simLiveMoney(sim, tenantId));
      expect(held.canonicalDoubled).toBe(0);
      expect(maxPerWindow(sim, tenantId)).toBeLessThanOrEqual(60);
      expect(sim.tenantPeaks()[tenantId].peakInFlight).toBeLessThanOrEqual(5);
    }
    console.table(figures);
    console.log(`[faults] ${seconds.toFixed(1)} s wall (minute = ${(60 / config.timeScale).toFixed(1)} s); faults fired ${JSON.stringify(sim.stats.faultsFired)}; limit 429s the client caused ${JSON.stringify(sim.stats.limitBreaches)}; Retry-After violations ${sim.stats.retryAfterViolations}; refresh calls ${sim.stats.refreshCalls}, invalid_grant ${sim.stats.invalidGrants}; client retries ${JSON.stringify(retries)}`);
    expect(sim.stats.faultsFired["429"]).toBeGreaterThan(0);
    expect(sim.stats.faultsFired["expire-token"]).toBe(1);
    expect(sim.stats.limitBreaches).toEqual({});
    expect(sim.stats.retryAfterViolations).toBe(0);
    expect(sim.stats.invalidGrants).toBe(0);
    // The five jobs hit the expired token together; one refresh served them all.
    expect(sim.stats.refreshCalls).toBe(1);
  });
});

describe("the client's budget under a burst", () => {
  test("300 calls fired at once for one tenant: at most 5 in flight and 60 in any minute at Xero", async () => {
    // timeScale 20: a Xero minute is 3 s, and the client's 1-second guard is 50 ms of wall time — more than loopback jitter on a busy machine.
    const { sim, config } = await simulatorAndConfig({ timeScale: 20, recordsPerOrg: 60, seed: 4, orgs: [{ name: "Burst Ltd", baseCurrency: "EUR" }] });
    try {
      const { org, grantId } = await connectEveryTenant(sim, config);
      const tenantId = sim.tenantIds()[0];
      const budget = rateBudgetFor(t.db, config);
      const api = new XeroApi({ config, budget, accessToken: (o) => accessTokenFor(t.db, org.ctx.admin, grantId, { config }, o) }, tenantId);
      sim.addFault({ kind: "slow", path: "/Accounts", probability: 0.3, delayMs: 40 });
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 300 }, () => api.get("Accounts").then(() => "ok")));
      const seconds = (performance.now() - started) / 1000;
      const perMinute = maxPerWindow(sim, tenantId);
      const peak = sim.tenantPeaks()[tenantId].peakInFlight;
      console.log(`[burst] 300 calls in ${seconds.toFixed(1)} s wall = ${(seconds * config.timeScale / 60).toFixed(1)} Xero minutes; most in any minute ${perMinute}; peak in flight ${peak}; limit 429s ${JSON.stringify(sim.stats.limitBreaches)}`);
      expect(results.every((r) => r === "ok")).toBe(true);
      expect(perMinute).toBeLessThanOrEqual(60);
      expect(perMinute).toBeGreaterThanOrEqual(50);
      expect(peak).toBeLessThanOrEqual(5);
      expect(sim.stats.limitBreaches).toEqual({});
    } finally {
      await sim.close();
    }
  });

  // Two RateBudget instances, each with its own database pool, are two processes as far as the budget goes: it keeps nothing shared in memory.
  test("two processes share one allowance: 2 × 150 calls for one tenant stay within 60 a minute and 5 in flight at Xero", async () => {
    const { sim, config } = await simulatorAndConfig({ timeScale: 20, recordsPerOrg: 60, seed: 5, orgs: [{ name: "Two Workers Ltd", baseCurrency: "EUR" }] });
    const second = connect(t.appUrl, { max: 4 });
    try {
      const { org, grantId } = await connectEveryTenant(sim, config);
      const tenantId = sim.tenantIds()[0];
      const apis = [t.db, second.db].map((db) => new XeroApi({ config, budget: rateBudgetFor(db, config), accessToken: (o) => accessTokenFor(db, org.ctx.admin, grantId, { config }, o) }, tenantId));
      // Every answer takes 300 ms: two processes with 5 local slots each would put 10 calls in flight; the shared leases hold it at 5, which then paces the calls (5 per 300 ms ≈ 50 a Xero minute).
      sim.addFault({ kind: "slow", path: "/Accounts", probability: 1, delayMs: 300 });
      const started = performance.now();
      const results = await Promise.all(apis.flatMap((api) => Array.from({ length: 150 }, () => api.get("Accounts").then(() => "ok"))));
      const seconds = (performance.now() - started) / 1000;
      const perMinute = maxPerWindow(sim, tenantId);
      const peak = sim.tenantPeaks()[tenantId].peakInFlight;
      console.log(`[two processes, one tenant] 300 calls in ${seconds.toFixed(1)} s wall = ${(seconds * config.timeScale / 60).toFixed(1)} Xero minutes; most in any minute ${perMinute}; peak in flight ${peak}; limit 429s ${JSON.stringify(sim.stats.limitBreaches)}`);
      expect(results.every((r) => r === "ok")).toBe(true);
      expect(perMinute).toBeLessThanOrEqual(60);
      expect(perMinute).toBeGreaterThanOrEqual(40);
      expect(peak).toBe(5);
      expect(sim.stats.limitBreaches).toEqual({});
    } finally {
      await second.close();
      await sim.close();
    }
  });

  test("two processes calling three tenants stay within the app-wide limit together (40 a minute here)", async () => {
    const appPerMinute = 40;
    const { sim, config } = await simulatorAndConfig({
      timeScale: 20, recordsPerOrg: 60, seed: 7, limits: { appPerMinute },
      orgs: [{ name: "App One Ltd", baseCurrency: "EUR" }, { name: "App Two Ltd", baseCurrency: "EUR" }, { name: "App Three Ltd", baseCurrency: "EUR" }],
    });
    const second = connect(t.appUrl, { max: 4 });
    try {
      const { org, grantId } = await connectEveryTenant(sim, config);
      const tenantIds = sim.tenantIds();
      const calls = [t.db, second.db].flatMap((db) => {
        const budget = rateBudgetFor(db, config, { appPerMinute });
        return tenantIds.flatMap((tenantId) => {
          const api = new XeroApi({ config, budget, accessToken: (o) => accessTokenFor(db, org.ctx.admin, grantId, { config }, o) }, tenantId);
          return Array.from({ length: 20 }, () => api.get("Accounts").then(() => "ok"));
        });
      });
      const started = performance.now();
      const results = await Promise.all(calls);
      const seconds = (performance.now() - started) / 1000;
      const appMax = maxPerWindow(sim, "app");
      console.log(`[two processes, app-wide] ${calls.length} calls to 3 tenants in ${seconds.toFixed(1)} s wall = ${(seconds * config.timeScale / 60).toFixed(1)} Xero minutes; most app calls in any minute ${appMax} (limit ${appPerMinute}); per tenant ${tenantIds.map((id) => maxPerWindow(sim, id)).join(", ")}; limit 429s ${JSON.stringify(sim.stats.limitBreaches)}`);
      expect(results.every((r) => r === "ok")).toBe(true);
      expect(appMax).toBeLessThanOrEqual(appPerMinute);
      expect(appMax).toBeGreaterThanOrEqual(appPerMinute - 8);
      expect(sim.stats.limitBreaches).toEqual({});
    } finally {
      await second.close();
      await sim.close();
    }
  });

  test("a spent daily budget parks the tenant until the next window; the job says so and then resumes", async () => {
    // Only the client's day is compressed here (a Xero day = 4.3 s): the simulator runs at normal speed so the authorisation code does not expire mid-connect.
    const { sim, config } = await simulatorAndConfig({ recordsPerOrg: 60, seed: 6, perDay: 5, orgs: [{ name: "Starter Tier Ltd", baseCurrency: "EUR" }] });
    try {
      const { org, connectionIds } = await connectEveryTenant(sim, config);
      const tenantId = sim.tenantIds()[0];
      const connectionId = connectionIds.get(tenantId)!;
      const budget = rateBudgetFor(t.db, config, { timeScale: 20_000 });
      const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "full", trigger: "manual" });
      const first = await runSyncJob(t.db, org.orgId, jobId, { config, budget });
      expect(first.status).toBe("parked");
      const [job] = await listSyncJobs(t.db, org.ctx.viewer, { connectionId });
      expect(job.status).toBe("parked");
      expect(job.error).toMatch(/daily Xero budget/);
      expect(new Date(job.parkedUntil!).getTime()).toBeGreaterThan(Date.now());
      console.log(`[daily budget] parked after ${job.calls} calls until ${job.parkedUntil} (a Xero day = ${(86_400 / 20_000).toFixed(1)} s here)`);
      await new Promise((r) => setTimeout(r, new Date(job.parkedUntil!).getTime() - Date.now() + 50));
      let outcome = await runSyncJob(t.db, org.orgId, jobId, { config, budget });
      for (let i = 0; i < 5 && outcome.status === "parked"; i++) {
        await new Promise((r) => setTimeout(r, new Date((outcome as { parkedUntil: string }).parkedUntil).getTime() - Date.now() + 50));
        outcome = await runSyncJob(t.db, org.orgId, jobId, { config, budget });
      }
      expect(outcome.status).toBe("succeeded");
      expect((await heldCounts(t.db, org.ctx.admin, connectionId)).records).toEqual(simCounts(sim, tenantId));
    } finally {
      await sim.close();
    }
  });
});
