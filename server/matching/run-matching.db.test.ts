import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { inOrg } from "@/server/db/tenant";
import { runMatching } from "./run-matching";
import { confirmMatch, manualMatch, rejectMatch, undoMatch } from "./lifecycle";
import { listMatches, listUnmatched } from "./queries";

const t = await testDatabase({ max: 6 });
afterAll(() => t.close());

const MARCH = { from: "2026-03-01", to: "2026-03-31" };
const TODAY = { today: "2026-04-10" };

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

const run = (o = org, fx = f, ctx = o.ctx.accountant) =>
  runMatching(t.db, ctx, { sourceId: fx.sourceId, against: { kind: "ledger" }, ...MARCH, trigger: "manual" }, TODAY);

/** Pairs of active matches as "left ids → right ids" with the status, for comparing runs. */
async function activePairs(o = org) {
  const rows = await rowsInOrg<{ status: string; l: string; r: string }>(t.db, o, sql`
    select m.status,
           string_agg(coalesce('ct:' || mm.canonical_transaction_id, 'jl:' || mm.journal_line_id), ',' order by mm.id) filter (where mm.side = 'left') as l,
           string_agg(coalesce('ct:' || mm.canonical_transaction_id, 'jl:' || mm.journal_line_id), ',' order by mm.id) filter (where mm.side = 'right') as r
    from matches m join match_members mm on mm.match_id = m.id
    where m.status in ('suggested', 'auto_matched', 'confirmed') group by m.id, m.status order by l`);
  return rows.map((x) => `${x.l}→${x.r}:${x.status}`);
}

async function counterpartyOf(matchStatus: string, o = org) {
  const { rows } = await listMatches(t.db, o.ctx.viewer, { statuses: [matchStatus as never] });
  return rows;
}

describe("a reconciliation run against the ledger", () => {
  it("auto-matches what ties out, suggests what nearly does, and raises exceptions for the rest", async () => {
    const r = await run();
    expect(r.status).toBe("succeeded");
    expect(r.counts).toMatchObject({ left: 11, right: 9, auto: 8, suggested: 1, unmatched: 2, exceptionsRaised: 2, superseded: 0 });

    const auto = await counterpartyOf("auto_matched");
    expect(auto).toHaveLength(8);
    // Delta Freight's receipt arrived 1.50 short (the payer's bank charge): matched within tolerance, difference kept.
    const delta = auto.find((m) => m.members.some((x) => x.counterparty === "DELTA FREIGHT"))!;
    expect(delta.difference).toBe("1.5000");
    expect(delta.members.map((x) => `${x.side}:${x.amount}`)).toEqual(["left:978.5000", "right:980.0000"]);
    expect(Object.keys(delta.signals)).toEqual(expect.arrayContaining(["amount", "date", "reference", "counterparty"]));

    const [suggestion] = await counterpartyOf("suggested");
    expect(suggestion.members.map((x) => x.counterparty)).toEqual(["GRANITE LEGAL", "Granite Legal"]);
    expect(Number(suggestion.confidence)).toBeLessThan(0.97);

    const unmatched = await listUnmatched(t.db, org.ctx.viewer, { sourceId: f.sourceId });
    expect(unmatched.rows.map((u) => [u.amount, u.severity])).toEqual([["11800.0000", "high"], ["-23.1000", "low"]]);
    const fees = unmatched.rows[1];
    expect(fees.details.nearest!.length).toBeGreaterThan(0);
    expect(fees.details.nearest![0]).toMatchObject({ failed: expect.arrayContaining(["amount"]), record: { date: expect.any(String), amount: expect.any(String) } });

    const [runRow] = await rowsInOrg<{ status: string; counts: Record<string, number>; settings_version: number }>(t.db, org, sql`select status, counts, settings_version from match_runs where id = ${r.runId}`);
    expect(runRow).toMatchObject({ status: "succeeded", settings_version: 1, counts: { auto: 8, suggested: 1 } });
    const [audit] = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from audit_log where action = 'matching.run.completed' and entity_id = ${r.runId}`);
    expect(audit.n).toBe(1);
  });

  it("a re-run replaces suggestions and auto matches, keeps confirmed ones, and changes nothing else", async () => {
    const before = await activePairs();
    const [first] = await counterpartyOf("auto_matched");
    await confirmMatch(t.db, org.ctx.accountant, { matchId: first.id });
    const again = await run();
    expect(again.counts).toMatchObject({ left: 10, right: 8, auto: 7, suggested: 1, unmatched: 2, exceptionsRaised: 0, exceptionsUpdated: 2, superseded: 8 });
    const after = await activePairs();
    // Same pairs as before, the confirmed one untouched (same match row), no exception raised twice.
    expect(after.map((p) => p.replace(/:(auto_matched|confirmed)$/, ""))).toEqual(before.map((p) => p.replace(/:(auto_matched|confirmed)$/, "")));
    const [still] = await rowsInOrg<{ status: string }>(t.db, org, sql`select status from matches where id = ${first.id}`);
    expect(still.status).toBe("confirmed");
    const [open] = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from exceptions where kind = 'unmatched_transaction' and status = 'open'`);
    expect(open.n).toBe(2);
    const [dupes] = await rowsInOrg<{ n: number }>(t.db, org, sql`
      select count(*)::int as n from (select canonical_transaction_id from match_members where active and canonical_transaction_id is not null group by 1 having count(*) > 1) d`);
    expect(dupes.n).toBe(0);
    // A third run proposes exactly what the second did.
    await run();
    expect(await activePairs()).toEqual(after);
  });

  it("two runs at once do not match a record twice (one waits for the other)", async () => {
    const o = await createTestOrg(t.db);
    const fx = await seedReconciliation(t.db, o);
    const [a, b] = await Promise.all([run(o, fx), run(o, fx)]);
    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    const [n] = await rowsInOrg<{ active: number; records: number }>(t.db, o, sql`
      select count(*)::int as active, count(distinct coalesce(canonical_transaction_id, -journal_line_id))::int as records from match_members where active`);
    expect(n.active).toBe(n.records);
    expect(n.active).toBe(18);
  });
});

describe("the database refuses what the services refuse", () => {
  it("a record cannot be in two active matches: a second active membership is refused by the partial unique index", async () => {
    const [m] = await rowsInOrg<{ match_id: string; ct: string; source_id: string }>(t.db, org, sql`
      select mm.match_id, mm.canonical_transaction_id::text as ct, m.source_id from match_members mm join matches m on m.id = mm.match_id
      where mm.active and mm.canonical_transaction_id is not null limit 1`);
    const attack = () =>
      inOrg(t.db, org.system, async (tx) => {
        const [x] = await tx.execute<{ id: string }>(sql`
          insert into matches (org_id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
          values (${org.orgId}, ${m.source_id}, 'ledger', 'manual', 1, 'manual', 'confirmed', 0, 'EUR', 'attack') returning id`);
        await tx.execute(sql`insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, amount, record_date)
                             values (${org.orgId}, ${x.id}, 'ledger', 'left', ${m.ct}, 1, '2026-03-01')`);
      });
    expect(await failureOf(attack)).toBe("match_members_one_active_transaction");
    // Re-activating the member of a rejected or undone match while the record is matched elsewhere: refused too.
    const [inactive] = await rowsInOrg<{ id: string }>(t.db, org, sql`
      select i.id::text from match_members i where not i.active and i.canonical_transaction_id is not null
        and exists (select 1 from match_members a where a.active and a.canonical_transaction_id = i.canonical_transaction_id and a.pairing = i.pairing) limit 1`);
    expect(inactive).toBeDefined();
    expect(await failureOf(() => inOrg(t.db, org.system, (tx) => tx.execute(sql`update match_members set active = true where id = ${inactive.id}`)))).toBe("match_members_one_active_transaction");
  });

  it("status moves only along the lifecycle, content never changes, nothing is deleted", async () => {
    const [confirmed] = await counterpartyOf("confirmed");
    const q = (s: ReturnType<typeof sql>) => () => inOrg(t.db, org.system, (tx) => tx.execute(s));
    expect(await failureOf(q(sql`update matches set status = 'suggested' where id = ${confirmed.id}`))).toBe("matches_transition");
    expect(await failureOf(q(sql`update matches set status = 'undone' where id = ${confirmed.id}`))).toBe("matches_undo_reason");
    expect(await failureOf(q(sql`update matches set reason = 'changed' where id = ${confirmed.id}`))).toBe("matches_immutable");
    // The app role has no DELETE; even the owner is refused by the trigger.
    expect(await failureOf(q(sql`delete from matches where id = ${confirmed.id}`))).toBe("42501");
    expect(await failureOf(() => t.adminDb.execute(sql`delete from matches where id = ${confirmed.id}`))).toBe("matches_append_only");
    expect(await failureOf(q(sql`update match_members set amount = 0 where match_id = ${confirmed.id}`))).toBe("match_members_immutable");
    expect(await failureOf(() => t.adminDb.execute(sql`delete from matching_settings_changes where org_id = ${org.orgId}`))).toBe("matching_settings_changes_append_only");
  });

  it("another organisation sees none of the matches, runs or exceptions, and cannot act on them", async () => {
    const other = await createTestOrg(t.db);
    const [counts] = await rowsInOrg<{ m: number; mm: number; r: number; e: number }>(t.db, other, sql`
      select (select count(*) from matches)::int as m, (select count(*) from match_members)::int as mm, (select count(*) from match_runs)::int as r,
             (select count(*) from exceptions)::int as e`);
    expect(counts).toEqual({ m: 0, mm: 0, r: 0, e: 0 });
    const [mine] = await counterpartyOf("suggested");
    expect(await failureOf(() => confirmMatch(t.db, other.ctx.accountant, { matchId: mine.id }))).toBe("not_found");
    expect(await failureOf(() => undoMatch(t.db, other.ctx.admin, { matchId: mine.id, reason: "not mine" }))).toBe("not_found");
    expect(await failureOf(() => runMatching(t.db, other.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, ...MARCH, trigger: "manual" }))).toBe("not_found");
    expect((await listMatches(t.db, other.ctx.viewer, { statuses: ["suggested", "auto_matched", "confirmed"] })).total).toBe(0);
  });
});

describe("decisions", () => {
  it("viewers and approvers read but cannot decide or run", async () => {
    const [s] = await counterpartyOf("suggested");
    for (const role of ["viewer", "approver"] as const) {
      expect(await failureOf(() => confirmMatch(t.db, org.ctx[role], { matchId: s.id }))).toBe("forbidden");
      expect(await failureOf(() => rejectMatch(t.db, org.ctx[role], { matchId: s.id }))).toBe("forbidden");
      expect(await failureOf(() => run(org, f, org.ctx[role]))).toBe("forbidden");
    }
    expect((await listMatches(t.db, org.ctx.viewer, { statuses: ["suggested"] })).total).toBe(1);
  });

  it("illegal transitions are refused with a reason: confirm twice, reject an auto match, undo without a reason", async () => {
    const [auto] = await counterpartyOf("auto_matched");
    expect(await failureOf(() => rejectMatch(t.db, org.ctx.accountant, { matchId: auto.id }))).toBe("conflict");
    expect(await failureOf(() => undoMatch(t.db, org.ctx.accountant, { matchId: auto.id, reason: "" }))).toBe("validation");
    await confirmMatch(t.db, org.ctx.accountant, { matchId: auto.id });
    expect(await failureOf(() => confirmMatch(t.db, org.ctx.accountant, { matchId: auto.id }))).toBe("conflict");
    expect(await failureOf(() => confirmMatch(t.db, org.ctx.accountant, { matchId: "not-a-uuid" }))).toBe("not_found");
    await undoMatch(t.db, org.ctx.accountant, { matchId: auto.id, reason: "Paid twice; this receipt belongs to another invoice" });
    expect(await failureOf(() => undoMatch(t.db, org.ctx.accountant, { matchId: auto.id, reason: "again" }))).toBe("conflict");
    const [row] = await rowsInOrg<{ status: string; undo_reason: string; decided_by: string }>(t.db, org, sql`select status, undo_reason, decided_by from matches where id = ${auto.id}`);
    expect(row).toEqual({ status: "undone", undo_reason: "Paid twice; this receipt belongs to another invoice", decided_by: org.ctx.accountant.userId });
    const audit = await rowsInOrg<{ action: string }>(t.db, org, sql`select action from audit_log where entity_id = ${auto.id} order by seq`);
    expect(audit.map((a) => a.action)).toEqual(["matching.match.confirmed", "matching.match.undone"]);
    const feedback = await rowsInOrg<{ decision: string }>(t.db, org, sql`select decision from match_feedback where match_id = ${auto.id} order by id`);
    expect(feedback.map((x) => x.decision)).toEqual(["accept", "unmatch"]);
  });

  it("a rejected pair is never proposed again; its bank line becomes an exception", async () => {
    const [s] = await counterpartyOf("suggested");
    const r = await rejectMatch(t.db, org.ctx.accountant, { matchId: s.id, reason: "Different invoice" });
    expect(r.rejectedPairs).toBe(1);
    const left = s.members.find((m) => m.side === "left")!.key;
    const right = s.members.find((m) => m.side === "right")!.key;
    const again = await run();
    expect(again.counts!.suggested).toBe(0);
    const pairs = await activePairs();
    expect(pairs.some((p) => p.startsWith(`${left}→`))).toBe(false);
    expect(pairs.some((p) => p.includes(`→${right}:`))).toBe(false);
    const unmatched = await listUnmatched(t.db, org.ctx.viewer, { sourceId: f.sourceId });
    const granite = unmatched.rows.find((u) => u.details.recordKey === left)!;
    expect(granite.details.nearest!.find((n) => n.id === right)?.failed).toContain("rejected");
  });

  it("a manual match within tolerance is made at once: it starts confirmed and resolves the exception (outside it needs a reason, see forced-match.db.test.ts)", async () => {
    const unmatched = await listUnmatched(t.db, org.ctx.viewer, { sourceId: f.sourceId });
    const granite = unmatched.rows.find((u) => u.details.counterparty === "GRANITE LEGAL")!;
    const ct = granite.details.recordKey!.slice(3);
    const [line] = await rowsInOrg<{ id: string }>(t.db, org, sql`select id::text from journal_lines where account_id = ${org.accounts["1000"]} and amount = -760`);
    const [fees] = await rowsInOrg<{ id: string }>(t.db, org, sql`select id::text from canonical_transactions where amount = -23.10`);
    // The card fees (−23.10) against the −760.00 payment: far outside tolerance without a reason.
    expect(await failureOf(() => manualMatch(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, left: [fees.id], right: [line.id] }))).toBe("validation");
    const m = await manualMatch(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, left: [ct], right: [line.id] });
    if (m.status !== "matched") throw new Error(`a tie-out is matched at once, not ${m.status}`);
    expect(m.difference).toBe("0");
    expect(await failureOf(() => manualMatch(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, left: [ct], right: [line.id] }))).toBe("conflict");
    const [status] = await rowsInOrg<{ status: string; decision: string }>(t.db, org, sql`select status, decision from matches where id = ${m.matchId}`);
    expect(status).toEqual({ status: "confirmed", decision: "manual" });
    const [exc] = await rowsInOrg<{ status: string }>(t.db, org, sql`select status from exceptions where id = ${granite.id}`);
    expect(exc.status).toBe("resolved");
    expect(await failureOf(() => manualMatch(t.db, org.ctx.viewer, { sourceId: f.sourceId, against: { kind: "ledger" }, left: [ct], right: [line.id] }))).toBe("forbidden");
  });
});
