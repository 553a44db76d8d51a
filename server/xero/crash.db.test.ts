import { spawn } from "node:child_process";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { createSyncJob } from "./sync-job";
import { getSyncJob } from "./sync-queries";
import { runSyncJob } from "./sync-runner";
import { connectTenants, heldCounts, simCounts, simLiveMoney, simulatorAndConfig } from "./xero-test-kit";
import { rateBudgetFor } from "./rate-budget";

/**
 * The sync process is killed (SIGKILL) in the middle of a page — its records and canonical lines
 * written but not committed — and a new process resumes the same job: it starts again at that page
 * and ends with every record once and every canonical line once.
 */
const t = await testDatabase();
let org: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;
let connectionId: string;

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ recordsPerOrg: 1000, seed: 13, pageSize: 50, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  const tenantId = sim.tenantIds()[0];
  const { connectionIds } = await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  connectionId = connectionIds.get(tenantId)!;
});
afterAll(() => sim.close());

test("killed mid-page, restarted: resumes at the page it was on, 0 duplicates, 0 lost", async () => {
  const { jobId } = await createSyncJob(t.db, org.ctx.accountant, { connectionId, kind: "full", trigger: "manual" });
  const keySpec = [...config.keyring.keys.entries()].map(([id, k]) => `${id}:${k.toString("base64")}`).join(",");
  const { keyring: _k, ...plain } = config;
  const worker = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "sync-crash-worker.ts")], {
    env: { ...process.env, CRASH_WORKER: JSON.stringify({ appUrl: t.appUrl, orgId: org.orgId, jobId, config: { ...plain, keySpec }, crashAt: { resource: "bank_transactions", page: 3 } }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  worker.stdout.on("data", (d) => (out += d));
  worker.stderr.on("data", (d) => (out += d));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => worker.on("exit", (_code, sig) => resolve(sig)));
  expect(out).toContain("crashing inside bank_transactions page 3");
  expect(signal).toBe("SIGKILL");

  const afterCrash = await getSyncJob(t.db, org.ctx.viewer, jobId);
  const bt = afterCrash.progress.find((p) => p.resource === "bank_transactions")!;
  expect(afterCrash.status).toBe("running");
  expect(bt.pages).toBe(2); // page 3 never committed
  const heldAtCrash = await heldCounts(t.db, org.ctx.admin, connectionId);

  const outcome = await runSyncJob(t.db, org.orgId, jobId, { config, budget: rateBudgetFor(t.db, config) });
  expect(outcome.status).toBe("succeeded");
  const held = await heldCounts(t.db, org.ctx.admin, connectionId);
  const tenantId = sim.tenantIds()[0];
  expect(held.records).toEqual(simCounts(sim, tenantId));
  expect(held.canonical).toBe(simLiveMoney(sim, tenantId));
  expect(held.canonicalDoubled).toBe(0);
  const [dupes] = await inOrg(t.db, org.ctx.admin, (tx) =>
    tx.execute<{ n: number }>(sql`select count(*)::int as n from (select dedupe_key from canonical_transactions where org_id = ${org.orgId} group by source_id, dedupe_key having count(*) > 1) d`));
  console.log(`[crash] killed inside bank_transactions page 3 with ${heldAtCrash.records.bank_transactions ?? 0} bank transactions committed; resumed to ${held.records.bank_transactions} of ${simCounts(sim, tenantId).bank_transactions}; canonical ${held.canonical} (expected ${simLiveMoney(sim, tenantId)}), duplicates ${held.canonicalDoubled + dupes.n}`);
  expect(dupes.n).toBe(0);
});
