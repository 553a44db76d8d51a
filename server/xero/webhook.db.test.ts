import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { listSyncJobs } from "./sync-queries";
import { runSyncJob } from "./sync-runner";
import { handleXeroWebhook } from "./webhook";
import { connectTenants, simulatorAndConfig } from "./xero-test-kit";
import { rateBudgetFor } from "./rate-budget";

/**
 * The webhook receiver behind a real HTTP server, fed by the simulator's signed deliveries:
 * intent-to-receive, a valid event, one flipped bit, and duplicate deliveries.
 */
const t = await testDatabase();
let org: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;
let tenantId: string;
let url: string;
let server: http.Server;
const dispatched: { orgId: string; jobId: string }[] = [];

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ recordsPerOrg: 80, seed: 17, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  tenantId = sim.tenantIds()[0];
  await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const response = await handleXeroWebhook(t.db, new Request(`http://x${req.url}`, { method: "POST", headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }), {
      webhookKey: config.webhookKey,
      dispatch: async (orgId, jobId) => void dispatched.push({ orgId, jobId }),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/xero`;
});
afterAll(async () => {
  await sim.close();
  await new Promise((r) => server.close(r));
});

describe("Xero webhooks", () => {
  test("intent to receive: every correctly signed delivery gets 200 with an empty body, every wrong one 401, each within 5 s", async () => {
    const itr = await sim.runIntentToReceive(url, config.webhookKey!);
    expect(itr.results.map((r) => [r.good, r.status, r.body])).toEqual(itr.results.map((r) => [r.good, r.good ? 200 : 401, ""]));
    expect(itr.validated).toBe(true);
  });

  test("a valid signature → 200, empty body, no cookie; one flipped bit in the body → 401", async () => {
    const m = sim.mutate(tenantId, { edits: 4, creates: 1, voids: 0 });
    const body = JSON.stringify({ events: sim.eventsFor(tenantId, m), firstEventSequence: 1, lastEventSequence: 1, entropy: "ABCDEFGHIJ" });
    const sig = createHmac("sha256", config.webhookKey!).update(body).digest("base64");
    const flipped = Buffer.from(body);
    flipped[10] ^= 0x01;
    const bad = await fetch(url, { method: "POST", headers: { "x-xero-signature": sig }, body: flipped });
    expect(bad.status).toBe(401);
    const badSig = Buffer.from(sig, "base64");
    badSig[0] ^= 0x80;
    expect((await fetch(url, { method: "POST", headers: { "x-xero-signature": badSig.toString("base64") }, body })).status).toBe(401);
    expect(dispatched).toEqual([]);
    const ok = await fetch(url, { method: "POST", headers: { "x-xero-signature": sig }, body });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("");
    expect(ok.headers.get("set-cookie")).toBeNull();
    expect(dispatched).toHaveLength(1);
  });

  test("duplicate deliveries (sequential and concurrent) → one sync, of the resources named", async () => {
    const before = dispatched.length;
    const countEvents = async () => (await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from xero_webhook_events where org_id = ${org.orgId}`)))[0].n;
    const eventsBefore = await countEvents();
    const m = sim.mutate(tenantId, { edits: 4, creates: 2, voids: 1 });
    const events = sim.eventsFor(tenantId, m);
    const sends = await Promise.all(Array.from({ length: 5 }, () => sim.sendWebhook(url, config.webhookKey!, events)));
    sends.push(await sim.sendWebhook(url, config.webhookKey!, events));
    expect(sends.map((s) => s.status)).toEqual(Array(6).fill(200));
    // The first delivery of this test found the job queued by the previous test still open: at most one new job in all.
    const jobs = await listSyncJobs(t.db, org.ctx.viewer, {});
    const open = jobs.filter((j) => j.status === "queued");
    expect(open).toHaveLength(1);
    expect(dispatched.length - before).toBeLessThanOrEqual(1);
    expect(open[0].progress.map((p) => p.resource).sort()).toEqual(["contacts", "invoices", "payments"]);
    // Six deliveries of the same events stored each event once.
    expect((await countEvents()) - eventsBefore).toBe(events.length);
    // Running it brings the named changes in.
    expect((await runSyncJob(t.db, org.orgId, open[0].id, { config, budget: rateBudgetFor(t.db, config) })).status).toBe("succeeded");
    const [row] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ status: string }>(sql`select status from xero_records where org_id = ${org.orgId} and xero_id = ${m.voided.Invoices![0]}`));
    expect(row?.status).toBe("VOIDED");
  });
});
