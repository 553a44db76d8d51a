import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { listOrganisationIds } from "@/server/jobs/organisations";
import { systemCtx } from "@/server/tenancy/context";
import { grantAad, open, seal, verifierAad, type Keyring } from "./token-vault";

/**
 * Key rotation: every stored token (and pending PKCE verifier) not yet under the keyring's current
 * key is opened with its own key and sealed again under the current one, row by row under a row
 * lock, so a refresh running at the same time either sees the old row or the new one. Run after
 * putting a new key first in XERO_TOKEN_KEYS (keep the old one listed until this reports 0 left).
 */
export async function rewrapXeroTokens(db: Db, ring: Keyring): Promise<{ rewrapped: number; remaining: number }> {
  let rewrapped = 0;
  for (const orgId of await listOrganisationIds(db)) {
    const ctx = systemCtx(orgId, "xero-rewrap");
    rewrapped += await inOrg(db, ctx, async (tx) => {
      let n = 0;
      const grants = await tx.execute<{ id: string; key_id: string; access_token: Buffer; refresh_token: Buffer }>(sql`
        select id, key_id, access_token, refresh_token from xero_grants where org_id = ${orgId} and key_id <> ${ring.current} and length(refresh_token) > 0 for update`);
      for (const g of grants) {
        const access = seal(ring, open(ring, { keyId: g.key_id, ciphertext: g.access_token }, grantAad(orgId, g.id, "access")), grantAad(orgId, g.id, "access"));
        const refresh = seal(ring, open(ring, { keyId: g.key_id, ciphertext: g.refresh_token }, grantAad(orgId, g.id, "refresh")), grantAad(orgId, g.id, "refresh"));
        await tx.execute(sql`update xero_grants set key_id = ${ring.current}, access_token = ${access.ciphertext}, refresh_token = ${refresh.ciphertext} where org_id = ${orgId} and id = ${g.id}`);
        n++;
      }
      const pending = await tx.execute<{ state: string; key_id: string; code_verifier: Buffer }>(sql`
        select state, key_id, code_verifier from xero_auth_requests where org_id = ${orgId} and key_id <> ${ring.current} and used_at is null for update`);
      for (const r of pending) {
        const v = seal(ring, open(ring, { keyId: r.key_id, ciphertext: r.code_verifier }, verifierAad(orgId, r.state)), verifierAad(orgId, r.state));
        await tx.execute(sql`update xero_auth_requests set key_id = ${ring.current}, code_verifier = ${v.ciphertext} where org_id = ${orgId} and state = ${r.state}`);
        n++;
      }
      if (n) await appendAudit(tx, ctx, [{ action: "xero.tokens.rewrapped", entityType: "organisation", entityId: orgId, data: { count: n, keyId: ring.current } }]);
      return n;
    });
  }
  let remaining = 0;
  for (const orgId of await listOrganisationIds(db)) {
    const [r] = await inOrg(db, systemCtx(orgId, "xero-rewrap"), (tx) =>
      tx.execute<{ n: number }>(sql`select count(*)::int as n from xero_grants where org_id = ${orgId} and key_id <> ${ring.current} and length(refresh_token) > 0`),
    );
    remaining += r.n;
  }
  return { rewrapped, remaining };
}
