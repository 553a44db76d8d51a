import { spawnSync } from "node:child_process";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { XeroSimulator } from "@/e2e/simulators/xero/server";
import { createTestOrg, testDatabase, type TestOrg } from "@/test/db";
import type { XeroConfig } from "./config";
import { accessTokenFor } from "./grant-tokens";
import { rewrapXeroTokens } from "./rewrap-tokens";
import { grantAad, newKeySpec, open, parseKeyring, seal, TokenVaultError } from "./token-vault";
import { addEntity, connectTenants, simulatorAndConfig } from "./xero-test-kit";

/**
 * Tokens at rest: AES-256-GCM round trips, any tampering (a flipped bit, a ciphertext moved to
 * another row, the wrong key) is detected, rotation re-wraps every stored token under the new key,
 * and no token the simulator ever issued appears in a dump of the database.
 */
const t = await testDatabase();
let org: TestOrg;
let sim: XeroSimulator;
let config: XeroConfig;

beforeAll(async () => {
  ({ sim, config } = await simulatorAndConfig({ recordsPerOrg: 60, seed: 5, orgs: [{ name: "Harbour Road Trading Ltd", baseCurrency: "EUR" }, { name: "Kauri Cafe Group Ltd", baseCurrency: "EUR" }] }));
  org = await createTestOrg(t.db);
  const [a, b] = sim.tenantIds();
  const second = await addEntity(t.db, org.ctx.admin, "Kauri GmbH");
  await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId: a, entityId: org.entityId, glAccountId: org.accounts["1000"] }]);
  await connectTenants(t.db, org.ctx.admin, sim, config, [{ tenantId: b, entityId: second.entityId, glAccountId: second.bankAccountId }]);
});
afterAll(() => sim.close());

const grants = () => t.adminDb.execute<{ id: string; key_id: string; access_token: Buffer; refresh_token: Buffer }>(sql`select id, key_id, access_token, refresh_token from xero_grants where org_id = ${org.orgId} order by created_at`);

describe("token vault", () => {
  test("seal and open round-trip; every seal uses a fresh IV", () => {
    const ring = parseKeyring(newKeySpec("k1"));
    const a = seal(ring, "refresh-token-value", "org|row|refresh");
    const b = seal(ring, "refresh-token-value", "org|row|refresh");
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(open(ring, a, "org|row|refresh")).toBe("refresh-token-value");
    expect(a.keyId).toBe("k1");
  });

  test("a flipped bit, a ciphertext moved to another row or field, and an unknown key are all refused without echoing the token", () => {
    const ring = parseKeyring(newKeySpec("k1"));
    const s = seal(ring, "secret-token", "org|g1|refresh");
    for (let bit = 0; bit < s.ciphertext.length * 8; bit += 37) {
      const tampered = Buffer.from(s.ciphertext);
      tampered[bit >> 3] ^= 1 << (bit & 7);
      expect(() => open(ring, { keyId: "k1", ciphertext: tampered }, "org|g1|refresh")).toThrow(TokenVaultError);
    }
    expect(() => open(ring, s, "org|g2|refresh")).toThrow(/integrity/);
    expect(() => open(ring, s, "org|g1|access")).toThrow(/integrity/);
    expect(() => open(ring, { ...s, keyId: "k9" }, "org|g1|refresh")).toThrow(/k9/);
    expect(() => open(parseKeyring(newKeySpec("k1")), s, "org|g1|refresh")).toThrow(TokenVaultError);
    try {
      open(ring, s, "x");
    } catch (e) {
      expect(String((e as Error).message)).not.toContain("secret-token");
    }
  });

  test("tampering with a stored token in the database is detected when it is used", async () => {
    const [g] = await grants();
    const tampered = Buffer.from(g.access_token);
    tampered[tampered.length - 1] ^= 0x01;
    await t.adminDb.execute(sql`update xero_grants set access_token = ${tampered} where id = ${g.id}`);
    await expect(accessTokenFor(t.db, org.ctx.admin, g.id, { config })).rejects.toThrow(TokenVaultError);
    await t.adminDb.execute(sql`update xero_grants set access_token = ${g.access_token} where id = ${g.id}`);
    expect(await accessTokenFor(t.db, org.ctx.admin, g.id, { config })).toMatch(/^eyJ/);
  });

  test("rotation re-wraps every token under the new key; the old key can then be dropped", async () => {
    const before = await grants();
    expect(before.length).toBe(2);
    const oldSpec = [...config.keyring.keys.entries()].map(([id, k]) => `${id}:${k.toString("base64")}`).join(",");
    const rotated = parseKeyring(`${newKeySpec("k2")},${oldSpec}`);
    const r = await rewrapXeroTokens(t.db, rotated);
    expect(r).toEqual({ rewrapped: 2, remaining: 0 });
    const after = await grants();
    expect(after.map((g) => g.key_id)).toEqual(["k2", "k2"]);
    const onlyNew = parseKeyring(`k2:${rotated.keys.get("k2")!.toString("base64")}`);
    for (const [i, g] of after.entries()) {
      expect(g.refresh_token.equals(before[i].refresh_token)).toBe(false);
      const plain = open(onlyNew, { keyId: "k2", ciphertext: g.refresh_token }, grantAad(org.orgId, g.id, "refresh"));
      expect(plain).toBe(open(config.keyring, { keyId: before[i].key_id, ciphertext: before[i].refresh_token }, grantAad(org.orgId, g.id, "refresh")));
    }
    // The app with only the new key still reaches Xero with the re-wrapped tokens.
    const token = await accessTokenFor(t.db, org.ctx.admin, after[0].id, { config: { ...config, keyring: onlyNew } });
    const res = await fetch(`${sim.url}/connections`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    config = { ...config, keyring: onlyNew };
  });

  test("no plaintext token appears in a dump of the database", async () => {
    const issued = sim.issuedTokenStrings();
    expect(issued.length).toBeGreaterThanOrEqual(4);
    let dump = "";
    let how = "pg_dump --data-only";
    const r = spawnSync("pg_dump", ["--data-only", "--dbname", t.adminUrl], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.status === 0) dump = r.stdout;
    else {
      // This machine's pg_dump (Debian, 15) refuses the embedded PostgreSQL 18 server ("server version
      // mismatch"). The same data pg_dump would write: every table's rows through COPY ... TO STDOUT.
      how = `COPY of every table (pg_dump unavailable: ${(r.stderr || "").split("\n")[0].slice(0, 80)})`;
      const c = postgres(t.adminUrl, { max: 1, onnotice: () => {} });
      const tables = await c<{ name: string }[]>`select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`;
      for (const { name } of tables) {
        const rows = await c.unsafe(`select * from ${name}`);
        dump += `-- ${name}\n${rows.map((row) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? `\\x${v.toString("hex")}` : typeof v === "object" ? JSON.stringify(v) : String(v))).join("\t")).join("\n")}\n`;
      }
      await c.end();
    }
    expect(dump).toContain("xero_grants");
    const leaks = issued.filter((tok) => dump.includes(tok) || dump.includes(Buffer.from(tok).toString("hex")) || dump.includes(Buffer.from(tok).toString("base64")));
    console.log(`[token dump] ${how}: ${dump.length.toLocaleString("en")} characters searched for ${issued.length} issued tokens (plain, hex, base64): ${leaks.length} found`);
    expect(leaks).toEqual([]);
  });
});
