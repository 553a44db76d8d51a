import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { systemCtx, type Ctx, type Role } from "@/server/tenancy/context";

// Fixtures shared by the db tests and the benchmark; nothing here imports vitest.

export type ChartCode = string;
export type TestOrg = {
  orgId: string;
  entityId: string;
  /** account id by code */
  accounts: Record<ChartCode, string>;
  accountIds: string[];
  ctx: Record<Role, Ctx>;
  system: Ctx;
  year: number;
};

const DEFAULT_CHART: [string, string, "asset" | "liability" | "equity" | "income" | "expense"][] = [
  ["1000", "Bank", "asset"],
  ["1100", "Accounts receivable", "asset"],
  ["2000", "Accounts payable", "liability"],
  ["3000", "Share capital", "equity"],
  ["4000", "Revenue", "income"],
  ["6000", "Expenses", "expense"],
];

/**
 * An organisation with one EUR entity, a chart of accounts (the default six, or `accountCount`
 * generated ones), twelve open monthly periods of `year`, and one user and ctx per role.
 * Written as the application role with the organisation set, like any writer.
 */
export async function createTestOrg(db: Db, opts: { name?: string; year?: number; accountCount?: number } = {}): Promise<TestOrg> {
  const year = opts.year ?? 2026;
  const [{ id: orgId }] = await db.execute<{ id: string }>(sql`select gen_random_uuid() as id`);
  const system = systemCtx(orgId, "test");
  const chart = opts.accountCount
    ? Array.from({ length: opts.accountCount }, (_, i) => [String(1000 + i), `Account ${i + 1}`, (["asset", "liability", "equity", "income", "expense"] as const)[i % 5]] as const)
    : DEFAULT_CHART;
  const suffix = randomBytes(4).toString("hex");
  const ctx = {} as Record<Role, Ctx>;
  for (const role of ["admin", "accountant", "approver", "viewer"] as const) {
    const [u] = await db.execute<{ id: string }>(sql`insert into users (email, name) values (${`${role}-${suffix}@test.tieout.dev`}, ${`Test ${role}`}) returning id`);
    ctx[role] = { orgId, userId: u.id, role, actorLabel: `Test ${role}` };
  }
  const accounts: Record<string, string> = {};
  let entityId = "";
  await inOrg(db, system, async (tx) => {
    await tx.execute(sql`insert into organisations (id, name) values (${orgId}, ${opts.name ?? `Test org ${suffix}`})`);
    const [e] = await tx.execute<{ id: string }>(sql`insert into entities (org_id, name, functional_currency, time_zone) values (${orgId}, 'Test GmbH', 'EUR', 'Europe/Berlin') returning id`);
    entityId = e.id;
    for (const [code, name, type] of chart) {
      const normal = type === "asset" || type === "expense" ? "debit" : "credit";
      const [a] = await tx.execute<{ id: string }>(sql`
        insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency)
        values (${orgId}, ${entityId}, ${code}, ${name}, ${type}, ${normal}, 'EUR') returning id`);
      accounts[code] = a.id;
    }
    await tx.execute(sql`
      insert into fiscal_periods (org_id, entity_id, name, starts_on, ends_on)
      select ${orgId}, ${entityId}, to_char(m, 'YYYY-MM'), m::date, (m + interval '1 month' - interval '1 day')::date
      from generate_series(make_date(${year}, 1, 1), make_date(${year}, 12, 1), interval '1 month') as m`);
    for (const role of ["admin", "accountant", "approver", "viewer"] as const) {
      await tx.execute(sql`insert into memberships (org_id, user_id, role) values (${orgId}, ${ctx[role].userId}, ${role})`);
    }
    await appendAudit(tx, system, [{ action: "organisation.created", entityType: "organisation", entityId: orgId, data: { name: "test" } }]);
  });
  return { orgId, entityId, accounts, accountIds: Object.values(accounts), ctx, system, year };
}

/** Closes the period named YYYY-MM (as the app role, the way a period close writes it). */
export async function closePeriod(db: Db, org: TestOrg, name: string): Promise<void> {
  await inOrg(db, org.system, (tx) =>
    tx.execute(sql`update fiscal_periods set status = 'closed', closed_at = now() where org_id = ${org.orgId} and entity_id = ${org.entityId} and name = ${name}`),
  );
}

/** Rows of a query run as the app role inside the organisation (RLS applies). */
export async function rowsInOrg<T extends Record<string, unknown>>(db: Db, org: Pick<TestOrg, "orgId">, query: ReturnType<typeof sql>): Promise<T[]> {
  return inOrg(db, { orgId: org.orgId, userId: null }, async (tx) => [...(await tx.execute<T>(query))] as T[]);
}

/** Runs fn and returns the AppError code (or the PostgreSQL constraint / error code) it failed with. */
export async function failureOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const err = e as { code?: string; constraint_name?: string; cause?: { code?: string; constraint_name?: string } };
    if (e && (e as Error).name === "AppError") return err.code!;
    const inner = err.constraint_name || err.code ? err : err.cause ?? {};
    return inner.constraint_name || inner.code || String(e);
  }
  return "no error";
}
