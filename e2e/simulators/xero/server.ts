import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID, sign as rsaSign, type KeyObject } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { prng } from "@/server/prng";
import { simClock, type SimClock } from "./clock";
import { envelope, hasUpdatedDate, isPaged, organisationOf, renderRecord, xeroJson } from "./render";
import { idField, mutateOrg, RESOURCES, seedOrg, type MutationSummary, type OrgSpec, type ResourceName, type SimOrg, type SimRecord } from "./seed";

/**
 * A local Xero: identity (authorize with an organisation picker, token, revocation, discovery,
 * JWKS), /connections, and the Accounting API endpoints Tieout reads, following the behaviour
 * written down in research/xero.md: Xero's envelope and /Date()/ formats, page/pageSize paging
 * (offset for Journals), If-Modified-Since, 30-minute access tokens, rotating refresh tokens with
 * a 30-minute grace, per-tenant limits with Xero's headers and 429 + Retry-After, and injectable
 * faults. Plain node:http, no framework, so it starts in milliseconds inside a test.
 */

export type SimClient = { clientId: string; clientSecret?: string; redirectUris: string[]; name?: string };

export type FaultKind = "500" | "503" | "slow" | "reset" | "malformed" | "429" | "expire-token" | "revoke" | "drop-token-response";
export type FaultRule = {
  kind: FaultKind;
  /** Case-insensitive substring of the path, e.g. "/Invoices" or "/connect/token". */
  path?: string;
  tenantId?: string;
  /** Fires on a matching request with this probability (seeded), or on every match when absent. */
  probability?: number;
  /** Stops after firing this many times. */
  times?: number;
  /** "slow": how long to stall, wall-clock ms. */
  delayMs?: number;
  /** "429": the Retry-After to send, in (simulated) seconds. */
  retryAfterS?: number;
  fired?: number;
};

export type SimulatorOptions = {
  port?: number;
  host?: string;
  /** Simulated milliseconds per wall-clock millisecond (rate windows, token lifetimes, Retry-After). */
  timeScale?: number;
  clock?: SimClock;
  seed?: number;
  orgs?: OrgSpec[];
  recordsPerOrg?: number;
  clients?: SimClient[];
  limits?: Partial<Limits>;
  accessTokenTtlS?: number;
  refreshGraceMs?: number;
  refreshIdleMs?: number;
  /** Whether reusing a superseded refresh token inside the grace period invalidates the tokens issued since (research [?]). */
  graceReuseInvalidatesSiblings?: boolean;
  /** Granular-scope era (apps created after 2 March 2026): broad accounting.transactions is refused. */
  refuseBroadScopes?: boolean;
  log?: (line: string) => void;
};

export type Limits = { perMinute: number; concurrent: number; perDay: number; appPerMinute: number };

export type RequestLogEntry = {
  tenantId: string | null;
  method: string;
  path: string;
  /** Simulated ms at arrival and at the end of the response. */
  at: number;
  end: number;
  status: number;
  fault?: FaultKind;
  limit?: "minute" | "day" | "concurrent" | "appminute";
};

type Conn = { id: string; tenantId: string; authEventId: string; created: number; updated: number; userId: string; clientId: string };
type Grant = { id: string; userId: string; clientId: string; scopes: string[]; authEventId: string; revoked: boolean; refreshCalls: number };
type RefreshToken = { grantId: string; issued: number; firstUsed?: number; superseded: boolean; invalid: boolean; siblings: string[] };
type AccessToken = { grantId: string; exp: number; jti: string };
type AuthCode = { clientId: string; redirectUri: string; scopes: string[]; tenants: string[]; challenge?: string; method?: string; exp: number; used: boolean; authEventId: string };
type TenantLimit = { minuteStart: number; minuteCount: number; dayStart: number; dayCount: number; inFlight: number; peakInFlight: number; retryNotBefore: number; lastRetryAfterIssuedReal: number };

export type SimStats = {
  refreshCalls: number;
  invalidGrants: number;
  codeExchanges: number;
  revocations: number;
  /** Requests that arrived before a Retry-After the simulator had sent had passed. */
  retryAfterViolations: number;
  /** 429s the limits produced (not injected faults). */
  limitBreaches: Record<string, number>;
  faultsFired: Record<string, number>;
};

export const DEFAULT_CLIENT: SimClient = { clientId: "TIEOUTSIMCLIENT00000000000000000", clientSecret: "tieout-simulator-secret", redirectUris: [], name: "Tieout" };
export const USER = { id: "7f3c2a10-5b4d-4e6f-8a9b-0c1d2e3f4a5b", email: "owner@harbour.example", given: "Hana", family: "Ngata" };

const SCOPE_FOR: Record<string, string[]> = {
  Accounts: ["accounting.settings"], Organisation: ["accounting.settings"], Contacts: ["accounting.contacts"],
  BankTransactions: ["accounting.banktransactions", "accounting.transactions"], BankTransfers: ["accounting.banktransactions", "accounting.transactions"],
  Invoices: ["accounting.invoices", "accounting.transactions"], CreditNotes: ["accounting.invoices", "accounting.transactions"],
  Payments: ["accounting.payments", "accounting.transactions"], ManualJournals: ["accounting.manualjournals", "accounting.transactions"],
  Journals: ["accounting.journals"],
};
const KNOWN_SCOPES = new Set([
  "openid", "profile", "email", "offline_access", "accounting.settings", "accounting.settings.read", "accounting.contacts", "accounting.contacts.read",
  "accounting.transactions", "accounting.transactions.read", "accounting.journals.read", "accounting.reports.read", "accounting.attachments", "accounting.attachments.read",
  "accounting.invoices", "accounting.invoices.read", "accounting.payments", "accounting.payments.read", "accounting.banktransactions", "accounting.banktransactions.read",
  "accounting.manualjournals", "accounting.manualjournals.read", "accounting.budgets.read",
]);

export type XeroSimulator = Awaited<ReturnType<typeof startXeroSimulator>>;

export async function startXeroSimulator(opts: SimulatorOptions = {}) {
  const clock = opts.clock ?? simClock({ timeScale: opts.timeScale ?? 1 });
  const limits: Limits = { perMinute: 60, concurrent: 5, perDay: 5000, appPerMinute: 10_000, ...opts.limits };
  const accessTtlS = opts.accessTokenTtlS ?? 1800;
  const graceMs = opts.refreshGraceMs ?? 30 * 60_000;
  const idleMs = opts.refreshIdleMs ?? 60 * 86_400_000;
  const rnd = prng((opts.seed ?? 1) * 7919);
  const log = opts.log ?? (() => {});
  const clients = new Map((opts.clients ?? [DEFAULT_CLIENT]).map((c) => [c.clientId, c]));

  const orgs = new Map<string, SimOrg>();
  const specs = opts.orgs ?? [
    { name: "Harbour Road Trading Ltd", baseCurrency: "GBP", journalsEntitled: true },
    { name: "Kauri Cafe Group Ltd", baseCurrency: "EUR" },
  ];
  specs.forEach((s, i) => {
    const org = seedOrg(s, opts.recordsPerOrg ?? 2000, (opts.seed ?? 1) * 1000 + i, clock.now() - 3_600_000);
    orgs.set(org.tenantId, org);
  });

  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex").slice(0, 40).toUpperCase();

  const grants = new Map<string, Grant>();
  const connections = new Map<string, Conn>();
  const refreshTokens = new Map<string, RefreshToken>();
  const accessTokens = new Map<string, AccessToken>();
  const codes = new Map<string, AuthCode>();
  const tenantLimits = new Map<string, TenantLimit>();
  let appMinute = { start: clock.now(), count: 0 };
  const faults: FaultRule[] = [];
  const requestLog: RequestLogEntry[] = [];
  const stats: SimStats = { refreshCalls: 0, invalidGrants: 0, codeExchanges: 0, revocations: 0, retryAfterViolations: 0, limitBreaches: {}, faultsFired: {} };
  const sockets = new Set<Socket>();
  let origin = "";

  // ---------- helpers ----------
  const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
  function jwt(payload: Record<string, unknown>, key: KeyObject = privateKey): string {
    const header = { alg: "RS256", kid, typ: "JWT", x5t: b64url(createHash("sha1").update(kid).digest()) };
    const data = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${data}.${b64url(rsaSign("sha256", Buffer.from(data), key))}`;
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Xero-Correlation-Id": randomUUID(), ...headers });
    res.end(body);
  }
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => send(res, status, JSON.stringify(value), headers);
  const problem = (res: ServerResponse, status: 401 | 403, detail: string, headers: Record<string, string> = {}) =>
    json(res, status, { Type: null, Title: status === 401 ? "Unauthorized" : "Forbidden", Status: status, Detail: detail, Instance: randomUUID(), Extensions: {} }, headers);
  const notFound = (res: ServerResponse) => send(res, 404, "The resource you're looking for cannot be found", { "Content-Type": "text/plain; charset=utf-8" });

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  function matchFault(path: string, tenantId: string | null, kinds: FaultKind[]): FaultRule | undefined {
    for (const f of faults) {
      if (!kinds.includes(f.kind)) continue;
      if (f.path && !path.toLowerCase().includes(f.path.toLowerCase())) continue;
      if (f.tenantId && f.tenantId !== tenantId) continue;
      if (f.times !== undefined && (f.fired ?? 0) >= f.times) continue;
      if (f.probability !== undefined && rnd() >= f.probability) continue;
      f.fired = (f.fired ?? 0) + 1;
      stats.faultsFired[f.kind] = (stats.faultsFired[f.kind] ?? 0) + 1;
      return f;
    }
    return undefined;
  }

  function issueTokens(grant: Grant, clientId: string, siblingsOf?: RefreshToken) {
    const now = clock.now();
    const jti = randomUUID().replace(/-/g, "").toUpperCase();
    const sec = Math.floor(Date.now() / 1000);
    const accessToken = jwt({
      nbf: sec, exp: sec + accessTtlS, iss: origin, aud: `${origin}/resources`, client_id: clientId, sub: grant.userId, auth_time: sec, xero_userid: grant.userId,
      global_session_id: grant.id, jti, authentication_event_id: grant.authEventId, scope: grant.scopes, amr: ["pwd"],
    });
    accessTokens.set(accessToken, { grantId: grant.id, exp: now + accessTtlS * 1000, jti });
    const rt = randomBytes(32).toString("hex");
    refreshTokens.set(rt, { grantId: grant.id, issued: now, superseded: false, invalid: false, siblings: [] });
    siblingsOf?.siblings.push(rt);
    const out: Record<string, unknown> = { access_token: accessToken, expires_in: accessTtlS, token_type: "Bearer", refresh_token: rt, scope: grant.scopes.join(" ") };
    if (grant.scopes.includes("openid")) {
      const atHash = b64url(createHash("sha256").update(accessToken).digest().subarray(0, 16));
      out.id_token = jwt({
        nbf: sec, exp: sec + 300, iss: origin, aud: clientId, iat: sec, at_hash: atHash, sid: grant.id, sub: grant.userId, auth_time: sec, idp: "Xero",
        xero_userid: grant.userId, global_session_id: grant.id, preferred_username: USER.email, email: USER.email, given_name: USER.given, family_name: USER.family, amr: ["pwd"],
      });
    }
    return out;
  }

  function clientAuth(req: IncomingMessage, form: URLSearchParams): SimClient | undefined {
    const h = req.headers.authorization;
    let id = form.get("client_id") ?? undefined;
    let secret = form.get("client_secret") ?? undefined;
    if (h?.startsWith("Basic ")) {
      const [u, p] = Buffer.from(h.slice(6), "base64").toString().split(":");
      id = decodeURIComponent(u);
      secret = decodeURIComponent(p ?? "");
    }
    const c = id ? clients.get(id) : undefined;
    if (!c) return undefined;
    // A PKCE-only app has no secret and authenticates with the code verifier instead.
    if (c.clientSecret && c.clientSecret !== secret) return undefined;
    return c;
  }

  function tokenOf(req: IncomingMessage): { token: AccessToken; grant: Grant } | { error: string } {
    const h = req.headers.authorization;
    if (!h?.startsWith("Bearer ")) return { error: "AuthenticationUnsuccessful" };
    const token = accessTokens.get(h.slice(7));
    if (!token) return { error: "AuthenticationUnsuccessful" };
    const grant = grants.get(token.grantId)!;
    if (grant.revoked) return { error: "AuthenticationUnsuccessful" };
    if (token.exp <= clock.now()) {
      const d = new Date(token.exp);
      const p = (x: number) => String(x).padStart(2, "0");
      return { error: `TokenExpired: token expired at ${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}` };
    }
    return { token, grant };
  }

  const connectionsOf = (userId: string, clientId: string) => [...connections.values()].filter((c) => c.userId === userId && c.clientId === clientId);
  const hasScope = (grant: Grant, resource: string) =>
    (SCOPE_FOR[resource] ?? []).some((s) => grant.scopes.includes(s) || grant.scopes.includes(`${s}.read`) || (s === "accounting.journals" && grant.scopes.includes("accounting.journals.read")));

  // ---------- rate limits ----------
  function limitState(tenantId: string): TenantLimit {
    let s = tenantLimits.get(tenantId);
    if (!s) {
      const now = clock.now();
      s = { minuteStart: now, minuteCount: 0, dayStart: now, dayCount: 0, inFlight: 0, peakInFlight: 0, retryNotBefore: 0, lastRetryAfterIssuedReal: 0 };
      tenantLimits.set(tenantId, s);
    }
    return s;
  }

  /** Counts the call against the tenant's windows; returns the 429 to send, if any. Windows are fixed and start at the tenant's first call. */
  function admit(tenantId: string): { headers: Record<string, string>; breach?: { problem: "minute" | "day" | "concurrent" | "appminute"; retryAfterS?: number } } {
    const now = clock.now();
    const s = limitState(tenantId);
    // A request before the Retry-After we gave has passed breaks Xero's rules. Requests already in flight when the 429 left (20 ms of wall time) are not counted.
    if (now < s.retryNotBefore && performance.now() - s.lastRetryAfterIssuedReal > 20) stats.retryAfterViolations++;
    if (now - s.minuteStart >= 60_000) {
      s.minuteStart = now;
      s.minuteCount = 0;
    }
    if (now - s.dayStart >= 86_400_000) {
      s.dayStart = now;
      s.dayCount = 0;
    }
    if (now - appMinute.start >= 60_000) appMinute = { start: now, count: 0 };
    s.minuteCount++;
    s.dayCount++;
    appMinute.count++;
    const headers = {
      "X-DayLimit-Remaining": String(Math.max(0, limits.perDay - s.dayCount)),
      "X-MinLimit-Remaining": String(Math.max(0, limits.perMinute - s.minuteCount)),
      "X-AppMinLimit-Remaining": String(Math.max(0, limits.appPerMinute - appMinute.count)),
    };
    if (s.dayCount > limits.perDay) return { headers, breach: { problem: "day", retryAfterS: Math.ceil((s.dayStart + 86_400_000 - now) / 1000) } };
    if (s.minuteCount > limits.perMinute) return { headers, breach: { problem: "minute", retryAfterS: Math.max(1, Math.ceil((s.minuteStart + 60_000 - now) / 1000)) } };
    if (appMinute.count > limits.appPerMinute) return { headers, breach: { problem: "appminute", retryAfterS: Math.max(1, Math.ceil((appMinute.start + 60_000 - now) / 1000)) } };
    if (s.inFlight >= limits.concurrent) return { headers, breach: { problem: "concurrent", retryAfterS: 1 } };
    return { headers };
  }

  function tooMany(res: ServerResponse, tenantId: string, problemName: string, retryAfterS: number | undefined, headers: Record<string, string>) {
    const s = limitState(tenantId);
    if (retryAfterS !== undefined) {
      s.retryNotBefore = Math.max(s.retryNotBefore, clock.now() + retryAfterS * 1000);
      s.lastRetryAfterIssuedReal = performance.now();
    }
    send(res, 429, "", { ...headers, "Content-Type": "text/plain", "X-Rate-Limit-Problem": problemName, ...(retryAfterS !== undefined ? { "Retry-After": String(retryAfterS) } : {}) });
  }

  // ---------- identity ----------
  function discovery() {
    return {
      issuer: origin,
      authorization_endpoint: `${origin}/identity/connect/authorize`,
      token_endpoint: `${origin}/connect/token`,
      userinfo_endpoint: `${origin}/connect/userinfo`,
      revocation_endpoint: `${origin}/connect/revocation`,
      jwks_uri: `${origin}/.well-known/openid-configuration/jwks`,
      end_session_endpoint: `${origin}/connect/endsession`,
      scopes_supported: [...KNOWN_SCOPES],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["plain", "S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      claims_supported: ["sub", "email", "given_name", "family_name", "xero_userid", "preferred_username"],
    };
  }

  function errorPage(res: ServerResponse, message: string) {
    // Xero shows its own error screen (no redirect) for a bad client, redirect URI or scope.
    send(res, 500, `<!doctype html><title>Xero | Error</title><h1>Sorry, something went wrong</h1><p>${escapeHtml(message)}</p>`, { "Content-Type": "text/html; charset=utf-8" });
  }

  function authorizeCheck(params: URLSearchParams): { client: SimClient; scopes: string[] } | { error: string } {
    const client = clients.get(params.get("client_id") ?? "");
    if (!client) return { error: "unauthorized_client: Unknown client or client not enabled" };
    const redirect = params.get("redirect_uri") ?? "";
    if (!client.redirectUris.includes(redirect)) return { error: "Invalid redirect_uri" };
    if (params.get("response_type") !== "code") return { error: "unsupported_response_type" };
    const scopes = (params.get("scope") ?? "").split(/\s+/).filter(Boolean);
    const bad = scopes.find((s) => !KNOWN_SCOPES.has(s) || (opts.refuseBroadScopes && (s === "accounting.transactions" || s === "accounting.transactions.read" || s === "accounting.reports.read")));
    if (bad || scopes.length === 0) return { error: `invalid_scope: Invalid scope for client (${bad ?? "none"})` };
    const method = params.get("code_challenge_method");
    if (params.get("code_challenge") && method && method !== "S256" && method !== "plain") return { error: "invalid_request: code_challenge_method" };
    return { client, scopes };
  }

  function consentPage(params: URLSearchParams, client: SimClient, scopes: string[]): string {
    const hidden = [...params.entries()].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
    const boxes = [...orgs.values()]
      .map((o, i) => `<li><label><input type="checkbox" name="tenant" value="${o.tenantId}"${i === 0 ? " checked" : ""}> ${escapeHtml(o.name)}</label> <small>${o.baseCurrency}</small></li>`)
      .join("");
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Xero | Authorise ${escapeHtml(client.name ?? client.clientId)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#1e3145}h1{font-size:1.4rem}ul{list-style:none;padding:0}li{margin:.4rem 0}button{padding:.5rem 1rem;margin-right:.5rem}.note{background:#fef6e0;padding:.6rem;border-radius:4px}</style></head>
<body><p class="note">Local Xero simulator — no real Xero account is involved.</p>
<h1>${escapeHtml(client.name ?? "This app")} wants access to your Xero organisations</h1>
<p>Signed in as ${escapeHtml(USER.email)}. The app will be able to:</p><ul>${scopes.map((s) => `<li>• ${escapeHtml(s)}</li>`).join("")}</ul>
<form method="post" action="/identity/connect/authorize">${hidden}
<fieldset><legend>Choose the organisations to connect</legend><ul>${boxes}</ul></fieldset>
<button type="submit" name="decision" value="allow">Allow access</button><button type="submit" name="decision" value="deny">Cancel</button></form></body></html>`;
  }

  function consent(params: URLSearchParams, tenants: string[], allow: boolean): string {
    const redirect = new URL(params.get("redirect_uri")!);
    const state = params.get("state");
    if (!allow) {
      redirect.searchParams.set("error", "access_denied");
      if (state) redirect.searchParams.set("state", state);
      return redirect.toString();
    }
    const code = randomBytes(32).toString("hex");
    const authEventId = randomUUID();
    codes.set(code, {
      clientId: params.get("client_id")!, redirectUri: params.get("redirect_uri")!, scopes: (params.get("scope") ?? "").split(/\s+/).filter(Boolean),
      tenants: tenants.filter((t) => orgs.has(t)), challenge: params.get("code_challenge") ?? undefined, method: params.get("code_challenge_method") ?? undefined,
      exp: clock.now() + 5 * 60_000, used: false, authEventId,
    });
    redirect.searchParams.set("code", code);
    if (state) redirect.searchParams.set("state", state);
    redirect.searchParams.set("scope", params.get("scope") ?? "");
    redirect.searchParams.set("session_state", randomBytes(16).toString("hex"));
    return redirect.toString();
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get("grant_type");
    const client = clientAuth(req, form);
    const tokenHeaders = { "Cache-Control": "no-store", Pragma: "no-cache", "Xero-Origin-Id": "IdentityServer.Web" };
    if (!client) return json(res, 400, { error: "invalid_client" }, tokenHeaders);
    const fault = matchFault("/connect/token", null, ["500", "503", "slow", "reset", "drop-token-response"]);
    if (fault?.kind === "slow") await sleep(fault.delayMs ?? 2000);
    if (fault?.kind === "500" || fault?.kind === "503") return send(res, fault.kind === "500" ? 500 : 503, "Service unavailable", { "Content-Type": "text/plain" });
    if (fault?.kind === "reset") return req.socket.destroy();
    const invalidGrant = () => {
      stats.invalidGrants++;
      return json(res, 400, { error: "invalid_grant" }, tokenHeaders);
    };

    if (grantType === "authorization_code") {
      stats.codeExchanges++;
      const code = codes.get(form.get("code") ?? "");
      if (!code || code.used || code.exp < clock.now() || code.clientId !== client.clientId || code.redirectUri !== form.get("redirect_uri")) return invalidGrant();
      if (!client.clientSecret && !code.challenge) return invalidGrant();
      if (code.challenge) {
        const verifier = form.get("code_verifier") ?? "";
        const computed = code.method === "plain" ? verifier : b64url(createHash("sha256").update(verifier).digest());
        if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) || computed !== code.challenge) return invalidGrant();
      }
      code.used = true;
      const grant: Grant = { id: randomUUID(), userId: USER.id, clientId: client.clientId, scopes: code.scopes, authEventId: code.authEventId, revoked: false, refreshCalls: 0 };
      grants.set(grant.id, grant);
      const now = clock.now();
      for (const tenantId of code.tenants) {
        const existing = connectionsOf(USER.id, client.clientId).find((c) => c.tenantId === tenantId);
        if (existing) {
          existing.updated = now;
          existing.authEventId = code.authEventId;
        } else {
          const id = randomUUID();
          connections.set(id, { id, tenantId, authEventId: code.authEventId, created: now, updated: now, userId: USER.id, clientId: client.clientId });
        }
      }
      return json(res, 200, issueTokens(grant, client.clientId), tokenHeaders);
    }
    if (grantType === "refresh_token") {
      stats.refreshCalls++;
      const presented = form.get("refresh_token") ?? "";
      const rt = refreshTokens.get(presented);
      if (!rt || rt.invalid) return invalidGrant();
      const grant = grants.get(rt.grantId)!;
      grant.refreshCalls++;
      const now = clock.now();
      if (grant.revoked || grant.clientId !== client.clientId) return invalidGrant();
      if (now - rt.issued > idleMs && !rt.superseded) return invalidGrant();
      if (rt.superseded) {
        if (now - (rt.firstUsed ?? 0) > graceMs) return invalidGrant();
        if (opts.graceReuseInvalidatesSiblings) for (const s of rt.siblings) refreshTokens.get(s)!.invalid = true;
      } else {
        rt.superseded = true;
        rt.firstUsed = now;
      }
      const body = issueTokens(grant, client.clientId, rt);
      // The refresh happened, but the client never hears of it: the grace period is its way back.
      if (fault?.kind === "drop-token-response") return req.socket.destroy();
      return json(res, 200, body, tokenHeaders);
    }
    return json(res, 400, { error: "unsupported_grant_type" }, tokenHeaders);
  }

  async function revoke(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const client = clientAuth(req, form);
    if (!client) return json(res, 400, { error: "invalid_client" });
    const rt = refreshTokens.get(form.get("token") ?? "");
    if (rt) {
      stats.revocations++;
      const grant = grants.get(rt.grantId)!;
      revokeUser(grant.userId, grant.clientId);
    }
    send(res, 200, "", { "Content-Type": "text/plain" });
  }

  /** Revocation removes the whole grant: every token of that user and app, and every connection. */
  function revokeUser(userId: string, clientId: string) {
    for (const g of grants.values()) if (g.userId === userId && g.clientId === clientId) g.revoked = true;
    for (const c of connectionsOf(userId, clientId)) connections.delete(c.id);
  }

  // ---------- accounting ----------
  function parseIfModifiedSince(h: string | undefined): number | undefined {
    if (!h) return undefined;
    const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(h) ? Date.parse(`${h}Z`) : Date.parse(h);
    return Number.isNaN(t) ? undefined : Math.floor(t / 1000) * 1000;
  }

  function whereFilter(expr: string | null): ((r: SimRecord) => boolean) | { error: string } {
    if (!expr) return () => true;
    // The subset the research note lists: Field==value / != / < / <= / > / >= with "…", Guid("…"), DateTime(y,m,d), true/false, joined by AND/&& (OR/|| too).
    const parts = expr.split(/\s+(AND|OR|&&|\|\|)\s+/i);
    const tests: ((r: SimRecord) => boolean)[] = [];
    const ops: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 1) {
        ops.push(/^(AND|&&)$/i.test(parts[i]) ? "and" : "or");
        continue;
      }
      const m = /^\s*([A-Za-z.]+)\s*(==|!=|>=|<=|>|<)\s*(?:"([^"]*)"|Guid\("([^"]+)"\)|DateTime\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)|(true|false))\s*$/.exec(parts[i]);
      if (!m) return { error: `Operator '${parts[i].trim()}' incompatible with operand types` };
      const [, field, op, str, guid, y, mo, d, bool] = m;
      const want: unknown = str ?? guid ?? (bool ? bool === "true" : `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`);
      tests.push((r) => {
        let v: unknown = r.body;
        for (const k of field.split(".")) v = (v as Record<string, unknown> | undefined)?.[k];
        if (typeof v === "string" && typeof want === "string" && /^\d{4}-\d{2}-\d{2}$/.test(want) && y) v = v.slice(0, 10);
        switch (op) {
          case "==": return v === want;
          case "!=": return v !== want;
          case ">": return String(v) > String(want);
          case ">=": return String(v) >= String(want);
          case "<": return String(v) < String(want);
          default: return String(v) <= String(want);
        }
      });
    }
    return (r) => tests.slice(1).reduce((acc, t, i) => (ops[i] === "and" ? acc && t(r) : acc || t(r)), tests[0](r));
  }

  async function accounting(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[]) {
    const auth = tokenOf(req);
    if ("error" in auth) return problem(res, 401, auth.error);
    const tenantId = (req.headers["xero-tenant-id"] as string | undefined)?.toLowerCase() ?? null;
    const conn = tenantId ? connectionsOf(auth.grant.userId, auth.grant.clientId).find((c) => c.tenantId === tenantId) : undefined;
    if (!tenantId || !conn || !orgs.has(tenantId)) return problem(res, 403, "AuthenticationUnsuccessful");
    const org = orgs.get(tenantId)!;

    const entry: RequestLogEntry = { tenantId, method: req.method ?? "GET", path: url.pathname + url.search, at: clock.now(), end: 0, status: 0 };
    requestLog.push(entry);
    const { headers, breach } = admit(tenantId);
    const s = limitState(tenantId);
    if (breach) {
      stats.limitBreaches[breach.problem] = (stats.limitBreaches[breach.problem] ?? 0) + 1;
      entry.limit = breach.problem;
      entry.status = 429;
      entry.end = clock.now();
      return tooMany(res, tenantId, breach.problem, breach.retryAfterS, headers);
    }
    s.inFlight++;
    s.peakInFlight = Math.max(s.peakInFlight, s.inFlight);
    res.once("close", () => {
      s.inFlight--;
      entry.end = clock.now();
      entry.status = res.statusCode;
    });

    const fault = matchFault(url.pathname, tenantId, ["500", "503", "slow", "reset", "malformed", "429", "expire-token", "revoke"]);
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === "slow") await sleep(fault.delayMs ?? 2000);
    if (fault?.kind === "429") return tooMany(res, tenantId, "minute", fault.retryAfterS ?? 5, headers);
    if (fault?.kind === "500") return send(res, 500, "<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>", { ...headers, "Content-Type": "text/html" });
    if (fault?.kind === "503") return send(res, 503, "The Xero API is currently offline for maintenance", { ...headers, "Content-Type": "text/plain" });
    if (fault?.kind === "expire-token") {
      for (const t of accessTokens.values()) if (t.grantId === auth.grant.id) t.exp = clock.now() - 1;
      const expired = tokenOf(req);
      return problem(res, 401, "error" in expired ? expired.error : "TokenExpired");
    }
    if (fault?.kind === "revoke") {
      revokeUser(auth.grant.userId, auth.grant.clientId);
      return problem(res, 401, "AuthenticationUnsuccessful");
    }

    const accept = req.headers.accept ?? "";
    const resource = RESOURCES.find((r) => r.toLowerCase() === segments[0]?.toLowerCase()) ?? (segments[0]?.toLowerCase() === "organisation" ? "Organisation" : undefined);
    if (!resource) return notFound(res);
    if (!hasScope(auth.grant, resource)) return problem(res, 401, "AuthorizationUnsuccessful", { ...headers, "WWW-Authenticate": 'Bearer error="insufficient_scope"' });
    if (resource === "Journals" && !org.journalsEntitled) return problem(res, 401, "AuthorizationUnsuccessful", { ...headers, "WWW-Authenticate": 'Bearer error="insufficient_scope"' });
    if (!/json/i.test(accept)) {
      // Xero's default is XML: a client that forgets Accept gets something JSON.parse cannot read.
      return send(res, 200, `<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Id>${randomUUID()}</Id><Status>OK</Status><ProviderName>Tieout</ProviderName></Response>`, { ...headers, "Content-Type": "text/xml; charset=utf-8" });
    }
    let body: Record<string, unknown>;
    if (resource === "Organisation") body = envelope("Organisations", [organisationOf(org)], clock.now());
    else if (segments[1]) {
      const rec = org.records[resource].get(segments[1].toLowerCase());
      if (!rec) return notFound(res);
      body = envelope(resource, [renderRecord(resource, rec, true)], clock.now());
    } else {
      const listed = list(org, resource, url, req.headers["if-modified-since"] as string | undefined);
      if ("error" in listed) return json(res, 400, { ErrorNumber: 16, Type: "QueryParseException", Message: listed.error }, headers);
      body = envelope(resource, listed.items, clock.now(), listed.pagination ? { pagination: listed.pagination, Warnings: [] } : {});
    }
    let text = xeroJson(body);
    if (fault?.kind === "malformed") text = text.slice(0, Math.floor(text.length / 2));
    if (fault?.kind === "reset") {
      // Headers and half the page go out, then the connection drops.
      res.writeHead(200, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      setTimeout(() => res.socket?.destroy(), 5);
      return;
    }
    send(res, 200, text, headers);
  }

  function list(org: SimOrg, resource: ResourceName, url: URL, ims: string | undefined) {
    const q = url.searchParams;
    const since = parseIfModifiedSince(ims);
    const where = whereFilter(q.get("where"));
    if (typeof where !== "function") return where;
    let recs = [...org.records[resource].values()];
    const stamp = (r: SimRecord) => (hasUpdatedDate(resource) ? r.updated : r.created);
    if (since !== undefined) recs = recs.filter((r) => Math.floor(stamp(r) / 1000) * 1000 >= since);
    if (resource === "Contacts" && q.get("includeArchived") !== "true") recs = recs.filter((r) => r.body.ContactStatus !== "ARCHIVED");
    if (resource === "BankTransfers" && q.get("includeDeleted") !== "true") recs = recs.filter((r) => r.body.Status !== "DELETED");
    recs = recs.filter(where);
    const ids = q.get("IDs");
    if (ids) {
      const set = new Set(ids.toLowerCase().split(","));
      recs = recs.filter((r) => set.has(r.id));
    }
    if (resource === "Journals") {
      recs.sort((a, b) => Number(a.body.JournalNumber) - Number(b.body.JournalNumber));
      const offset = Number(q.get("offset") ?? 0);
      return { items: recs.filter((r) => Number(r.body.JournalNumber) > offset).slice(0, 100).map((r) => renderRecord(resource, r, true)) };
    }
    const order = q.get("order");
    if (order) {
      const m = /^\s*(UpdatedDateUTC|Date|CreatedDateUTC|Name|Code)\s*(ASC|DESC)?\s*$/i.exec(order);
      if (!m) return { error: `The order by clause '${order}' is not supported` };
      const key = m[1].toLowerCase();
      const dir = m[2]?.toUpperCase() === "DESC" ? -1 : 1;
      const val = (r: SimRecord): string | number => (key === "updateddateutc" ? stamp(r) : key === "createddateutc" ? r.created : String(r.body[m[1]] ?? r.body[key] ?? ""));
      recs.sort((a, b) => {
        const x = val(a), y = val(b);
        return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1) * dir;
      });
    } else recs.sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
    const pageParam = q.get("page");
    if (!isPaged(resource) || pageParam === null) return { items: recs.map((r) => renderRecord(resource, r, !isPaged(resource))) };
    const page = Math.max(1, Number.parseInt(pageParam, 10) || 1);
    const pageSize = Math.min(1000, Math.max(1, Number.parseInt(q.get("pageSize") ?? "100", 10) || 100));
    const items = recs.slice((page - 1) * pageSize, page * pageSize).map((r) => renderRecord(resource, r, true));
    return { items, pagination: { page, pageSize, pageCount: Math.ceil(recs.length / pageSize), itemCount: recs.length } };
  }

  // ---------- admin (test controls) ----------
  async function admin(req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
    switch (url.pathname) {
      case "/__sim/state":
        return json(res, 200, api.snapshot());
      case "/__sim/mutate":
        return json(res, 200, api.mutate(body.tenantId ?? [...orgs.keys()][0], body));
      case "/__sim/faults":
        if (body.clear) api.clearFaults();
        for (const f of body.faults ?? []) api.addFault(f);
        return json(res, 200, { faults });
      case "/__sim/advance":
        clock.advance(Number(body.ms ?? 0));
        return json(res, 200, { now: clock.now() });
      case "/__sim/expire-tokens":
        api.expireAccessTokens();
        return json(res, 200, { ok: true });
      case "/__sim/revoke":
        revokeUser(USER.id, body.clientId ?? [...clients.keys()][0]);
        return json(res, 200, { ok: true });
      case "/__sim/webhook":
        return json(res, 200, await api.sendWebhook(body.url, body.key, body.events ?? []));
    }
    return notFound(res);
  }

  // ---------- routing ----------
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", origin || "http://localhost");
      const path = url.pathname;
      const lower = path.toLowerCase();
      log(`${req.method} ${path}`);
      if (lower.startsWith("/__sim/")) return await admin(req, res, url);
      if (lower === "/.well-known/openid-configuration") return json(res, 200, discovery());
      if (lower === "/.well-known/openid-configuration/jwks") return json(res, 200, { keys: [{ ...publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "RS256", kty: "RSA" }] });
      if (lower === "/identity/connect/authorize") {
        const params = req.method === "POST" ? new URLSearchParams(await readBody(req)) : url.searchParams;
        const check = authorizeCheck(params);
        if ("error" in check) return errorPage(res, check.error);
        if (req.method === "GET") return send(res, 200, consentPage(params, check.client, check.scopes), { "Content-Type": "text/html; charset=utf-8" });
        const location = consent(params, params.getAll("tenant"), params.get("decision") === "allow");
        res.writeHead(302, { Location: location });
        return res.end();
      }
      if (lower === "/connect/token" && req.method === "POST") return await token(req, res);
      if (lower === "/connect/revocation" && req.method === "POST") return await revoke(req, res);
      if (lower === "/connect/userinfo") {
        const auth = tokenOf(req);
        if ("error" in auth) return problem(res, 401, auth.error);
        return json(res, 200, { sub: USER.id, email: USER.email, given_name: USER.given, family_name: USER.family, xero_userid: USER.id });
      }
      if (lower === "/connections" || lower.startsWith("/connections/")) {
        const auth = tokenOf(req);
        if ("error" in auth) return problem(res, 401, auth.error);
        const mine = connectionsOf(auth.grant.userId, auth.grant.clientId);
        if (req.method === "GET" && lower === "/connections") {
          const authEventId = url.searchParams.get("authEventId");
          const out = mine
            .filter((c) => !authEventId || c.authEventId === authEventId)
            .sort((a, b) => b.updated - a.updated)
            .map((c) => ({ id: c.id, authEventId: c.authEventId, tenantId: c.tenantId, tenantType: "ORGANISATION", tenantName: orgs.get(c.tenantId)?.name ?? "", createdDateUtc: connDate(c.created), updatedDateUtc: connDate(c.updated) }));
          return json(res, 200, out);
        }
        if (req.method === "DELETE") {
          const id = path.split("/")[2]?.toLowerCase();
          const c = mine.find((x) => x.id === id);
          if (!c) return notFound(res);
          connections.delete(c.id);
          res.writeHead(204);
          return res.end();
        }
      }
      if (lower.startsWith("/api.xro/2.0/")) return await accounting(req, res, url, path.split("/").slice(3).filter(Boolean));
      notFound(res);
    } catch (e) {
      log(`simulator error: ${String(e)}`);
      if (!res.headersSent) send(res, 500, "simulator error", { "Content-Type": "text/plain" });
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  origin = `http://${opts.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;

  const api = {
    url: origin,
    clock,
    orgs,
    stats,
    requestLog,
    limits,
    tenantIds: () => [...orgs.keys()],
    /** Per-tenant peaks and window counts, for fault-test figures. */
    tenantPeaks: () => Object.fromEntries([...tenantLimits.entries()].map(([t, s]) => [t, { peakInFlight: s.peakInFlight, dayCount: s.dayCount }])),
    addFault: (f: FaultRule) => void faults.push({ ...f, fired: 0 }),
    clearFaults: () => void faults.splice(0),
    faults,
    mutate: (tenantId: string, o: { edits?: number; creates?: number; voids?: number } = {}): MutationSummary => mutateOrg(orgs.get(tenantId)!, clock.now(), o),
    expireAccessTokens: () => {
      for (const t of accessTokens.values()) t.exp = clock.now() - 1;
    },
    revokeAll: () => {
      for (const c of clients.keys()) revokeUser(USER.id, c);
    },
    /** Every token string issued so far (the encryption test searches the database dump for them). */
    issuedTokenStrings: () => [...accessTokens.keys(), ...refreshTokens.keys()],
    /** Refresh calls per grant (what the single-flight test counts). */
    grantRefreshCalls: () => [...grants.values()].map((g) => ({ grantId: g.id, refreshCalls: g.refreshCalls })),
    registerRedirectUri: (uri: string, clientId = DEFAULT_CLIENT.clientId) => {
      const c = clients.get(clientId)!;
      if (!c.redirectUris.includes(uri)) c.redirectUris.push(uri);
    },
    /** Completes the consent screen as a browser would, picking these organisations; returns the redirect with code and state. */
    consentUrl: (authorizeUrl: string, tenants: string[], allow = true): string => {
      const params = new URL(authorizeUrl).searchParams;
      const check = authorizeCheck(params);
      if ("error" in check) throw new Error(check.error);
      return consent(params, tenants, allow);
    },
    /** Signs and POSTs a webhook delivery the way Xero does (HMAC-SHA256 of the raw body, base64). */
    sendWebhook: async (url: string, key: string, events: unknown[], opts2: { badSignature?: boolean } = {}) => {
      const body = JSON.stringify({ events, firstEventSequence: 1, lastEventSequence: events.length, entropy: randomBytes(10).toString("hex").toUpperCase() });
      let sig = createHmac("sha256", key).update(body).digest("base64");
      if (opts2.badSignature) sig = createHmac("sha256", `${key}x`).update(body).digest("base64");
      const started = performance.now();
      const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "x-xero-signature": sig }, body, signal: AbortSignal.timeout(5000) });
      return { status: r.status, body: await r.text(), ms: Math.round(performance.now() - started) };
    },
    /** Intent to receive: 4 correctly and 4 wrongly signed empty deliveries, shuffled; every reply must be right and within 5 s. */
    runIntentToReceive: async (url: string, key: string) => {
      const order = [true, true, true, true, false, false, false, false].sort(() => rnd() - 0.5);
      const results = [];
      for (const good of order) {
        const r = await api.sendWebhook(url, key, [], { badSignature: !good });
        results.push({ good, ...r, ok: (good ? r.status === 200 && r.body === "" : r.status === 401) && r.ms < 5000 });
      }
      return { validated: results.every((r) => r.ok), results };
    },
    /** Webhook events for records changed by a mutation (Xero only sends CONTACT, INVOICE, CREDITNOTE). */
    eventsFor: (tenantId: string, m: MutationSummary) => {
      const ev: unknown[] = [];
      for (const kind of ["created", "updated", "voided"] as const) {
        for (const [res, ids] of Object.entries(m[kind]) as [ResourceName, string[]][]) {
          const category = res === "Invoices" ? "INVOICE" : res === "Contacts" ? "CONTACT" : res === "CreditNotes" ? "CREDITNOTE" : null;
          if (!category) continue;
          for (const id of ids) ev.push({ resourceUrl: `${origin}/api.xro/2.0/${res}/${id}`, resourceId: id, eventDateUtc: new Date(clock.now()).toISOString().slice(0, 23), eventType: kind === "created" ? "CREATE" : "UPDATE", eventCategory: category, tenantId, tenantType: "ORGANISATION" });
        }
      }
      return ev;
    },
    snapshot: () => ({
      url: origin,
      now: clock.now(),
      orgs: [...orgs.values()].map((o) => ({ tenantId: o.tenantId, name: o.name, baseCurrency: o.baseCurrency, journalsEntitled: o.journalsEntitled, counts: Object.fromEntries(RESOURCES.map((r) => [r, o.records[r].size])) })),
      connections: [...connections.values()].map((c) => ({ id: c.id, tenantId: c.tenantId })),
      stats,
      requests: requestLog.length,
    }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return api;
}

function connDate(ms: number): string {
  // Xero writes these without a zone and with seven fractional digits.
  return new Date(ms).toISOString().slice(0, 23) + "0000";
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { idField, RESOURCES, type ResourceName, type SimOrg };
