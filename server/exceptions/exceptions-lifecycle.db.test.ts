import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { BANK_CSV, seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { inOrg } from "@/server/db/tenant";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { postJournalEntries } from "@/server/ledger/post-journal-entries";
import { afterImportLanded } from "@/server/jobs/after-import";
import { todayUtc } from "@/server/jobs/events";
import { runExceptionSweepsJob } from "@/server/jobs/exception-sweeps-job";
import { confirmMatch, rejectMatch, undoMatch } from "@/server/matching/lifecycle";
import { addDays } from "@/server/matching/records";
import { runMatching } from "@/server/matching/run-matching";
import { sweepStaleSources } from "./stale-sources";
import { sweepExceptionClock } from "./sweeps";

/**
 * Exceptions opening and closing themselves as runs change what ties out, over one organisation's
 * March: raised, refreshed, resolved, re-raised; the ledger side; mismatches; duplicates; a
 * person's decision that sticks; stale sources; snoozes. Throughout, nothing is ever deleted.
 */
const t = await testDatabase({ max: 6 });
afterAll(() => t.close());

const MARCH = { from: "2026-03-01", to: "2026-03-31" };
const TODAY = "2026-04-10";
const LIMITS = { maxBytes: 1 << 20, maxRecords: 1000 };

type Exc = {
  id: string; kind: string; status: string; severity: string; resolution: string | null; subject_key: string; amount: string | null; currency: string | null;
  occurred_on: string; source_id: string | null; journal_line_id: string | null; canonical_transaction_id: string | null; match_id: string | null;
  resolved_by: string | null; title: string; details: Record<string, unknown>;
};

let org: TestOrg;
let f: ReconciliationFixture;
/** Total exceptions after each step: must never go down. */
const totals: number[] = [];

const run = (o = org, fx = f, today = TODAY) => runMatching(t.db, o.ctx.accountant, { sourceId: fx.sourceId, against: { kind: "ledger" }, ...MARCH, trigger: "manual" }, { today });
const exceptions = async (where = sql`true`, o = org) =>
  rowsInOrg<Exc>(t.db, o, sql`
    select id, kind, status, severity, resolution, subject_key, amount::text, currency, occurred_on::text, source_id, journal_line_id::text,
           canonical_transaction_id::text, match_id, resolved_by, title, details
    from exceptions where ${where} order by raised_at, occurred_on, id`);
async function noteTotal() {
  const [{ n }] = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from exceptions`);
  totals.push(n);
}
async function post(o: TestOrg, key: string, date: string, amount: string, counterparty: string, reference: string, description: string) {
  const [r] = await postJournalEntries(t.db, o.ctx.accountant, [{
    entityId: o.entityId, entryDate: date, description, idempotencyKey: key,
    lines: [
      { accountId: o.accounts["1000"], amount, counterparty, reference },
      { accountId: o.accounts["4000"], amount: amount.startsWith("-") ? amount.slice(1) : `-${amount}`, counterparty, reference },
    ],
  }]);
  const [line] = await rowsInOrg<{ id: string }>(t.db, o, sql`select id::text from journal_lines where entry_id = ${r.entryId} and account_id = ${o.accounts["1000"]}`);
  return line.id;
}
/** What the exceptions workspace's "resolve" does, as the person who decides. */
const resolveAs = (o: TestOrg, id: string, resolution: string) =>
  inOrg(t.db, o.ctx.accountant, (tx) => tx.execute(sql`
    update exceptions set status = 'resolved', resolution = ${resolution}, resolved_at = now(), resolved_by = ${o.ctx.accountant.userId}, resolution_note = 'Bank charges, booked monthly'
    where id = ${id}`));

beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

describe("exceptions follow what ties out across runs", () => {
  let nordlicht: Exc;

  it("a run raises one exception per unmatched bank line; a re-run refreshes the same one", async () => {
    const first = await run();
    expect(first.counts).toMatchObject({ unmatched: 2, exceptionsRaised: 2 });
    const open = await exceptions(sql`status = 'open'`);
    expect(open.map((e) => [e.kind, e.amount, e.occurred_on])).toEqual([
      ["unmatched_transaction", "-23.1000", "2026-03-16"],
      ["unmatched_transaction", "11800.0000", "2026-03-19"],
    ]);
    nordlicht = open[1];
    expect(nordlicht.subject_key).toBe(`ct:${nordlicht.canonical_transaction_id}`);
    const [raised] = await rowsInOrg<{ action: string; actor_label: string; actor_user_id: string }>(t.db, org, sql`
      select action, actor_label, actor_user_id from exception_events where exception_id = ${nordlicht.id} order by id`);
    expect(raised).toEqual({ action: "raised", actor_label: "Test accountant", actor_user_id: org.ctx.accountant.userId });
    await noteTotal();

    const again = await run();
    expect(again.counts).toMatchObject({ exceptionsRaised: 0, exceptionsUpdated: 2 });
    const bySubject = await exceptions(sql`subject_key = ${nordlicht.subject_key}`);
    expect(bySubject.map((e) => [e.id, e.status])).toEqual([[nordlicht.id, "open"]]);
    expect(bySubject[0].details.runId).toBe(again.runId);
    await noteTotal();
  });

  it("a ledger line with no bank line in the range raises unmatched_ledger_line; one outside the range does not", async () => {
    const orphan = await post(org, "exc:orphan", "2026-03-12", "555.55", "Orphan Ltd", "INV-2000", "Receipt INV-2000");
    const april = await post(org, "exc:april", "2026-04-02", "777.00", "Later Ltd", "INV-2001", "Receipt INV-2001");
    const r = await run();
    expect(r.counts).toMatchObject({ unmatched: 3, exceptionsRaised: 1 });
    const ledger = await exceptions(sql`kind = 'unmatched_ledger_line'`);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      status: "open", subject_key: `jl:${orphan}`, journal_line_id: orphan, source_id: f.sourceId, amount: "555.5500", currency: "EUR", occurred_on: "2026-03-12",
    });
    expect(ledger[0].title).toContain("555.55 EUR on 2026-03-12 (Orphan Ltd)");
    expect(ledger[0].details).toMatchObject({ recordKey: `jl:${orphan}`, counterparty: "Orphan Ltd", reference: "INV-2000", date: "2026-03-12" });
    expect(Array.isArray(ledger[0].details.nearest)).toBe(true);
    expect((await exceptions(sql`subject_key = ${`jl:${april}`}`))).toEqual([]);
    await noteTotal();
  });

  let match: { id: string; status: string };
  it("a ledger line posted for the bank line matches it, and the run resolves its exception as matched", async () => {
    await post(org, "exc:nordlicht", "2026-03-19", "11800.00", "Nordlicht Design GmbH", "NL-7", "Advance payment project NL-7");
    const r = await run();
    expect(r.counts!.exceptionsResolved).toBeGreaterThanOrEqual(1);
    const [e] = await exceptions(sql`id = ${nordlicht.id}`);
    expect(e).toMatchObject({ status: "resolved", resolution: "matched" });
    expect(e.details.resolvedByRun).toBe(r.runId);
    [match] = await rowsInOrg<{ id: string; status: string }>(t.db, org, sql`
      select m.id, m.status from matches m join match_members mm on mm.match_id = m.id
      where mm.canonical_transaction_id = ${nordlicht.canonical_transaction_id} and mm.active`);
    expect(["auto_matched", "suggested"]).toContain(match.status);
    const events = await rowsInOrg<{ action: string; actor_label: string; data: Record<string, unknown> }>(t.db, org, sql`
      select action, actor_label, data from exception_events where exception_id = ${nordlicht.id} order by id`);
    expect(events.map((x) => x.action)).toEqual(["raised", "resolved"]);
    expect(events[1]).toMatchObject({ actor_label: "Test accountant", data: { resolution: "matched", status: { from: "open", to: "resolved" } } });
    await noteTotal();
  });

  it("undoing the match raises the bank line again as a new exception; the old one stays resolved", async () => {
    if (match.status === "suggested") await confirmMatch(t.db, org.ctx.accountant, { matchId: match.id });
    await undoMatch(t.db, org.ctx.accountant, { matchId: match.id, reason: "This receipt is for project NL-8" });
    await run();
    const all = await exceptions(sql`subject_key = ${nordlicht.subject_key} and kind = 'unmatched_transaction'`);
    expect(all.map((e) => [e.id === nordlicht.id, e.status, e.resolution])).toEqual([[true, "resolved", "matched"], [false, "open", null]]);
    // The ledger line it was matched to is unmatched again too, on its own side.
    const line = await exceptions(sql`kind = 'unmatched_ledger_line' and amount = 11800 and status = 'open'`);
    expect(line).toHaveLength(1);
    await noteTotal();
  });

  it("an exception a person explained is not raised again by later runs; reopened, it is refreshed like any other", async () => {
    const fees = (await exceptions(sql`kind = 'unmatched_transaction' and amount = -23.10`))[0];
    await resolveAs(org, fees.id, "explained");
    const r = await run();
    expect(r.counts!.unmatched).toBeGreaterThanOrEqual(2);
    const after = await exceptions(sql`subject_key = ${fees.subject_key}`);
    expect(after.map((e) => [e.id, e.status, e.resolution])).toEqual([[fees.id, "resolved", "explained"]]);
    await noteTotal();

    await inOrg(t.db, org.ctx.accountant, (tx) => tx.execute(sql`update exceptions set status = 'open', resolution = null, resolved_at = null, resolved_by = null where id = ${fees.id}`));
    const again = await run();
    const reopened = await exceptions(sql`subject_key = ${fees.subject_key}`);
    expect(reopened.map((e) => [e.id, e.status])).toEqual([[fees.id, "open"]]);
    expect(reopened[0].details.runId).toBe(again.runId);
    await noteTotal();
  });

  it("a line the bank sent twice under another key raises one possible duplicate, on the later line", async () => {
    const resent = "Date,Amount,Counterparty,Reference,Description\n2026-03-20,-4200.00,Landlord Properties ,RENT-03,Standing order (sent again)\n";
    const imp = await importFile(t.db, org.ctx.accountant, { sourceId: f.sourceId, fileName: "resent.csv", bytes: Buffer.from(resent), format: "csv" }, LIMITS);
    expect(imp.newCount).toBe(1);
    await run();
    await run();
    const dupes = await exceptions(sql`kind = 'possible_duplicate'`);
    expect(dupes).toHaveLength(1);
    const [original] = await rowsInOrg<{ id: string }>(t.db, org, sql`select c.id::text as id from canonical_transactions c where c.amount = -4200 order by c.id limit 1`);
    const [later] = await rowsInOrg<{ id: string }>(t.db, org, sql`select c.id::text as id from canonical_transactions c where c.amount = -4200 order by c.id desc limit 1`);
    expect(dupes[0]).toMatchObject({ status: "open", subject_key: `ct:${later.id}`, canonical_transaction_id: later.id, amount: "-4200.0000", occurred_on: "2026-03-20" });
    expect(dupes[0].details.earlier).toEqual([original.id]);
    await noteTotal();
  });
});

describe("amount mismatches of suggested matches", () => {
  /** An organisation where every proposal waits for a person: Delta Freight's 1.50 short receipt is then a suggestion with a difference. */
  async function suggestingOrg() {
    const o = await createTestOrg(t.db);
    const fx = await seedReconciliation(t.db, o);
    await inOrg(t.db, o.system, (tx) => tx.execute(sql`
      insert into matching_settings (org_id, source_id, version, settings) values (${o.orgId}, ${fx.sourceId}, 1, ${JSON.stringify({ thresholds: { auto: 1, suggest: 0.5 } })}::jsonb)`));
    return { o, fx };
  }
  const mismatches = (o: TestOrg) => exceptions(sql`kind = 'amount_mismatch'`, o);

  it("a suggestion that differs raises amount_mismatch; a re-run clears it with the superseded match; rejecting clears the next", async () => {
    const { o, fx } = await suggestingOrg();
    await run(o, fx);
    const [first] = await mismatches(o);
    const [m] = await rowsInOrg<{ id: string; status: string; level: string }>(t.db, o, sql`select id, status, level from matches where id = ${first.match_id}`);
    expect(m.status).toBe("suggested");
    expect(first).toMatchObject({ status: "open", subject_key: `match:${m.id}`, amount: "1.5000", currency: "EUR", occurred_on: "2026-03-17", source_id: fx.sourceId });
    expect(first.details).toMatchObject({ level: m.level, difference: "1.5", counterparty: "DELTA FREIGHT" });
    expect(typeof first.details.confidence).toBe("number");
    // Suggestions that tie exactly raise nothing.
    const [{ suggested }] = await rowsInOrg<{ suggested: number }>(t.db, o, sql`select count(*)::int as suggested from matches where status = 'suggested'`);
    expect(suggested).toBeGreaterThan(1);
    expect(await mismatches(o)).toHaveLength(1);

    await run(o, fx);
    const [old, next] = await mismatches(o);
    expect([old.id, old.status, old.resolution]).toEqual([first.id, "resolved", "cleared"]);
    expect(next).toMatchObject({ status: "open", amount: "1.5000" });
    expect(next.match_id).not.toBe(first.match_id);

    await rejectMatch(t.db, o.ctx.accountant, { matchId: next.match_id!, reason: "Different shipment" });
    const [rejected] = await exceptions(sql`id = ${next.id}`, o);
    expect(rejected).toMatchObject({ status: "resolved", resolution: "cleared", resolved_by: o.ctx.accountant.userId });
  });

  it("confirming the suggestion accepts its difference: the mismatch is resolved as matched", async () => {
    const { o, fx } = await suggestingOrg();
    await run(o, fx);
    const [mm] = await mismatches(o);
    await confirmMatch(t.db, o.ctx.accountant, { matchId: mm.match_id! });
    const [after] = await exceptions(sql`id = ${mm.id}`, o);
    expect(after).toMatchObject({ status: "resolved", resolution: "matched", resolved_by: o.ctx.accountant.userId });
    await run(o, fx);
    expect((await mismatches(o)).filter((e) => e.status !== "resolved")).toEqual([]);
  });
});

describe("sweeps", () => {
  it("a source with no import for longer than the policy allows raises stale_source; an import clears it", async () => {
    const today = todayUtc();
    const later = addDays(today, 10);
    const { id: quiet } = await createSource(t.db, org.ctx.accountant, { kind: "bank", name: "Savings account", entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] });
    expect(await sweepStaleSources(t.db, org.system, today)).toMatchObject({ raised: 0 });
    const swept = await sweepStaleSources(t.db, org.system, later);
    expect(swept).toMatchObject({ raised: 2, cleared: 0 });
    const stale = await exceptions(sql`kind = 'stale_source'`);
    expect(stale.map((e) => [e.subject_key, e.occurred_on, e.amount, e.title])).toEqual(
      expect.arrayContaining([
        [`source:${f.sourceId}`, today, null, "No import for 10 days: Operating account"],
        [`source:${quiet}`, today, null, "No import for 10 days: Savings account"],
      ]),
    );
    expect(stale.every((e) => e.severity === "low")).toBe(true);
    expect(await sweepStaleSources(t.db, org.system, later)).toMatchObject({ raised: 0, refreshed: 2 });
    await noteTotal();

    // The operating account's statement arrives again (nothing new in it, still an import).
    const imp = await importFile(t.db, org.ctx.accountant, { sourceId: f.sourceId, fileName: "march-again.csv", bytes: Buffer.from(BANK_CSV), format: "csv" }, LIMITS);
    expect(imp.newCount).toBe(0);
    await afterImportLanded(t.db, org.orgId, { sourceId: f.sourceId, newCount: 0, actor: "after-import" });
    const after = await exceptions(sql`kind = 'stale_source'`);
    expect(after.find((e) => e.subject_key === `source:${f.sourceId}`)).toMatchObject({ status: "resolved", resolution: "cleared" });
    expect(after.find((e) => e.subject_key === `source:${quiet}`)).toMatchObject({ status: "open" });
    await noteTotal();
  });

  it("a snooze whose time has come ends, and severities follow the records' age", async () => {
    const [fees] = await exceptions(sql`kind = 'unmatched_transaction' and amount = -23.10 and status = 'open'`);
    expect(fees.severity).toBe("low");
    await inOrg(t.db, org.ctx.accountant, (tx) => tx.execute(sql`update exceptions set status = 'snoozed', snoozed_until = now() - interval '1 minute' where id = ${fees.id}`));
    const [ledgerLine] = await exceptions(sql`kind = 'unmatched_ledger_line' and amount = 555.55`);
    await inOrg(t.db, org.ctx.accountant, (tx) => tx.execute(sql`update exceptions set status = 'snoozed', snoozed_until = now() + interval '1 day' where id = ${ledgerLine.id}`));

    const clock = await sweepExceptionClock(t.db, { ...org.system, actorLabel: "system:exception-sweeps" }, "2026-04-10");
    expect(clock.woke).toBe(1);
    const [woken] = await exceptions(sql`id = ${fees.id}`);
    expect(woken).toMatchObject({ status: "open", severity: "low" });
    expect((await exceptions(sql`id = ${ledgerLine.id}`))[0].status).toBe("snoozed");
    const events = await rowsInOrg<{ action: string; actor_label: string }>(t.db, org, sql`select action, actor_label from exception_events where exception_id = ${fees.id} order by id`);
    expect(events.slice(-2)).toEqual([{ action: "snoozed", actor_label: "Test accountant" }, { action: "woke", actor_label: "system:exception-sweeps" }]);

    // 16 March to 16 May is 61 days: both age steps (30, 60) passed, low → high.
    const job = await runExceptionSweepsJob(t.db, { orgId: org.orgId, today: "2026-05-16" });
    expect(job.severityChanged).toBeGreaterThan(0);
    expect((await exceptions(sql`id = ${fees.id}`))[0].severity).toBe("high");
    const [aged] = await rowsInOrg<{ data: Record<string, unknown>; actor_label: string }>(t.db, org, sql`
      select data, actor_label from exception_events where exception_id = ${fees.id} and action = 'severity_changed' order by id desc limit 1`);
    expect(aged).toEqual({ data: { severity: { from: "low", to: "high" } }, actor_label: "system:exception-sweeps" });
    // One that ages while snoozed stays snoozed, and its history says its severity changed, not that it was snoozed again.
    const [stillSnoozed] = await exceptions(sql`id = ${ledgerLine.id}`);
    expect(stillSnoozed.status).toBe("snoozed");
    expect(stillSnoozed.severity).not.toBe(ledgerLine.severity);
    const whileSnoozed = await rowsInOrg<{ action: string }>(t.db, org, sql`select action from exception_events where exception_id = ${ledgerLine.id} order by id`);
    expect(whileSnoozed.slice(-2).map((e) => e.action)).toEqual(["snoozed", "severity_changed"]);
    // Resolved exceptions keep the severity they were resolved with; a second sweep the same day changes nothing.
    const nordlicht = await exceptions(sql`kind = 'unmatched_transaction' and amount = 11800`);
    expect(nordlicht.map((e) => [e.status, e.severity])).toEqual([["resolved", "high"], ["open", "critical"]]);
    expect((await sweepExceptionClock(t.db, org.system, "2026-05-16")).severityChanged).toBe(0);
    await noteTotal();
  });
});

describe("nothing is deleted, and the kept counts agree", () => {
  it("DELETE and TRUNCATE on exceptions, their events and comments are refused, even to the owner", async () => {
    const [e] = await exceptions(sql`status = 'resolved'`);
    await inOrg(t.db, org.ctx.accountant, (tx) => tx.execute(sql`
      insert into exception_comments (org_id, exception_id, author_id, author_label, body) values (${org.orgId}, ${e.id}, ${org.ctx.accountant.userId}, 'Test accountant', 'Checked with the bank')`));
    expect(await failureOf(() => t.adminDb.execute(sql`delete from exceptions where id = ${e.id}`))).toBe("exceptions_append_only");
    expect(await failureOf(() => t.adminDb.execute(sql`delete from exception_events where exception_id = ${e.id}`))).toBe("exception_events_append_only");
    expect(await failureOf(() => t.adminDb.execute(sql`delete from exception_comments where exception_id = ${e.id}`))).toBe("exception_comments_append_only");
    expect(await failureOf(() => t.adminDb.execute(sql`truncate exceptions cascade`))).toMatch(/^exception(s|_events|_comments)_append_only$/);
    // The application role may not even try.
    expect(await failureOf(() => inOrg(t.db, org.system, (tx) => tx.execute(sql`delete from exceptions where id = ${e.id}`)))).toBe("42501");
    await noteTotal();
  });

  it("the number of exceptions never went down, and exception_counts equals a real count", async () => {
    expect(totals.length).toBeGreaterThan(8);
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1]);
    const real = await rowsInOrg<{ status: string; severity: string; occurred_on: string; n: number }>(t.db, org, sql`
      select status, severity, occurred_on::text, count(*)::int as n from exceptions group by 1, 2, 3 order by 1, 2, 3`);
    const kept = await rowsInOrg<{ status: string; severity: string; occurred_on: string; n: number }>(t.db, org, sql`
      select status, severity, occurred_on::text, n::int from exception_counts where n <> 0 order by 1, 2, 3`);
    expect(kept).toEqual(real);
    expect(real.map((r) => r.status)).toEqual(expect.arrayContaining(["open", "resolved", "snoozed"]));
    // Every exception has its 'raised' event, every resolved one a 'resolved' event.
    const [gaps] = await rowsInOrg<{ unraised: number; unresolved: number }>(t.db, org, sql`
      select (select count(*) from exceptions e where not exists (select 1 from exception_events v where v.exception_id = e.id and v.action = 'raised'))::int as unraised,
             (select count(*) from exceptions e where e.status = 'resolved'
                and not exists (select 1 from exception_events v where v.exception_id = e.id and v.action = 'resolved'))::int as unresolved`);
    expect(gaps).toEqual({ unraised: 0, unresolved: 0 });
  });
});
