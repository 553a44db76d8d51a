import { sql } from "drizzle-orm";
import { DEFAULT_CLIENT, startXeroSimulator, type SimulatorOptions, type XeroSimulator } from "@/e2e/simulators/xero/server";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import type { Ctx } from "@/server/tenancy/context";
import { XERO_SCOPES, type XeroConfig } from "./config";
import { completeXeroConnect, mapXeroTenant, startXeroConnect } from "./connections";
import { newKeySpec, parseKeyring } from "./token-vault";

// Shared by the Xero db tests (no vitest import here): a simulator, a config pointing at it, and an
// organisation connected through the real OAuth code path.

export const REDIRECT_URI = "http://localhost:3999/api/xero/callback";

export async function simulatorAndConfig(opts: SimulatorOptions & { pageSize?: number; perDay?: number } = {}): Promise<{ sim: XeroSimulator; config: XeroConfig }> {
  const sim = await startXeroSimulator(opts);
  sim.registerRedirectUri(REDIRECT_URI);
  const config: XeroConfig = {
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret!,
    redirectUri: REDIRECT_URI,
    issuer: sim.url,
    authorizeUrl: `${sim.url}/identity/connect/authorize`,
    tokenUrl: `${sim.url}/connect/token`,
    revocationUrl: `${sim.url}/connect/revocation`,
    connectionsUrl: `${sim.url}/connections`,
    apiBase: `${sim.url}/api.xro/2.0`,
    scopes: XERO_SCOPES,
    webhookKey: "test-webhook-key-0123456789abcdef",
    keyring: parseKeyring(newKeySpec("k1")),
    limits: { perMinute: 60, concurrent: 5, perDay: opts.perDay ?? 5000, appPerMinute: 10_000 },
    pageSize: opts.pageSize ?? 100,
    overlapSeconds: 300,
    timeScale: opts.timeScale ?? 1,
    simulated: true,
  };
  return { sim, config };
}


/** Connects the admin's organisation to the given simulator tenants (the browser step done by consentUrl) and maps each to an entity. */
export async function connectTenants(db: Db, admin: Ctx, sim: XeroSimulator, config: XeroConfig, tenants: { tenantId: string; entityId: string; glAccountId: string }[]) {
  const { url } = await startXeroConnect(db, admin, config);
  const back = new URL(sim.consentUrl(url, tenants.map((t) => t.tenantId)));
  const outcome = await completeXeroConnect(db, config, back, admin.userId!);
  const byTenant = new Map<string, string>();
  for (const t of tenants) {
    const [row] = await inOrg(db, admin, (tx) => tx.execute<{ id: string }>(sql`select id from xero_connections where org_id = ${admin.orgId} and tenant_id = ${t.tenantId}`));
    await mapXeroTenant(db, admin, { connectionId: row.id, entityId: t.entityId, glAccountId: t.glAccountId });
    byTenant.set(t.tenantId, row.id);
  }
  return { outcome, connectionIds: byTenant };
}

/** Another entity (own chart) in the test organisation, for mapping a second Xero tenant. */
export async function addEntity(db: Db, ctx: Ctx, name: string, currency = "EUR"): Promise<{ entityId: string; bankAccountId: string }> {
  return inOrg(db, ctx, async (tx) => {
    const [e] = await tx.execute<{ id: string }>(sql`insert into entities (org_id, name, functional_currency, time_zone) values (${ctx.orgId}, ${name}, ${currency}, 'Europe/Berlin') returning id`);
    const [a] = await tx.execute<{ id: string }>(sql`
      insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${ctx.orgId}, ${e.id}, '090', 'Bank', 'asset', 'debit', ${currency}) returning id`);
    return { entityId: e.id, bankAccountId: a.id };
  });
}

/** What Tieout holds for a connection: rows per resource, duplicates by Xero id, canonical lines and any doubled canonical id. */
export async function heldCounts(db: Db, ctx: Ctx, connectionId: string) {
  return inOrg(db, ctx, async (tx) => {
    const perResource = await tx.execute<{ resource: string; n: number }>(sql`select resource, count(*)::int as n from xero_records where org_id = ${ctx.orgId} and connection_id = ${connectionId} group by resource`);
    const [canon] = await tx.execute<{ n: number; doubled: number }>(sql`
      select count(*)::int as n, (count(*) - count(distinct external_id))::int as doubled from canonical_transactions
      where org_id = ${ctx.orgId} and source_id = (select source_id from xero_connections where id = ${connectionId})`);
    const [landed] = await tx.execute<{ n: number }>(sql`select count(*)::int as n from xero_records where org_id = ${ctx.orgId} and connection_id = ${connectionId} and landed`);
    return { records: Object.fromEntries(perResource.map((r) => [r.resource, r.n])) as Record<string, number>, canonical: canon.n, canonicalDoubled: canon.doubled, landed: landed.n };
  });
}

/** The simulator's record count per Tieout resource key (what a complete copy must hold). */
export function simCounts(sim: XeroSimulator, tenantId: string, journals = true): Record<string, number> {
  const o = sim.orgs.get(tenantId)!;
  const c: Record<string, number> = {
    accounts: o.records.Accounts.size, contacts: o.records.Contacts.size, bank_transactions: o.records.BankTransactions.size, bank_transfers: o.records.BankTransfers.size,
    invoices: o.records.Invoices.size, credit_notes: o.records.CreditNotes.size, payments: o.records.Payments.size, manual_journals: o.records.ManualJournals.size,
  };
  if (journals && o.journalsEntitled) c.journals = o.records.Journals.size;
  return c;
}

/** Bank transactions and payments that should be canonical lines: live when first seen. */
export function simLiveMoney(sim: XeroSimulator, tenantId: string): number {
  const o = sim.orgs.get(tenantId)!;
  return [...o.records.BankTransactions.values(), ...o.records.Payments.values()].filter((r) => r.body.Status !== "DELETED" && r.body.Status !== "VOIDED").length;
}
