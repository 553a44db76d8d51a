import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase } from "@/test/db";
import { createSource } from "@/server/ingest/sources";

// The keys of matches and their members are checked once per INSERT statement
// (drizzle/migrations/0021) instead of declared per row; these are the rules they keep.
const t = await testDatabase();
const org = await createTestOrg(t.db);
const other = await createTestOrg(t.db, { name: "Other org" });

const sourceOf = async (o: typeof org, name: string) =>
  (await createSource(t.db, o.ctx.admin, { kind: "bank", name, entityId: o.entityId, currency: "EUR", glAccountId: o.accounts["1000"] })).id;
const source = await sourceOf(org, "Keys bank");
const otherSource = await sourceOf(other, "Other bank");

const runOf = async (o: typeof org, sourceId: string) => {
  const [run] = await t.adminDb.execute<{ id: string }>(sql`
    insert into match_runs (org_id, source_id, counterpart_kind, date_from, date_to, trigger, status, started_at)
    values (${o.orgId}, ${sourceId}, 'ledger', '2026-01-01', '2026-12-31', 'manual', 'running', now()) returning id`);
  return run.id;
};
const run = await runOf(org, source);
const otherRun = await runOf(other, otherSource);

const ROLLED_BACK = "Error: rolled back";

/** As the app role in `org`, in a transaction that is always rolled back: one match (with overrides) and its members. */
const rawMatch = (match: Partial<Record<"run_id" | "source_id", string | null>> = {}, member: Partial<Record<"match_id" | "pairing", string>> = {}) =>
  t.appClient.begin(async (q) => {
    await q`select set_config('app.org_id', ${org.orgId}, true)`;
    const id = randomUUID();
    const m = { org_id: org.orgId, id, run_id: run, source_id: source, pairing: "ledger", level: "exact", confidence: 0.99, decision: "auto", status: "auto_matched",
      difference: "0", currency: "EUR", reason: "raw", ...match };
    await q`insert into matches ${q(m)}`;
    const members = [1, 2].map((k) => ({ org_id: org.orgId, match_id: id, pairing: "ledger", side: k === 1 ? "left" : "right", canonical_transaction_id: k === 1 ? 900000 + k : null,
      journal_line_id: k === 2 ? 900000 + k : null, amount: "5.00", record_date: "2026-02-11", ...member }));
    await q`insert into match_members ${q(members)}`;
    throw new Error("rolled back");
  });

describe("keys of matches and members", () => {
  it("refuses a match whose run or source is missing or another organisation's, and a member whose match is", async () => {
    expect(await failureOf(() => rawMatch({ run_id: randomUUID() }))).toBe("matches_run_id_match_runs_id_fk");
    expect(await failureOf(() => rawMatch({ run_id: otherRun }))).toBe("matches_run_id_match_runs_id_fk");
    expect(await failureOf(() => rawMatch({ source_id: randomUUID() }))).toBe("matches_source_id_sources_id_fk");
    expect(await failureOf(() => rawMatch({ source_id: otherSource }))).toBe("matches_source_id_sources_id_fk");
    expect(await failureOf(() => rawMatch({}, { match_id: randomUUID() }))).toBe("match_members_match_id_matches_id_fk");
    // A member belongs to the reconciliation its match is in.
    expect(await failureOf(() => rawMatch({}, { pairing: "source" }))).toBe("match_members_match_id_matches_id_fk");
    // A manual match has no run; otherwise the same match and members are accepted.
    expect(await failureOf(() => rawMatch({ run_id: null }))).toBe(ROLLED_BACK);
    expect(await failureOf(() => rawMatch())).toBe(ROLLED_BACK);
  });

  it("checks a run-sized INSERT of members as strictly as a manual match's two (the check joins instead of probing)", async () => {
    // 3,000 matches and 6,000 members in one statement each, as a run writes them; then the same with one member's match missing.
    const bulk = (bad: boolean) => t.appClient.begin(async (q) => {
      await q`select set_config('app.org_id', ${org.orgId}, true)`;
      const ids = Array.from({ length: 3000 }, () => randomUUID());
      await q`insert into matches (org_id, id, run_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
        select ${org.orgId}, id, ${run}, ${source}, 'ledger', 'exact', 0.99, 'auto', 'auto_matched', 0, 'EUR', 'bulk' from unnest(${ids}::uuid[]) as id`;
      const memberMatch = ids.flatMap((id) => [id, id]);
      if (bad) memberMatch[4321] = randomUUID();
      await q`insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, journal_line_id, amount, record_date)
        select ${org.orgId}, m, 'ledger', case when k % 2 = 1 then 'left' else 'right' end, case when k % 2 = 1 then 800000 + k end,
               case when k % 2 = 0 then 800000 + k end, 1, '2026-03-01'
        from unnest(${memberMatch}::uuid[]) with ordinality as u(m, k)`;
      throw new Error("rolled back");
    });
    expect(await failureOf(() => bulk(true))).toBe("match_members_match_id_matches_id_fk");
    expect(await failureOf(() => bulk(false))).toBe(ROLLED_BACK);
  });

  it("refuses, even to the owner, a match of a missing organisation and a member of another organisation's match", async () => {
    const orphan = randomUUID();
    expect(await failureOf(() => t.adminDb.execute(sql`insert into matches (org_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
      values (${orphan}, ${source}, 'ledger', 'manual', 1, 'manual', 'confirmed', 0, 'EUR', 'x')`))).toBe("matches_org_id_organisations_id_fk");
    const [theirs] = await t.adminDb.execute<{ id: string }>(sql`insert into matches (org_id, run_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
      values (${other.orgId}, ${otherRun}, ${otherSource}, 'ledger', 'manual', 1, 'manual', 'confirmed', 0, 'EUR', 'x') returning id`);
    expect(await failureOf(() => t.adminDb.execute(sql`insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, amount, record_date)
      values (${org.orgId}, ${theirs.id}, 'ledger', 'left', 1, 1, '2026-01-01')`))).toBe("match_members_match_id_matches_id_fk");
  });

  it("refuses, even to the owner, re-keying a run or deleting or re-keying a source that matches reference", async () => {
    const lone = await sourceOf(org, "Lone bank");
    await t.adminDb.execute(sql`insert into matches (org_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
      values (${org.orgId}, ${lone}, 'ledger', 'manual', 1, 'manual', 'confirmed', 0, 'EUR', 'x')`);
    await t.adminDb.execute(sql`insert into matches (org_id, run_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
      values (${org.orgId}, ${run}, ${source}, 'ledger', 'exact', 1, 'auto', 'auto_matched', 0, 'EUR', 'x')`);
    const unreferenced = await sourceOf(org, "Unused bank");
    const outcomes: Record<string, string> = {};
    for (const [name, q] of Object.entries({
      "re-key run": sql`update match_runs set id = gen_random_uuid() where id = ${run}`,
      "move run": sql`update match_runs set org_id = ${other.orgId}, source_id = ${otherSource} where id = ${run}`,
      "re-key source": sql`update sources set id = gen_random_uuid() where id = ${lone}`,
      "delete source": sql`delete from sources where id = ${lone}`,
      "delete unreferenced source": sql`delete from sources where id = ${unreferenced}`,
    })) outcomes[name] = await failureOf(() => t.adminDb.execute(q));
    expect(outcomes).toEqual({
      "re-key run": "matches_run_id_match_runs_id_fk",
      "move run": "matches_run_id_match_runs_id_fk",
      "re-key source": "matches_source_id_sources_id_fk",
      "delete source": "matches_source_id_sources_id_fk",
      "delete unreferenced source": "no error",
    });
  });
});
