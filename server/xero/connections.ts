import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { asUser, inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import type { XeroConfig } from "./config";
import { accessTokenFor, sealTokens } from "./grant-tokens";
import { authorizationUrl, exchangeCode, newCodeVerifier, newState, revokeRefreshToken, type TokenSet } from "./oauth";
import { grantAad, open, seal, verifierAad } from "./token-vault";
import { XeroError } from "./xero-errors";
import { xeroUtc } from "./xero-json";

/**
 * Connecting Xero: an admin starts the authorisation (state + PKCE verifier kept encrypted for ten
 * minutes), Xero sends the browser back with a code, we exchange it, read /connections for the
 * organisations picked in that consent, and the admin maps each one to an entity (which creates
 * its 'xero' source). Disconnecting DELETEs the connection at Xero and, when it was the grant's
 * last, revokes the refresh token and wipes the stored tokens.
 */
const AUTH_REQUEST_TTL_MS = 10 * 60_000;

export async function startXeroConnect(db: Db, ctx: Ctx, config: XeroConfig): Promise<{ url: string }> {
  requirePermission(ctx, "xero.manage");
  const state = newState();
  const verifier = newCodeVerifier();
  const sealed = seal(config.keyring, verifier, verifierAad(ctx.orgId, state));
  await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`delete from xero_auth_requests where org_id = ${ctx.orgId} and (expires_at < now() or used_at is not null)`);
    await tx.execute(sql`
      insert into xero_auth_requests (org_id, state, user_id, key_id, code_verifier, expires_at)
      values (${ctx.orgId}, ${state}, ${ctx.userId}, ${sealed.keyId}, ${sealed.ciphertext}, ${new Date(Date.now() + AUTH_REQUEST_TTL_MS).toISOString()})`);
  });
  return { url: await authorizationUrl(config, state, verifier) };
}

export type ConnectOutcome = { orgId: string; tenants: { connectionId: string; tenantName: string; status: string }[] };

/**
 * The callback. `userId` is the signed-in user; the request must have been started by that same
 * user in the organisation it names (a code pasted into someone else's session is refused).
 */
export async function completeXeroConnect(db: Db, config: XeroConfig, callbackUrl: URL, userId: string, deps: { fetch?: typeof fetch } = {}): Promise<ConnectOutcome> {
  const state = callbackUrl.searchParams.get("state") ?? "";
  const [found] = await db.execute<{ org_id: string | null }>(sql`select xero_auth_request_org(${state}) as org_id`);
  if (!state || !found?.org_id) throw new AppError("validation", "This Xero authorisation has expired or was already used. Start again from Settings → Xero.");
  const orgId = found.org_id;
  const [member] = await asUser(db, userId, (tx) => tx.execute<{ role: string }>(sql`select role from memberships where org_id = ${orgId} and user_id = ${userId}`));
  const ctx: Ctx = { orgId, userId, role: (member?.role ?? "viewer") as Ctx["role"], actorLabel: userId };
  requirePermission(ctx, "xero.manage");

  // Mark the request used first, in its own transaction: a replayed callback finds nothing.
  const verifier = await inOrg(db, ctx, async (tx) => {
    const [req] = await tx.execute<{ user_id: string; key_id: string; code_verifier: Buffer }>(sql`
      update xero_auth_requests set used_at = now() where org_id = ${orgId} and state = ${state} and used_at is null and expires_at > now()
      returning user_id, key_id, code_verifier`);
    if (!req || req.user_id !== userId) throw new AppError("validation", "This Xero authorisation was started by someone else or has expired.");
    return open(config.keyring, { keyId: req.key_id, ciphertext: req.code_verifier }, verifierAad(orgId, state));
  });

  let tokens: TokenSet;
  try {
    tokens = await exchangeCode(config, callbackUrl, state, verifier);
  } catch (e) {
    if (e instanceof XeroError) throw new AppError("validation", e.message);
    throw e;
  }
  const connections = await listXeroTenants(config, tokens.accessToken, tokens.authEventId, deps.fetch);

  return inOrg(db, ctx, async (tx) => {
    const now = new Date();
    // The id is chosen here because each ciphertext is bound to its row (see grantAad).
    const grant = { id: randomUUID() };
    const sealed = sealTokens(config, orgId, grant.id, tokens, now);
    await tx.execute(sql`
      insert into xero_grants (org_id, id, xero_user_id, auth_event_id, scopes, key_id, access_token, access_expires_at, refresh_token, created_by)
      values (${orgId}, ${grant.id}, ${tokens.xeroUserId}, ${tokens.authEventId}, ${tokens.scope}, ${sealed.keyId}, ${sealed.access}, ${sealed.accessExpiresAt}, ${sealed.refresh}, ${userId})`);
    const out: ConnectOutcome["tenants"] = [];
    for (const c of connections) {
      const [row] = await tx.execute<{ id: string; status: string }>(sql`
        insert into xero_connections (org_id, grant_id, xero_connection_id, tenant_id, tenant_name, tenant_type, status)
        values (${orgId}, ${grant.id}, ${c.id}, ${c.tenantId.toLowerCase()}, ${c.tenantName}, ${c.tenantType}, 'unmapped')
        on conflict (org_id, tenant_id) do update set grant_id = excluded.grant_id, xero_connection_id = excluded.xero_connection_id, tenant_name = excluded.tenant_name,
          status = case when xero_connections.entity_id is not null then 'active' else 'unmapped' end, disconnected_at = null
        returning id, status`);
      out.push({ connectionId: row.id, tenantName: c.tenantName, status: row.status });
    }
    // One live token set per Xero user: an older grant left without organisations is retired.
    await tx.execute(sql`
      update xero_grants g set status = 'revoked', status_reason = 'superseded by a newer authorisation'
      where g.org_id = ${orgId} and g.id <> ${grant.id} and g.status <> 'revoked'
        and not exists (select 1 from xero_connections c where c.grant_id = g.id and c.status in ('active', 'unmapped'))`);
    await appendAudit(tx, ctx, [{ action: "xero.connected", entityType: "xero_grant", entityId: grant.id, data: { tenants: connections.map((c) => ({ tenantId: c.tenantId, name: c.tenantName })), scopes: tokens.scope } }]);
    return { orgId, tenants: out };
  });
}

type XeroConnection = { id: string; tenantId: string; tenantName: string; tenantType: string; authEventId: string; updatedDateUtc: string };

/** GET /connections (no tenant header), narrowed to this consent's organisations; only ORGANISATION tenants. */
async function listXeroTenants(config: XeroConfig, accessToken: string, authEventId: string | null, fetchFn: typeof fetch = fetch): Promise<XeroConnection[]> {
  const url = new URL(config.connectionsUrl);
  if (authEventId) url.searchParams.set("authEventId", authEventId);
  const res = await fetchFn(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" }, signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new AppError("validation", `Xero did not list the connected organisations (status ${res.status}).`);
  const list = (await res.json()) as XeroConnection[];
  return list.filter((c) => c.tenantType === "ORGANISATION").sort((a, b) => xeroUtc(b.updatedDateUtc).getTime() - xeroUtc(a.updatedDateUtc).getTime());
}

export const mapTenantInput = z.object({ connectionId: z.guid(), entityId: z.guid("Choose an entity"), glAccountId: z.guid("Choose the GL account its bank lines belong to") });

/** Maps a Xero organisation to an entity: creates its 'xero' source (entity currency, the chosen asset account) and activates it. */
export async function mapXeroTenant(db: Db, ctx: Ctx, input: z.infer<typeof mapTenantInput>): Promise<{ sourceId: string }> {
  requirePermission(ctx, "xero.manage");
  return inOrg(db, ctx, async (tx) => {
    const [conn] = await tx.execute<{ tenant_name: string; status: string; source_id: string | null }>(sql`select tenant_name, status, source_id from xero_connections where org_id = ${ctx.orgId} and id = ${input.connectionId} for update`);
    if (!conn) throw notFound("The Xero organisation");
    if (conn.status === "disconnected") throw new AppError("conflict", "This Xero organisation is disconnected; connect it again first.");
    if (conn.source_id) throw new AppError("conflict", "This Xero organisation is already mapped.");
    const [entity] = await tx.execute<{ functional_currency: string }>(sql`select functional_currency from entities where org_id = ${ctx.orgId} and id = ${input.entityId}`);
    if (!entity) throw new AppError("validation", "Some fields need attention.", { entityId: ["Choose an entity of this organisation"] });
    const [account] = await tx.execute<{ entity_id: string; type: string; currency: string; is_active: boolean }>(sql`select entity_id, type, currency, is_active from accounts where org_id = ${ctx.orgId} and id = ${input.glAccountId}`);
    if (!account || account.entity_id !== input.entityId || account.type !== "asset" || !account.is_active || account.currency !== entity.functional_currency) {
      throw new AppError("validation", "Some fields need attention.", { glAccountId: [`Choose an active asset account of the entity, kept in ${entity.functional_currency}`] });
    }
    let name = `Xero – ${conn.tenant_name}`.slice(0, 90);
    for (let n = 2; (await tx.execute(sql`select 1 from sources where org_id = ${ctx.orgId} and name = ${name}`)).length; n++) name = `Xero – ${conn.tenant_name} (${n})`.slice(0, 100);
    const [source] = await tx.execute<{ id: string }>(sql`
      insert into sources (org_id, entity_id, kind, name, currency, gl_account_id, created_by)
      values (${ctx.orgId}, ${input.entityId}, 'xero', ${name}, ${entity.functional_currency}, ${input.glAccountId}, ${ctx.userId}) returning id`);
    await tx.execute(sql`update xero_connections set entity_id = ${input.entityId}, source_id = ${source.id}, status = case when status = 'unmapped' then 'active' else status end where org_id = ${ctx.orgId} and id = ${input.connectionId}`);
    await appendAudit(tx, ctx, [{ action: "xero.tenant.mapped", entityType: "xero_connection", entityId: input.connectionId, data: { entityId: input.entityId, glAccountId: input.glAccountId, sourceId: source.id } }]);
    return { sourceId: source.id };
  });
}

/**
 * DELETE /connections/{id} at Xero (404 means it is already gone), stop its syncs, and — when it was
 * the grant's last organisation — revoke the refresh token at Xero and wipe both stored tokens.
 */
export async function disconnectXeroTenant(db: Db, ctx: Ctx, config: XeroConfig, connectionId: string, deps: { fetch?: typeof fetch } = {}): Promise<{ revoked: boolean }> {
  requirePermission(ctx, "xero.manage");
  if (!isUuid(connectionId)) throw notFound("The Xero organisation");
  const [conn] = await inOrg(db, ctx, (tx) =>
    tx.execute<{ grant_id: string; xero_connection_id: string; status: string; grant_status: string }>(sql`
      select c.grant_id, c.xero_connection_id, c.status, g.status as grant_status from xero_connections c join xero_grants g on g.id = c.grant_id
      where c.org_id = ${ctx.orgId} and c.id = ${connectionId}`),
  );
  if (!conn) throw notFound("The Xero organisation");
  if (conn.status === "disconnected") throw new AppError("conflict", "This Xero organisation is already disconnected.");
  const fetchFn = deps.fetch ?? fetch;
  let remoteNote = "deleted at Xero";
  if (conn.grant_status === "active") {
    try {
      const token = await accessTokenFor(db, ctx, conn.grant_id, { config });
      const res = await fetchFn(`${config.connectionsUrl.replace(/\/$/, "")}/${conn.xero_connection_id}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
      if (res.status !== 204 && res.status !== 404) throw new AppError("conflict", `Xero did not remove the connection (status ${res.status}); try again.`);
      if (res.status === 404) remoteNote = "already gone at Xero";
    } catch (e) {
      if (!(e instanceof XeroError && e.kind === "needs_reauth")) throw e;
      remoteNote = "authorisation already invalid at Xero";
    }
  } else remoteNote = "authorisation already invalid at Xero";

  const last = await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`update xero_connections set status = 'disconnected', disconnected_at = now() where org_id = ${ctx.orgId} and id = ${connectionId}`);
    await tx.execute(sql`update xero_sync_jobs set status = 'cancelled', finished_at = now(), error = 'Xero was disconnected' where org_id = ${ctx.orgId} and connection_id = ${connectionId} and status in ('queued', 'running', 'parked')`);
    const [others] = await tx.execute(sql`select 1 from xero_connections where org_id = ${ctx.orgId} and grant_id = ${conn.grant_id} and status in ('active', 'unmapped', 'needs_reauth') limit 1`);
    await appendAudit(tx, ctx, [{ action: "xero.tenant.disconnected", entityType: "xero_connection", entityId: connectionId, data: { remote: remoteNote } }]);
    return !others;
  });
  if (!last) return { revoked: false };

  let revoked = false;
  await inOrg(db, ctx, async (tx) => {
    const [g] = await tx.execute<{ key_id: string; refresh_token: Buffer; status: string }>(sql`select key_id, refresh_token, status from xero_grants where org_id = ${ctx.orgId} and id = ${conn.grant_id} for update`);
    if (g.status === "active") {
      try {
        await revokeRefreshToken(config, open(config.keyring, { keyId: g.key_id, ciphertext: g.refresh_token }, grantAad(ctx.orgId, conn.grant_id, "refresh")));
        revoked = true;
      } catch {
        // Revocation is best effort: the tokens are wiped below either way and the grant is unusable.
      }
    }
    await tx.execute(sql`update xero_grants set status = 'revoked', status_reason = 'disconnected', access_token = '\\x'::bytea, refresh_token = '\\x'::bytea where org_id = ${ctx.orgId} and id = ${conn.grant_id}`);
    await appendAudit(tx, ctx, [{ action: "xero.grant.revoked", entityType: "xero_grant", entityId: conn.grant_id, data: { revokedAtXero: revoked } }]);
  });
  return { revoked };
}

export type XeroConnectionView = {
  id: string;
  tenantName: string;
  tenantId: string;
  status: string;
  entityId: string | null;
  entityName: string | null;
  sourceId: string | null;
  journals: string | null;
  parkedUntil: string | null;
  grantStatus: string;
  dayCalls: number;
  lastSync: { id: string; status: string; kind: string; finishedAt: string | null } | null;
};

export async function listXeroConnections(db: Db, ctx: Ctx): Promise<XeroConnectionView[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<XeroConnectionView>(sql`
      select c.id, c.tenant_name as "tenantName", c.tenant_id as "tenantId", c.status, c.entity_id as "entityId", e.name as "entityName", c.source_id as "sourceId",
             c.journals, c.parked_until as "parkedUntil", g.status as "grantStatus", c.day_calls as "dayCalls",
             (select json_build_object('id', j.id, 'status', j.status, 'kind', j.kind, 'finishedAt', j.finished_at) from xero_sync_jobs j
               where j.org_id = c.org_id and j.connection_id = c.id order by j.created_at desc limit 1) as "lastSync"
      from xero_connections c join xero_grants g on g.id = c.grant_id left join entities e on e.id = c.entity_id
      where c.org_id = ${ctx.orgId} and c.status <> 'disconnected' order by c.tenant_name`)),
  ]);
}
