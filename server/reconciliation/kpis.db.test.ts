import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { inOrg } from "@/server/db/tenant";
import { confirmMatch } from "@/server/matching/lifecycle";
import { listMatches } from "@/server/matching/queries";
import { runMatching } from "@/server/matching/run-matching";
import { reconciliationKpis } from "./kpis";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const today = new Date().toISOString().slice(0, 10);
const monday = (d: string) => {
  const x = new Date(`${d}T00:00:00Z`);
  x.setUTCDate(x.getUTCDate() - ((x.getUTCDay() + 6) % 7));
  return x.toISOString().slice(0, 10);
};

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
  // Raises two exceptions: the card fees (−23.10, low) of 16 March and Nordlicht's 11,800.00 (high) of 19 March.
  await runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
  const [first] = (await listMatches(t.db, org.ctx.viewer, { statuses: ["auto_matched"] })).rows;
  await confirmMatch(t.db, org.ctx.accountant, { matchId: first.id });
  await inOrg(t.db, org.system, (tx) => tx.execute(sql`
    insert into exceptions (org_id, kind, status, severity, title, occurred_on, snoozed_until, raised_at, resolution, resolved_at) values
      (${org.orgId}, 'balance_break', 'open', 'critical', 'Closing balance off', '2026-04-08', null, '2026-04-09T08:00:00Z', null, null),
      (${org.orgId}, 'stale_source', 'snoozed', 'medium', 'No import', '2026-01-01', '2026-05-01T00:00:00Z', '2026-01-02T08:00:00Z', null, null),
      (${org.orgId}, 'amount_mismatch', 'resolved', 'low', 'A', '2026-04-01', null, '2026-04-06T08:00:00Z', 'explained', '2026-04-06T10:00:00Z'),
      (${org.orgId}, 'amount_mismatch', 'resolved', 'low', 'B', '2026-04-01', null, '2026-04-06T08:00:00Z', 'explained', '2026-04-06T18:00:00Z'),
      (${org.orgId}, 'amount_mismatch', 'resolved', 'high', 'C', '2026-04-01', null, '2026-04-06T08:00:00Z', 'written_off', '2026-04-07T14:00:00Z')`));
});

describe("reconciliation KPIs", () => {
  it("auto-match and confirmed rates per week from the runs' counts", async () => {
    const k = await reconciliationKpis(t.db, org.ctx.viewer, { asOf: today, weeks: 4 });
    expect(k.matchRate.map((w) => w.week)).toHaveLength(4);
    expect(k.matchRate.at(-1)).toEqual({ week: monday(today), runs: 1, left: 11, auto: 8, confirmed: 1, autoRate: "0.7273", confirmedRate: "0.0909" });
    expect(k.matchRate[0]).toMatchObject({ runs: 0, autoRate: null, confirmedRate: null });
  });

  it("unresolved exceptions by severity and age bucket, resolved ones left out", async () => {
    const k = await reconciliationKpis(t.db, org.ctx.viewer, { asOf: "2026-04-10" });
    expect(k.exceptionsByAge).toEqual([
      { severity: "critical", counts: { "0-7": 1, "8-30": 0, "31-60": 0, "61+": 0 }, total: 1 },
      { severity: "high", counts: { "0-7": 0, "8-30": 1, "31-60": 0, "61+": 0 }, total: 1 },
      { severity: "medium", counts: { "0-7": 0, "8-30": 0, "31-60": 0, "61+": 1 }, total: 1 },
      { severity: "low", counts: { "0-7": 0, "8-30": 1, "31-60": 0, "61+": 0 }, total: 1 },
    ]);
  });

  it("median and p90 hours to resolve per week; unreconciled amount per source from the overview", async () => {
    const k = await reconciliationKpis(t.db, org.ctx.viewer, { asOf: "2026-04-10", weeks: 2 });
    // 2, 10 and 30 hours: median 10, p90 interpolated 10 + 0.8 × 20 = 26.
    expect(k.timeToResolve).toEqual([
      { week: "2026-03-30", resolved: 0, medianHours: null, p90Hours: null },
      { week: "2026-04-06", resolved: 3, medianHours: "10.0", p90Hours: "26.0" },
    ]);
    expect(k.unreconciled).toEqual([{ sourceId: f.sourceId, sourceName: "Operating account", currency: "EUR", count: 2, grossAmount: "11823.1" }]);
  });

  it("another organisation sees none of it; a bad date is refused", async () => {
    const other = await createTestOrg(t.db);
    const k = await reconciliationKpis(t.db, other.ctx.viewer, { asOf: today, weeks: 2 });
    expect(k.matchRate.every((w) => w.runs === 0)).toBe(true);
    expect(k.exceptionsByAge.every((r) => r.total === 0)).toBe(true);
    expect(k.unreconciled).toEqual([]);
    expect(await failureOf(() => reconciliationKpis(t.db, other.ctx.viewer, { asOf: "10/04/2026" }))).toBe("validation");
  });
});
