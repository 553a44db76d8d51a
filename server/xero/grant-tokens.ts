import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import type { Ctx } from "@/server/tenancy/context";
import type { XeroConfig } from "./config";
import { refreshTokens, type TokenSet } from "./oauth";
import { grantAad, open, seal } from "./token-vault";
import { XeroError } from "./xero-errors";

/** Refresh this long before Xero's 30-minute expiry, so a page never starts with a dying token. */
const EARLY_REFRESH_MS = 5 * 60_000;

export type TokenDeps = {
  config: XeroConfig;
  /** The refresh call itself (tests count it); defaults to oauth.refreshTokens. */
  refresh?: (config: XeroConfig, refreshToken: string) => Promise<TokenSet>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
};

type GrantRow = { status: string; key_id: string; access_token: Buffer; refresh_token: Buffer; access_expires_at: Date | string };

/** A token pair sealed for one grant row (its organisation, id and field are bound into each ciphertext). */
export function sealTokens(config: XeroConfig, orgId: string, grantId: string, t: TokenSet, now: Date) {
  const access = seal(config.keyring, t.accessToken, grantAad(orgId, grantId, "access"));
  const refresh = seal(config.keyring, t.refreshToken, grantAad(orgId, grantId, "refresh"));
  if (access.keyId !== refresh.keyId) throw new Error("one key seals both tokens");
  return { keyId: access.keyId, access: access.ciphertext, refresh: refresh.ciphertext, accessExpiresAt: new Date(now.getTime() + t.expiresIn * 1000).toISOString() };
}

/** Writes a fresh token pair (sealed) onto the grant; the caller's transaction commits it before anyone uses it. */
export async function storeTokens(tx: Db, config: XeroConfig, orgId: string, grantId: string, t: TokenSet, now: Date): Promise<void> {
  const sealed = sealTokens(config, orgId, grantId, t, now);
  await tx.execute(sql`
    update xero_grants set key_id = ${sealed.keyId}, access_token = ${sealed.access}, refresh_token = ${sealed.refresh},
      access_expires_at = ${sealed.accessExpiresAt}, refreshed_at = ${now.toISOString()}, refresh_count = refresh_count + 1,
      scopes = coalesce(nullif(${t.scope}, ''), scopes)
    where org_id = ${orgId} and id = ${grantId}`);
}

/**
 * A usable access token for the grant. Most calls just decrypt the stored one. When it is about to
 * expire — or the caller saw Xero reject `staleToken` as expired — exactly one caller refreshes:
 * the grant row is locked FOR UPDATE, re-read, and only refreshed if nobody did it meanwhile. The
 * new pair is committed before the lock is released and before anyone uses it. A refresh whose
 * response is lost is retried with the same refresh token (Xero honours it for 30 minutes after
 * its first use); invalid_grant marks the grant "needs re-authorisation" and is never retried.
 */
export async function accessTokenFor(db: Db, ctx: Ctx, grantId: string, deps: TokenDeps, opts: { staleToken?: string } = {}): Promise<string> {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const read = (row: GrantRow, field: "access" | "refresh") => open(config.keyring, { keyId: row.key_id, ciphertext: field === "access" ? row.access_token : row.refresh_token }, grantAad(ctx.orgId, grantId, field));
  const fresh = (row: GrantRow) => new Date(row.access_expires_at).getTime() - EARLY_REFRESH_MS > now().getTime();

  // Fast path, no lock.
  const [peek] = await inOrg(db, ctx, (tx) => tx.execute<GrantRow>(sql`select status, key_id, access_token, refresh_token, access_expires_at from xero_grants where org_id = ${ctx.orgId} and id = ${grantId}`));
  if (!peek) throw new XeroError("needs_reauth", "The Xero connection no longer exists.");
  if (peek.status !== "active") throw new XeroError("needs_reauth", "Xero needs to be re-authorised by an admin.");
  if (fresh(peek) && (!opts.staleToken || read(peek, "access") !== opts.staleToken)) return read(peek, "access");

  let failure: XeroError | undefined;
  const token = await inOrg(db, ctx, async (tx) => {
    const [row] = await tx.execute<GrantRow>(sql`select status, key_id, access_token, refresh_token, access_expires_at from xero_grants where org_id = ${ctx.orgId} and id = ${grantId} for update`);
    if (!row || row.status !== "active") {
      failure = new XeroError("needs_reauth", "Xero needs to be re-authorised by an admin.");
      return null;
    }
    const current = read(row, "access");
    // Someone refreshed while we waited for the lock.
    if (fresh(row) && current !== opts.staleToken) return current;
    const refreshToken = read(row, "refresh");
    const refresh = deps.refresh ?? refreshTokens;
    for (let attempt = 1; ; attempt++) {
      try {
        const t = await refresh(config, refreshToken);
        await storeTokens(tx, config, ctx.orgId, grantId, t, now());
        return t.accessToken;
      } catch (e) {
        const err = e instanceof XeroError ? e : new XeroError("unavailable", "Refreshing the Xero token failed.");
        if (err.kind === "unavailable" && attempt < 4) {
          // Lost response: Xero may have rotated already; the same refresh token stays valid for 30 minutes after first use.
          await (deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(250 * attempt);
          continue;
        }
        if (err.kind === "needs_reauth") {
          await tx.execute(sql`update xero_grants set status = 'needs_reauth', status_reason = 'invalid_grant' where org_id = ${ctx.orgId} and id = ${grantId}`);
          await tx.execute(sql`update xero_connections set status = 'needs_reauth' where org_id = ${ctx.orgId} and grant_id = ${grantId} and status = 'active'`);
          await appendAudit(tx, ctx, [{ action: "xero.grant.needs_reauth", entityType: "xero_grant", entityId: grantId, data: { reason: "invalid_grant" } }]);
        }
        failure = err;
        return null;
      }
    }
  });
  if (token === null) throw failure!;
  return token;
}
