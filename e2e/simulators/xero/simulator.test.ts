import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkAgainst } from "./openapi-check";
import { DEFAULT_CLIENT, startXeroSimulator, type XeroSimulator } from "./server";
import { RESOURCES } from "./seed";

/**
 * The simulator against the facts in research/xero.md, with plain fetch (no Tieout code), and its
 * responses checked against Xero's OpenAPI schemas. Time runs 100× faster here (timeScale), so a
 * rate-limit minute lasts 600 ms of wall time.
 */
const REDIRECT = "http://localhost:9/callback";
const SCOPES = "openid profile email offline_access accounting.settings.read accounting.contacts.read accounting.banktransactions.read accounting.invoices.read accounting.payments.read accounting.manualjournals.read accounting.journals.read";
const ENVELOPE = ["Id", "Status", "ProviderName", "DateTimeUTC"];
const basic = `Basic ${Buffer.from(`${DEFAULT_CLIENT.clientId}:${DEFAULT_CLIENT.clientSecret}`).toString("base64")}`;

let sim: XeroSimulator;
let tokens: { access_token: string; refresh_token: string; id_token?: string; expires_in: number };
let tenant: string;
let otherTenant: string;

async function tokenCall(body: Record<string, string>, auth = basic) {
  const r = await fetch(`${sim.url}/connect/token`, { method: "POST", headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body) });
  return { status: r.status, body: await r.json() };
}
const api = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}/api.xro/2.0/${path}`, { headers: { Authorization: `Bearer ${tokens.access_token}`, "xero-tenant-id": tenant, Accept: "application/json", ...headers } });

beforeAll(async () => {
  sim = await startXeroSimulator({ timeScale: 100, recordsPerOrg: 600, seed: 3, orgs: [{ name: "Harbour Road Trading Ltd", journalsEntitled: true }, { name: "Kauri Cafe Group Ltd", baseCurrency: "EUR" }] });
  sim.registerRedirectUri(REDIRECT);
  [tenant, otherTenant] = sim.tenantIds();
  const verifier = randomBytes(40).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = `${sim.url}/identity/connect/authorize?${new URLSearchParams({ response_type: "code", client_id: DEFAULT_CLIENT.clientId, redirect_uri: REDIRECT, scope: SCOPES, state: "s1", code_challenge: challenge, code_challenge_method: "S256" })}`;
  const page = await fetch(authorize);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Harbour Road Trading Ltd");
  const back = new URL(sim.consentUrl(authorize, [tenant, otherTenant]));
  expect(back.searchParams.get("state")).toBe("s1");
  const code = back.searchParams.get("code")!;
  const res = await tokenCall({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier });
  expect(res.status).toBe(200);
  tokens = res.body;
  // A code is single use.
  expect((await tokenCall({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier })).body).toEqual({ error: "invalid_grant" });
});
afterAll(() => sim.close());

describe("identity", () => {
  test("discovery names the simulator as issuer and JWKS carries the RS256 key with a kid", async () => {
    const d = await (await fetch(`${sim.url}/.well-known/openid-configuration`)).json();
    expect(d.issuer).toBe(sim.url);
    const jwks = await (await fetch(d.jwks_uri)).json();
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(jwks.keys[0].kid).toBeTruthy();
    expect(tokens.expires_in).toBe(1800);
    expect(tokens.id_token?.split(".")).toHaveLength(3);
    // `scope` is in captured traffic but not in the identity spec.
    expect(checkAgainst("xero-identity.yaml", "AccessToken", tokens, ["scope"])).toEqual([]);
  });

  test("an unregistered redirect URI gets Xero's error page, not a redirect", async () => {
    const r = await fetch(`${sim.url}/identity/connect/authorize?${new URLSearchParams({ response_type: "code", client_id: DEFAULT_CLIENT.clientId, redirect_uri: "http://evil.example/cb", scope: "openid", state: "x" })}`, { redirect: "manual" });
    expect(r.status).toBe(500);
  });

  test("/connections lists the picked organisations in Xero's shape (no Z, seven fractional digits)", async () => {
    const r = await fetch(`${sim.url}/Connections`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    const list = await r.json();
    expect(list.map((c: { tenantId: string }) => c.tenantId).sort()).toEqual([tenant, otherTenant].sort());
    for (const c of list) expect(checkAgainst("xero-identity.yaml", "Connection", c)).toEqual([]);
    expect(list[0].createdDateUtc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$/);
  });

  test("refresh tokens rotate; the old one works again within the 30-minute grace, then gives invalid_grant", async () => {
    const first = await tokenCall({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    const again = await tokenCall({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect(again.status).toBe(200);
    sim.clock.advance(31 * 60_000);
    expect((await tokenCall({ grant_type: "refresh_token", refresh_token: tokens.refresh_token })).body).toEqual({ error: "invalid_grant" });
    const latest = await tokenCall({ grant_type: "refresh_token", refresh_token: again.body.refresh_token });
    expect(latest.status).toBe(200);
    tokens = latest.body;
    expect((await tokenCall({ grant_type: "refresh_token", refresh_token: "x" }, "Basic eDp5")).body).toEqual({ error: "invalid_client" });
  });
});

describe("accounting API", () => {
  test("every resource's paged response conforms to Xero's OpenAPI schema", async () => {
    for (const res of RESOURCES) {
      const r = await api(`${res}?page=1&pageSize=50`);
      expect(r.status, res).toBe(200);
      const body = await r.json();
      expect(checkAgainst("xero_accounting.yaml", res, body, ENVELOPE), res).toEqual([]);
      expect(body[res].length, res).toBeGreaterThan(0);
    }
    const org = await (await api("Organisation")).json();
    expect(checkAgainst("xero_accounting.yaml", "Organisations", org, ENVELOPE)).toEqual([]);
  });

  test("paging: page/pageSize with a pagination block and line items; without page, summaries with empty LineItems", async () => {
    const p1 = await (await api("Invoices?page=1&pageSize=100")).json();
    expect(p1.pagination).toMatchObject({ page: 1, pageSize: 100, itemCount: sim.orgs.get(tenant)!.records.Invoices.size });
    expect(p1.Invoices[0].LineItems.length).toBeGreaterThan(0);
    const past = await (await api(`Invoices?page=${p1.pagination.pageCount + 1}&pageSize=100`)).json();
    expect(past.Invoices).toEqual([]);
    const all = await (await api("Invoices")).json();
    expect(all.pagination).toBeUndefined();
    expect(all.Invoices.every((i: { LineItems: unknown[] }) => i.LineItems.length === 0)).toBe(true);
    // Journals page by offset (JournalNumber), 100 at a time.
    const j = await (await api("Journals?offset=100")).json();
    expect(j.Journals[0].JournalNumber).toBe(101);
    expect(j.Journals.length).toBeLessThanOrEqual(100);
  });

  test("raw JSON escapes /Date()/ the way Xero does", async () => {
    const text = await (await api("Payments?page=1&pageSize=1")).text();
    expect(text).toMatch(/"\\\/Date\(\d+\+0000\)\\\/"/);
  });

  test("If-Modified-Since returns only records updated since (inclusive, whole seconds), in any of the accepted forms", async () => {
    const recs = [...sim.orgs.get(tenant)!.records.BankTransactions.values()].sort((a, b) => a.updated - b.updated);
    const mid = recs[Math.floor(recs.length / 2)];
    const since = new Date(Math.floor(mid.updated / 1000) * 1000);
    const expected = recs.filter((r) => Math.floor(r.updated / 1000) * 1000 >= since.getTime()).length;
    for (const h of [since.toISOString().slice(0, 19), since.toISOString(), since.toUTCString()]) {
      const b = await (await api("BankTransactions?page=1&pageSize=1000", { "If-Modified-Since": h })).json();
      expect(b.pagination.itemCount, h).toBe(expected);
    }
  });

  test("errors in Xero's shapes: XML without Accept, plain-text 404, 403 without tenant, 401 for Journals below the tier", async () => {
    const xml = await api("Accounts", { Accept: "*/*" });
    expect(xml.headers.get("content-type")).toContain("xml");
    const nf = await api("Invoices/00000000-0000-4000-8000-000000000000");
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe("The resource you're looking for cannot be found");
    const forbidden = await fetch(`${sim.url}/api.xro/2.0/Accounts`, { headers: { Authorization: `Bearer ${tokens.access_token}`, Accept: "application/json" } });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).Detail).toBe("AuthenticationUnsuccessful");
    const j = await fetch(`${sim.url}/api.xro/2.0/Journals`, { headers: { Authorization: `Bearer ${tokens.access_token}`, "xero-tenant-id": otherTenant, Accept: "application/json" } });
    expect(j.status).toBe(401);
    expect((await j.json()).Detail).toBe("AuthorizationUnsuccessful");
    const badWhere = await api(`Invoices?where=${encodeURIComponent("Total.Foo(1)")}`);
    expect(badWhere.status).toBe(400);
    expect((await badWhere.json()).Type).toBe("QueryParseException");
    const where = await (await api(`Invoices?where=${encodeURIComponent('Type=="ACCPAY" AND Status=="PAID"')}`)).json();
    expect(where.Invoices.every((i: { Type: string; Status: string }) => i.Type === "ACCPAY" && i.Status === "PAID")).toBe(true);
  });

  test("an expired access token gets 401 TokenExpired with Xero's US-format timestamp", async () => {
    sim.expireAccessTokens();
    const r = await api("Accounts");
    expect(r.status).toBe(401);
    expect((await r.json()).Detail).toMatch(/^TokenExpired: token expired at \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    tokens = (await tokenCall({ grant_type: "refresh_token", refresh_token: tokens.refresh_token })).body;
  });

  test("rate limits: the 61st call in a minute gets 429 minute with Retry-After, and every response carries the remaining counts", async () => {
    sim.clock.advance(61_000);
    let last: Response | undefined;
    const seen: number[] = [];
    for (let i = 0; i < 61; i++) {
      last = await api("Accounts");
      seen.push(Number(last.headers.get("x-minlimit-remaining")));
      if (last.status === 429) break;
    }
    expect(last!.status).toBe(429);
    expect(last!.headers.get("x-rate-limit-problem")).toBe("minute");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(last!.headers.get("x-daylimit-remaining")).toBeTruthy();
    expect(seen[0]).toBeGreaterThan(seen[5]);
    sim.clock.advance(61_000);
  });

  test("faults: HTML 500, connection reset mid-page, malformed JSON, slow reply", async () => {
    sim.addFault({ kind: "500", path: "/Contacts", times: 1 });
    expect((await api("Contacts?page=1")).status).toBe(500);
    sim.addFault({ kind: "reset", path: "/Contacts", times: 1 });
    await expect(api("Contacts?page=1").then((r) => r.text())).rejects.toThrow();
    sim.addFault({ kind: "malformed", path: "/Contacts", times: 1 });
    await expect(api("Contacts?page=1").then((r) => r.json())).rejects.toThrow();
    sim.addFault({ kind: "slow", path: "/Contacts", times: 1, delayMs: 300 });
    const t0 = performance.now();
    expect((await api("Contacts?page=1")).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  test("mutations move UpdatedDateUTC and post a reversal and a new journal per edit", async () => {
    const before = sim.orgs.get(tenant)!.records.Journals.size;
    const since = new Date(sim.clock.now() - 1000).toISOString().slice(0, 19);
    const m = sim.mutate(tenant, { edits: 4, creates: 2, voids: 1 });
    const changed = await (await api("Invoices?page=1&pageSize=100", { "If-Modified-Since": since })).json();
    const ids = changed.Invoices.map((i: { InvoiceID: string }) => i.InvoiceID);
    for (const id of [...(m.created.Invoices ?? []), ...(m.updated.Invoices ?? []), ...(m.voided.Invoices ?? [])]) expect(ids).toContain(id);
    expect(sim.orgs.get(tenant)!.records.Journals.size).toBeGreaterThan(before);
  });

  test("revocation removes every connection of the grant, and its refresh tokens then fail", async () => {
    const r = await fetch(`${sim.url}/connect/revocation`, { method: "POST", headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: tokens.refresh_token }) });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
    expect((await tokenCall({ grant_type: "refresh_token", refresh_token: tokens.refresh_token })).body).toEqual({ error: "invalid_grant" });
  });
});
