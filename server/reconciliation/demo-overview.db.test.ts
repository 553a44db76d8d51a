import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { DEMO_ORG, seedDemo } from "@/server/demo/seed-demo";
import { money, sum } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { reconciliationKpis } from "./kpis";
import { reconciliationOverview } from "./overview";
import { reconcilingItems } from "./reconciling-items";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

// The demo posts the three months before `today`: February to April 2026.
const TODAY = "2026-05-15";
let ctx: Ctx;
beforeAll(async () => {
  await seedDemo(t.db, { today: TODAY });
  const [m] = await t.adminDb.execute<{ org_id: string; user_id: string }>(sql`
    select m.org_id, m.user_id from memberships m join organisations o on o.id = m.org_id join users u on u.id = m.user_id
    where o.name = ${DEMO_ORG} and u.email = 'accountant@demo.tieout.dev'`);
  ctx = { orgId: m.org_id, userId: m.user_id, role: "accountant", actorLabel: "accountant@demo.tieout.dev" };
}, 120_000);

describe("the demo organisation's reconciliation", () => {
  it("has outstanding lines on both sides and a difference its items explain to the cent", async () => {
    const [bank] = await reconciliationOverview(t.db, ctx, { asOf: "2026-04-30" });
    expect(bank.sourceName).toBe("Operating account (Deutsche Bank)");
    expect(bank.statementBasis).toMatchObject({ kind: "closing", date: "2026-04-30" });
    expect(bank.unreconciled.statement.count).toBeGreaterThan(0);
    expect(bank.unreconciled.ledger.count).toBeGreaterThan(0);
    expect(money(bank.difference).isZero()).toBe(false);
    // The bank's statements start from zero, like the books: nothing is left unexplained.
    expect(bank.items.find((i) => i.kind === "unexplained")!.total).toBe("0");
    let after: string | undefined;
    const effects: string[] = [];
    do {
      const page = await reconcilingItems(t.db, ctx, { sourceId: bank.sourceId, asOf: "2026-04-30", limit: 25, after });
      effects.push(...page.items.map((i) => i.effect));
      after = page.next ?? undefined;
    } while (after);
    expect(sum(effects).equals(bank.difference)).toBe(true);
    expect(bank.lastImport).toMatchObject({ fileName: "camt053_DE89370400440532013000_2026-04.xml" });
  });

  it("leaves no matching backlog: the seed's nightly run covered every imported date, so the first start reconciles nothing twice", async () => {
    const [b] = await t.adminDb.execute<{ n: number }>(sql`select count(*)::int as n from matching_backlog`);
    expect(b.n).toBe(0);
  });

  it("shows a week of matching on the KPI page", async () => {
    const k = await reconciliationKpis(t.db, ctx, { asOf: new Date().toISOString().slice(0, 10), weeks: 1 });
    expect(k.matchRate[0].runs).toBe(1);
    expect(Number(k.matchRate[0].autoRate)).toBeGreaterThan(0.5);
    expect(k.exceptionsByAge.reduce((n, r) => n + r.total, 0)).toBeGreaterThan(0);
  });
});
