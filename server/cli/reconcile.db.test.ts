import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { main } from "./tieout";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

async function cli(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.DATABASE_URL;
  if (env.DATABASE_URL === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = env.DATABASE_URL;
  try {
    const code = await main(args, (l) => out.push(l), (l) => err.push(l));
    return { code, out, err };
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

describe("npx tieout reconcile", () => {
  it("runs matching for a source in the database at DATABASE_URL, recorded as a cli run by a system actor", async () => {
    const r = await cli(["reconcile", "--source", f.sourceId, "--from", "2026-03-01", "--to=2026-03-31"], { DATABASE_URL: t.appUrl });
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out[0]);
    expect(summary).toMatchObject({ orgId: org.orgId, sourceId: f.sourceId, status: "succeeded", from: "2026-03-01", to: "2026-03-31" });
    const [run] = await rowsInOrg<{ trigger: string; status: string; counts: { auto: number } }>(t.db, org, sql`select trigger, status, counts from match_runs where id = ${summary.runId}`);
    expect(run).toMatchObject({ trigger: "cli", status: "succeeded", counts: { auto: 8 } });
    const [audit] = await rowsInOrg<{ actor_label: string }>(t.db, org, sql`select actor_label from audit_log where entity_id = ${summary.runId} and action = 'matching.run.completed'`);
    expect(audit.actor_label).toBe("system:matching-cli");
  });

  it("refuses bad arguments, a missing DATABASE_URL and an unknown source", async () => {
    expect((await cli(["reconcile", "--source", "nope"], { DATABASE_URL: t.appUrl })).code).toBe(2);
    expect((await cli(["reconcile", "--source", f.sourceId, "--from", "31/03/2026"], { DATABASE_URL: t.appUrl })).code).toBe(2);
    expect((await cli(["reconcile", "--source", f.sourceId], { DATABASE_URL: undefined })).err.join("\n")).toContain("DATABASE_URL is not set");
    const unknown = await cli(["reconcile", "--source", "00000000-0000-4000-8000-000000000000"], { DATABASE_URL: t.appUrl });
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toContain("No active source");
  });
});
