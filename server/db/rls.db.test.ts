import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase } from "@/test/db";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { inOrg } from "@/server/db/tenant";

const t = await testDatabase();
const TENANT_TABLES = [
  "organisations", "memberships", "entities", "accounts", "fiscal_periods", "journal_entries", "journal_lines",
  "journal_drafts", "entry_sequences", "audit_log", "check_runs",
] as const;
const orgColumn = (table: string) => (table === "organisations" ? "id" : "org_id");

const a = await createTestOrg(t.db, { name: "Org A" });
const b = await createTestOrg(t.db, { name: "Org B" });
for (const org of [a, b]) {
  await postJournalEntry(t.db, org.ctx.accountant, {
    entityId: org.entityId, entryDate: `${org.year}-01-31`, description: "opening", idempotencyKey: randomUUID(),
    lines: [{ accountId: org.accounts["1000"], amount: "100.00" }, { accountId: org.accounts["3000"], amount: "-100.00" }],
  });
  await inOrg(t.db, org.system, async (tx) => {
    await tx.execute(sql`insert into journal_drafts (org_id, entity_id, entry_date, description, lines) values (${org.orgId}, ${org.entityId}, '2026-01-01', 'draft', '[]')`);
    await tx.execute(sql`insert into check_runs (org_id, kind, status, trigger) values (${org.orgId}, 'trial_balance', 'ok', 'test')`);
  });
}

async function countAs(scope: { orgId?: string; userId?: string }, table: string, ofOrg: string) {
  return t.db.transaction(async (tx) => {
    if (scope.orgId) await tx.execute(sql`select set_config('app.org_id', ${scope.orgId}, true)`);
    if (scope.userId) await tx.execute(sql`select set_config('app.user_id', ${scope.userId}, true)`);
    const [r] = await tx.execute<{ n: string; all: string }>(
      sql`select count(*) filter (where ${sql.identifier(orgColumn(table))} = ${ofOrg}) as n, count(*) as all from ${sql.identifier(table)}`,
    );
    return { n: Number(r.n), all: Number(r.all) };
  });
}

describe("row-level security", () => {
  it("has rows of both organisations in every tenant table (seen by the owner)", async () => {
    for (const table of TENANT_TABLES) {
      for (const org of [a, b]) {
        const [r] = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from ${sql.identifier(table)} where ${sql.identifier(orgColumn(table))} = ${org.orgId}`);
        expect(Number(r.n), `${table} of ${org.orgId}`).toBeGreaterThan(0);
      }
    }
  });

  it("shows the app role nothing when no organisation is set", async () => {
    const seen: Record<string, number> = {};
    for (const table of TENANT_TABLES) seen[table] = (await countAs({}, table, a.orgId)).all;
    expect(seen).toEqual(Object.fromEntries(TENANT_TABLES.map((x) => [x, 0])));
  });

  it("shows the app role none of organisation A's rows while organisation B is set", async () => {
    const ofA: Record<string, number> = {};
    const ofB: Record<string, number> = {};
    for (const table of TENANT_TABLES) {
      ofA[table] = (await countAs({ orgId: b.orgId }, table, a.orgId)).n;
      ofB[table] = (await countAs({ orgId: b.orgId }, table, b.orgId)).n;
    }
    expect(ofA).toEqual(Object.fromEntries(TENANT_TABLES.map((x) => [x, 0])));
    for (const table of TENANT_TABLES) expect(ofB[table], table).toBeGreaterThan(0);
    // A user of B only: A's organisation and memberships stay hidden too.
    expect((await countAs({ orgId: b.orgId, userId: b.ctx.admin.userId! }, "organisations", a.orgId)).n).toBe(0);
    expect((await countAs({ orgId: b.orgId, userId: b.ctx.admin.userId! }, "memberships", a.orgId)).n).toBe(0);
  });

  it("refuses rows written with another organisation's org_id", async () => {
    const asB = (q: ReturnType<typeof sql>) => inOrg(t.db, b.system, (tx) => tx.execute(q));
    const attempts = {
      account: sql`insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${a.orgId}, ${a.entityId}, '9999', 'x', 'asset', 'debit', 'EUR')`,
      entity: sql`insert into entities (org_id, name, functional_currency, time_zone) values (${a.orgId}, 'x', 'EUR', 'UTC')`,
      period: sql`insert into fiscal_periods (org_id, entity_id, name, starts_on, ends_on) values (${a.orgId}, ${a.entityId}, 'x', '2030-01-01', '2030-01-31')`,
      membership: sql`insert into memberships (org_id, user_id, role) values (${a.orgId}, ${b.ctx.admin.userId}, 'admin')`,
      draft: sql`insert into journal_drafts (org_id, entity_id, entry_date, description, lines) values (${a.orgId}, ${a.entityId}, '2026-01-01', 'x', '[]')`,
      entry: sql`insert into journal_entries (org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
                 values (${a.orgId}, ${a.entityId}, 99, '2026-02-01', 'x', ${randomUUID()}, 'x', 'x')`,
      audit: sql`insert into audit_log (org_id, seq, at, actor_label, action, entity_type, data, prev_hash, hash)
                 values (${a.orgId}, 1, now(), 'x', 'x', 'x', '{}', ${"0".repeat(64)}, 'x')`,
      checkRun: sql`insert into check_runs (org_id, kind, status, trigger) values (${a.orgId}, 'x', 'x', 'x')`,
      organisationRename: sql`update organisations set name = 'hijacked' where id = ${a.orgId}`,
    };
    const outcomes: Record<string, string> = {};
    for (const [name, q] of Object.entries(attempts)) outcomes[name] = await failureOf(() => asB(q));
    // 42501 = "new row violates row-level security policy"; the rename finds no visible row. (The
    // entry's period check runs once per statement after the policy check, so it is 42501 too.)
    expect(outcomes).toEqual({
      ...Object.fromEntries(Object.keys(attempts).map((k) => [k, "42501"])),
      organisationRename: "no error",
    });
    const [org] = await t.adminDb.execute<{ name: string }>(sql`select name from organisations where id = ${a.orgId}`);
    expect(org.name).toBe("Org A");
    // B cannot move its own row into A either.
    expect(await failureOf(() => asB(sql`update accounts set org_id = ${a.orgId} where org_id = ${b.orgId} and code = '1000'`))).toBe("42501");
  });
});

describe("inOrg", () => {
  const planMode = (tx: Parameters<Parameters<typeof inOrg>[2]>[0]) =>
    tx.execute<{ mode: string; org: string; isolation: string }>(sql`select current_setting('plan_cache_mode') as mode, current_setting('app.org_id') as org, current_setting('transaction_isolation') as isolation`).then((r) => r[0]);

  it("plans statements once per connection only when asked, and only for that transaction", async () => {
    expect(await inOrg(t.db, a.ctx.viewer, planMode, { genericPlans: true })).toEqual({ mode: "force_generic_plan", org: a.orgId, isolation: "read committed" });
    // The pool's next transactions (whichever connection they get) are back to PostgreSQL's choice.
    for (let i = 0; i < 3; i++) expect(await inOrg(t.db, b.ctx.viewer, planMode)).toEqual({ mode: "auto", org: b.orgId, isolation: "read committed" });
    expect(await inOrg(t.db, a.ctx.viewer, planMode, { isolationLevel: "repeatable read", accessMode: "read only" })).toEqual({ mode: "auto", org: a.orgId, isolation: "repeatable read" });
  });
});
