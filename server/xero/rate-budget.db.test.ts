import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import { connect } from "@/server/db/client";
import { failureOf, testDatabase } from "@/test/db";
import { RateBudget, type BudgetOptions } from "./rate-budget";

/**
 * The shared budget's own rules, without a simulator (faults.db.test.ts checks it at Xero's end).
 * Each RateBudget here has its own pool: a separate process as far as the budget knows.
 */
const t = await testDatabase();
const limits: BudgetOptions = { clientId: "test-client", perMinute: 60, concurrent: 5, perDay: 5000, appPerMinute: 10_000, guardMs: 0 };

describe("the Xero rate budget shared through PostgreSQL", () => {
  test("a process that dies holding slots frees them when their leases expire", async () => {
    const tenant = randomUUID();
    const dying = connect(t.appUrl, { max: 2 });
    const doomed = new RateBudget(dying.db, { ...limits, leaseMs: 400 });
    for (let i = 0; i < 5; i++) await doomed.acquire(tenant); // taken and never given back
    await dying.close();

    const survivor = new RateBudget(t.db, limits);
    const started = performance.now();
    const release = await survivor.acquire(tenant);
    const waited = performance.now() - started;
    await release();
    console.log(`[leases] the sixth call waited ${waited.toFixed(0)} ms for leases of 400 ms to expire`);
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(5_000);
  });

  test("a Retry-After seen by one process holds back another's calls to that organisation, and only that one", async () => {
    const tenant = randomUUID();
    const other = randomUUID();
    const a = new RateBudget(t.db, limits);
    const second = connect(t.appUrl, { max: 2 });
    try {
      const b = new RateBudget(second.db, limits);
      await a.pause(tenant, 1); // one Xero second: a second of wall time at timeScale 1
      let started = performance.now();
      await (await b.acquire(other))();
      const unrelated = performance.now() - started;
      started = performance.now();
      await (await b.acquire(tenant))();
      const paused = performance.now() - started;
      console.log(`[pause] another organisation waited ${unrelated.toFixed(0)} ms; the paused one ${paused.toFixed(0)} ms`);
      expect(unrelated).toBeLessThan(500);
      expect(paused).toBeGreaterThanOrEqual(900);
    } finally {
      await second.close();
    }
  });

  test("the day is counted across processes and parks the organisation when spent", async () => {
    const tenant = randomUUID();
    const second = connect(t.appUrl, { max: 2 });
    try {
      const a = new RateBudget(t.db, { ...limits, perDay: 4 });
      const b = new RateBudget(second.db, { ...limits, perDay: 4 });
      for (const budget of [a, b, a, b]) await (await budget.acquire(tenant))();
      expect(b.dayUsage(tenant)?.dayCount).toBe(4);
      const refused = await a.acquire(tenant).then(() => null, (e: Error & { kind?: string; until?: Date }) => e);
      expect(refused?.kind).toBe("parked");
      expect(refused?.message).toMatch(/daily Xero budget .* is spent/);
      expect(refused?.until!.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    } finally {
      await second.close();
    }
  });

  test("the application role cannot read or change the budget's tables, only call its functions", async () => {
    for (const table of ["xero_call_windows", "xero_call_leases", "xero_tenant_budgets"]) {
      expect(await failureOf(() => t.db.execute(sql.raw(`select * from ${table}`)))).toBe("42501");
      expect(await failureOf(() => t.db.execute(sql.raw(`delete from ${table}`)))).toBe("42501");
    }
  });
});
