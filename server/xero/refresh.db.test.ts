import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import { inOrg } from "@/server/db/tenant";
import type { XeroConfig } from "./config";
import { accessTokenFor } from "./grant-tokens";
import { listXeroConnections } from "./connections";
import { XeroApi } from "./xero-client";
import { connectTenants, simulatorAndConfig } from "./xero-test-kit";
import { rateBudgetFor } from "./rate-budget";

/**
 * Rotating refresh tokens under concurrency: twenty jobs needing a new token at once make exactly
 * one refresh call (a row lock, re-checked after waiting), a lost refresh response is recovered
 * through Xero's grace period, and invalid_grant stops everything and asks an admin to reconnect.
 */
const t = await testDatabase({ max: 24 });
let org: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;
let grantId: string;
let tenantId: string;

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ recordsPerOrg: 60, seed: 8, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  tenantId = sim.tenantIds()[0];
  await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  [{ grant_id: grantId }] = await inOrg(t.db, org.ctx.admin, (tx) => tx.execute<{ grant_id: string }>(sql`select grant_id from xero_connections where org_id = ${org.orgId}`));
});
afterAll(() => sim.close());

let refreshesBefore = 0;
let invalidBefore = 0;
beforeEach(() => {
  refreshesBefore = sim.stats.refreshCalls;
  invalidBefore = sim.stats.invalidGrants;
});

const twentyJobs = () => {
  const budget = rateBudgetFor(t.db, config);
  return Promise.all(Array.from({ length: 20 }, () => new XeroApi({ config, budget, accessToken: (o) => accessTokenFor(t.db, org.ctx.admin, grantId, { config }, o) }, tenantId).get("Accounts").then((r) => Array.isArray(r.body.Accounts))));
};

describe("refresh", () => {
  test("20 concurrent jobs whose stored token is expiring: exactly one refresh call, 0 invalid_grant", async () => {
    await t.adminDb.execute(sql`update xero_grants set access_expires_at = now() - interval '1 minute' where id = ${grantId}`);
    expect(await twentyJobs()).toEqual(Array(20).fill(true));
    console.log(`[refresh] stored token expired, 20 jobs: ${sim.stats.refreshCalls - refreshesBefore} refresh call(s), ${sim.stats.invalidGrants - invalidBefore} invalid_grant`);
    expect(sim.stats.refreshCalls - refreshesBefore).toBe(1);
    expect(sim.stats.invalidGrants - invalidBefore).toBe(0);
  });

  test("20 concurrent jobs all told 401 TokenExpired by Xero: exactly one refresh call, 0 invalid_grant", async () => {
    sim.expireAccessTokens();
    expect(await twentyJobs()).toEqual(Array(20).fill(true));
    console.log(`[refresh] Xero expired the token, 20 jobs: ${sim.stats.refreshCalls - refreshesBefore} refresh call(s), ${sim.stats.invalidGrants - invalidBefore} invalid_grant`);
    expect(sim.stats.refreshCalls - refreshesBefore).toBe(1);
    expect(sim.stats.invalidGrants - invalidBefore).toBe(0);
  });

  test("a lost refresh response is retried with the same refresh token inside Xero's grace period", async () => {
    sim.addFault({ kind: "drop-token-response", path: "/connect/token", times: 1 });
    await t.adminDb.execute(sql`update xero_grants set access_expires_at = now() - interval '1 minute' where id = ${grantId}`);
    const token = await accessTokenFor(t.db, org.ctx.admin, grantId, { config, sleep: async () => {} });
    expect(token).toMatch(/^eyJ/);
    expect(sim.stats.refreshCalls - refreshesBefore).toBe(2);
    expect(sim.stats.invalidGrants - invalidBefore).toBe(0);
    // The pair from the retry is the one kept, and it works.
    expect((await fetch(`${sim.url}/connections`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  test("invalid_grant marks the connection 'needs re-authorisation' once, with no retry loop and no token in the message", async () => {
    sim.revokeAll();
    await t.adminDb.execute(sql`update xero_grants set access_expires_at = now() - interval '1 minute' where id = ${grantId}`);
    const err = await accessTokenFor(t.db, org.ctx.admin, grantId, { config }).catch((e) => e);
    expect(err).toMatchObject({ kind: "needs_reauth" });
    expect(sim.stats.refreshCalls - refreshesBefore).toBe(1);
    for (const tok of sim.issuedTokenStrings()) expect(String(err.message)).not.toContain(tok);
    expect((await listXeroConnections(t.db, org.ctx.viewer)).map((c) => [c.status, c.grantStatus])).toEqual([["needs_reauth", "needs_reauth"]]);
    await expect(accessTokenFor(t.db, org.ctx.admin, grantId, { config })).rejects.toMatchObject({ kind: "needs_reauth" });
    expect(sim.stats.refreshCalls - refreshesBefore).toBe(1);
  });
});
