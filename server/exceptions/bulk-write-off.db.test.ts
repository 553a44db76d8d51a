import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { closePeriod, createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { inOrg } from "@/server/db/tenant";
import { AppError } from "@/server/errors";
import { approveRequest, rejectRequest, withdrawRequest } from "@/server/approvals/requests";
import { getRequest } from "@/server/approvals/queries";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { runMatching } from "@/server/matching/run-matching";
import { explainExceptions } from "./actions";
import { draftAdjustment } from "./adjustment";
import { draftBulkWriteOff } from "./bulk-write-off";
import { getException } from "./detail";
import { listExceptionQueue, queueFilters } from "./queue";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

let org: TestOrg;
let other: TestOrg;
/** Exception id by the bank line's description (each line below is one the ledger does not know). */
const ex: Record<string, string> = {};

/** What only the bank knows: fees, interest and charges, in February, March and April. */
const BANK = [
  "Date,Amount,Counterparty,Reference,Description",
  "2026-02-10,-5.00,DEUTSCHE BANK AG,,February card fees",
  "2026-02-12,-6.00,DEUTSCHE BANK AG,,February account fee",
  "2026-03-05,-12.40,DEUTSCHE BANK AG,,March card fees",
  "2026-03-16,-23.10,DEUTSCHE BANK AG,,March SEPA charges",
  "2026-03-28,4.75,DEUTSCHE BANK AG,,March credit interest",
  "2026-03-20,-3.30,DEUTSCHE BANK AG,,March cheque charge",
  "2026-03-30,-8.00,DEUTSCHE BANK AG,,March account fee",
  "2026-04-02,-15.00,DEUTSCHE BANK AG,,April card fees",
].join("\n");

/** A bank source on `glAccount`, its statement imported through the real path and matched against the (empty) ledger: every line becomes an exception. */
async function bankWithExceptions(o: TestOrg, name: string, entityId: string, glAccountId: string, csv: string) {
  const { id: sourceId } = await createSource(t.db, o.ctx.accountant, { kind: "bank", name, entityId, currency: "EUR", glAccountId });
  await importFile(t.db, o.ctx.accountant, { sourceId, fileName: `${name}.csv`, bytes: Buffer.from(csv), format: "csv" }, { maxBytes: 1 << 20, maxRecords: 1000 });
  await runMatching(t.db, o.ctx.accountant, { sourceId, against: { kind: "ledger" }, from: "2026-02-01", to: "2026-04-30", trigger: "manual" }, { today: "2026-05-05" });
  const rows = await rowsInOrg<{ id: string; description: string }>(t.db, o, sql`
    select e.id, c.description from exceptions e join canonical_transactions c on c.id = e.canonical_transaction_id
    where e.source_id = ${sourceId} and e.kind = 'unmatched_transaction'`);
  for (const r of rows) ex[r.description] = r.id;
}

const ids = (...descriptions: string[]) => descriptions.map((d) => {
  if (!ex[d]) throw new Error(`no exception for "${d}"`);
  return ex[d];
});

/** The AppError's message a call fails with. */
async function messageOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof AppError) return e.message;
    throw e;
  }
  return "no error";
}

const count = async (o: TestOrg, query: ReturnType<typeof sql>) => (await rowsInOrg<{ n: number }>(t.db, o, query))[0].n;
const requestsOf = (o: TestOrg) => count(o, sql`select count(*)::int as n from approval_requests where kind = 'exception_write_off_bulk'`);
const postedFor = (o: TestOrg, requestId: string) => count(o, sql`select count(*)::int as n from journal_entries where idempotency_key like ${`approval:${requestId}:%`}`);
const statusOf = async (id: string) => (await getException(t.db, org.ctx.viewer, id)).status;

beforeAll(async () => {
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db, { name: "Other" });
  await inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`update exception_policies set write_off_account_id = ${org.accounts["6000"]} where org_id = ${org.orgId}`));
  await bankWithExceptions(org, "Operating account", org.entityId, org.accounts["1000"], BANK);

  // A second entity of the same organisation, with its own bank account and one charge.
  const second = await inOrg(t.db, org.system, async (tx) => {
    const [e] = await tx.execute<{ id: string }>(sql`insert into entities (org_id, name, functional_currency, time_zone) values (${org.orgId}, 'Test Ltd', 'EUR', 'Europe/Dublin') returning id`);
    const [a] = await tx.execute<{ id: string }>(sql`
      insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${org.orgId}, ${e.id}, '1000', 'Bank', 'asset', 'debit', 'EUR') returning id`);
    await tx.execute(sql`
      insert into fiscal_periods (org_id, entity_id, name, starts_on, ends_on)
      select ${org.orgId}, ${e.id}, to_char(m, 'YYYY-MM'), m::date, (m + interval '1 month' - interval '1 day')::date
      from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') as m`);
    return { entityId: e.id, bank: a.id };
  });
  await bankWithExceptions(org, "Dublin account", second.entityId, second.bank, "Date,Amount,Counterparty,Reference,Description\n2026-03-10,-9.99,AIB,,Dublin card fees");
  expect(Object.keys(ex)).toHaveLength(9);
});

describe("a bulk write-off of exceptions", () => {
  it("files one request for three exceptions, tiered on the sum of their amounts, which posts three entries and resolves all three when approved", async () => {
    const three = ids("March card fees", "March SEPA charges", "March credit interest");
    const submitted = await draftBulkWriteOff(t.db, org.ctx.accountant, { ids: three, note: "Bank charges and interest for March" });
    if (submitted.status !== "pending") return expect.fail("expected a pending request");
    // 12.40 + 23.10 + 4.75: the size of each, whichever way it moves the bank account.
    expect(submitted.policy).toMatchObject({ amount: "40.25", currency: "EUR", tier: { minAmount: "0", approvalsRequired: 1 } });
    const [stored] = await rowsInOrg<{ kind: string; amount: string; effective_date: string; entity_id: string; n: number }>(t.db, org, sql`
      select kind, amount::text, effective_date::text, entity_id, jsonb_array_length(content->'items')::int as n from approval_requests where id = ${submitted.requestId}`);
    expect(stored).toEqual({ kind: "exception_write_off_bulk", amount: "40.2500", effective_date: "2026-03-05", entity_id: org.entityId, n: 3 });

    // Each exception waits on it, on its page and in the queue; it stays open.
    for (const id of three) {
      const e = await getException(t.db, org.ctx.viewer, id);
      expect(e.status).toBe("open");
      expect(e.pendingApproval?.id).toBe(submitted.requestId);
    }
    const queue = await listExceptionQueue(t.db, org.ctx.viewer, queueFilters.parse({ q: "deutsche bank", limit: 200 }));
    expect(queue.rows.filter((r) => r.pendingApproval === submitted.requestId).map((r) => r.id).sort()).toEqual([...three].sort());

    // The approver reads one row per exception and the net total.
    const view = (await getRequest(t.db, org.ctx.approver, submitted.requestId)).view;
    expect(view.table?.rows).toHaveLength(4);
    expect(view.table?.rows.map((r) => [r[1], r[3]])).toEqual([["2026-03-05", "-12.40"], ["2026-03-16", "-23.10"], ["2026-03-28", "4.75"], ["", "-30.75"]]);
    expect(view.table?.rows[0][4]).toBe("6000 Expenses");

    expect(await failureOf(() => approveRequest(t.db, org.ctx.accountant, { requestId: submitted.requestId, version: 1 }))).toBe("forbidden");
    expect(await postedFor(org, submitted.requestId)).toBe(0);

    const decided = await approveRequest(t.db, org.ctx.approver, { requestId: submitted.requestId, version: 1 });
    expect(decided.status).toBe("executed");

    const entries = await rowsInOrg<{ key: string; source: string; lines: number; balance: string; cash: string; write_off: string }>(t.db, org, sql`
      select j.idempotency_key as key, j.source, count(*)::int as lines, sum(l.functional_amount)::text as balance,
             sum(l.amount) filter (where l.account_id = ${org.accounts["1000"]})::text as cash,
             sum(l.amount) filter (where l.account_id = ${org.accounts["6000"]})::text as write_off
      from journal_entries j join journal_lines l on l.entry_id = j.id
      where j.idempotency_key like ${`approval:${submitted.requestId}:%`} group by j.id order by j.entry_date`);
    expect(entries).toEqual([
      { key: `approval:${submitted.requestId}:${three[0]}`, source: "manual", lines: 2, balance: "0.0000", cash: "-12.4000", write_off: "12.4000" },
      { key: `approval:${submitted.requestId}:${three[1]}`, source: "manual", lines: 2, balance: "0.0000", cash: "-23.1000", write_off: "23.1000" },
      { key: `approval:${submitted.requestId}:${three[2]}`, source: "manual", lines: 2, balance: "0.0000", cash: "4.7500", write_off: "-4.7500" },
    ]);
    for (const id of three) {
      const e = await getException(t.db, org.ctx.viewer, id);
      expect(e).toMatchObject({ status: "resolved", resolution: "written_off", pendingApproval: null, details: expect.objectContaining({ approvalId: submitted.requestId }) });
      expect(e.resolutionNote).toMatch(new RegExp(`^Entry \\d+ \\(approval ${submitted.requestId.slice(0, 8)}\\)$`));
    }
    const audit = await rowsInOrg<{ action: string; n: number }>(t.db, org, sql`
      select action, count(*)::int as n from audit_log
      where (action = 'journal_entry.posted' and data->>'idempotencyKey' like ${`approval:${submitted.requestId}:%`})
         or (entity_id = ${submitted.requestId} and action in ('approval.requested', 'approval.approved', 'approval.executed'))
      group by action order by action`);
    expect(audit).toEqual([
      { action: "approval.approved", n: 1 }, { action: "approval.executed", n: 1 }, { action: "approval.requested", n: 1 }, { action: "journal_entry.posted", n: 3 },
    ]);
    const done = await getRequest(t.db, org.ctx.viewer, submitted.requestId);
    expect(done.outcome).toEqual({ text: expect.stringMatching(/^3 journal entries \(\d+–\d+\) are posted and 3 exceptions are written off\.$/), href: "/ledger" });

    // Written off once: a second attempt is refused by the single rule, naming the exception.
    expect(await messageOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March card fees", "March account fee"), note: "Again" })))
      .toMatch(/^“No match: -12\.40 EUR on 2026-03-05 \(DEUTSCHE BANK AG\)”: This exception is already resolved\. Nothing was submitted\.$/);
  });

  it("refuses a selection spanning periods or entities, a duplicate, and more than the bulk limit, and submits nothing", async () => {
    const before = await requestsOf(org);
    const periods = await messageOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March account fee", "April card fees"), note: "Fees" }));
    expect(periods).toMatch(/dated in 2 periods \(2026-03, 2026-04\).*split the selection by month/);
    const entities = await messageOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March account fee", "Dublin card fees"), note: "Fees" }));
    expect(entities).toMatch(/belong to 2 entities \(Test GmbH, Test Ltd\)/);
    expect(await failureOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March account fee", "March account fee"), note: "Fees" }))).toBe("validation");
    const tooMany = Array.from({ length: 501 }, () => crypto.randomUUID());
    expect(await failureOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: tooMany, note: "Fees" }))).toBe("validation");
    expect(await requestsOf(org)).toBe(before);
    expect(await statusOf(ex["March account fee"])).toBe("open");
  });

  it("refuses exceptions another request already holds (single or bulk), and the single write-off refuses those a bulk one holds", async () => {
    const single = await draftAdjustment(t.db, org.ctx.accountant, { exceptionId: ex["March cheque charge"], resolution: "written_off", note: "Cheque charge" });
    if (single.status !== "pending") return expect.fail("expected a pending request");
    const held = await messageOf(() => draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March cheque charge", "March account fee"), note: "Charges" }));
    expect(held).toContain(`“No match: -3.30 EUR on 2026-03-20 (DEUTSCHE BANK AG)” already waits on approval request ${single.requestId.slice(0, 8)}`);
    await withdrawRequest(t.db, org.ctx.accountant, { requestId: single.requestId });

    const bulk = await draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March cheque charge", "March account fee"), note: "Charges" });
    if (bulk.status !== "pending") return expect.fail("expected a pending request");
    expect(await failureOf(() => draftAdjustment(t.db, org.ctx.accountant, { exceptionId: ex["March account fee"], resolution: "written_off", note: "Fee" }))).toBe("conflict");
    // The same selection again is the same request (an edit by its maker), not a second one.
    const again = await draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March account fee", "March cheque charge"), note: "Charges" });
    expect(again).toMatchObject({ status: "pending", requestId: bulk.requestId, replayed: true });

    // Rejected: both stay open as they were, and wait on nothing.
    await rejectRequest(t.db, org.ctx.approver, { requestId: bulk.requestId, version: 1, comment: "Charge them back to the bank instead" });
    for (const id of ids("March cheque charge", "March account fee")) {
      expect(await getException(t.db, org.ctx.viewer, id)).toMatchObject({ status: "open", resolution: null, pendingApproval: null });
    }
    expect(await postedFor(org, bulk.requestId)).toBe(0);
  });

  it("fails the approval, naming the exception, when one was resolved meanwhile: nothing is posted or resolved", async () => {
    const bulk = await draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("March cheque charge", "March account fee"), note: "Charges, second try" });
    if (bulk.status !== "pending") return expect.fail("expected a pending request");
    await explainExceptions(t.db, org.ctx.accountant, { ids: ids("March account fee"), reasonCode: "bank_fee" });

    const refused = await messageOf(() => approveRequest(t.db, org.ctx.approver, { requestId: bulk.requestId, version: 1 }));
    expect(refused).toBe("Not approved: the action can no longer run. The exception “No match: -8.00 EUR on 2026-03-30 (DEUTSCHE BANK AG)” was resolved meanwhile; nothing was posted and none of the 2 exceptions was written off.");
    expect(await postedFor(org, bulk.requestId)).toBe(0);
    expect(await statusOf(ex["March cheque charge"])).toBe("open");
    expect(await getRequest(t.db, org.ctx.viewer, bulk.requestId)).toMatchObject({ status: "pending", approvals: 0 });
  });

  it("fails the approval when the period closed meanwhile: nothing is posted or resolved", async () => {
    const bulk = await draftBulkWriteOff(t.db, org.ctx.accountant, { ids: ids("February card fees", "February account fee"), note: "February charges" });
    if (bulk.status !== "pending") return expect.fail("expected a pending request");
    await closePeriod(t.db, org, "2026-02");
    expect(await messageOf(() => approveRequest(t.db, org.ctx.approver, { requestId: bulk.requestId, version: 1 }))).toMatch(/Period 2026-02 is closed/);
    expect(await postedFor(org, bulk.requestId)).toBe(0);
    for (const id of ids("February card fees", "February account fee")) expect(await statusOf(id)).toBe("open");
  });

  it("is refused to a viewer, and another organisation's ids are not found; nothing is written", async () => {
    const before = await requestsOf(org);
    expect(await failureOf(() => draftBulkWriteOff(t.db, org.ctx.viewer, { ids: ids("April card fees"), note: "Fees" }))).toBe("forbidden");
    expect(await failureOf(() => draftBulkWriteOff(t.db, other.ctx.accountant, { ids: ids("April card fees"), note: "Fees" }))).toBe("not_found");
    expect(await requestsOf(org)).toBe(before);
    expect(await requestsOf(other)).toBe(0);
    expect(await count(other, sql`select count(*)::int as n from audit_log where action like 'approval.%'`)).toBe(0);
    expect(await statusOf(ex["April card fees"])).toBe("open");
  });
});
