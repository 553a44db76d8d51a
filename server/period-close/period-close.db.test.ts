import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, test } from "vitest";
import { createTestOrg, failureOf, rowsInOrg, testDatabase, type TestOrg } from "@/test/db";
import { entryContent } from "@/test/approvals";
import { inOrg } from "@/server/db/tenant";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { submitManualEntry, submitReversal } from "@/server/ledger/submit-entry";
import { saveDraft } from "@/server/ledger/drafts";
import { submitDraft } from "@/server/ledger/submit-entry";
import { approveRequest, requestApproval } from "@/server/approvals/requests";
import { importFile } from "@/server/ingest/import-file";
import { landRecords } from "@/server/ingest/land-records";
import { createSource } from "@/server/ingest/sources";
import { closeFiscalPeriod, getPeriodClose, requestPeriodReopen } from "./close-period";
import { openPeriodFor } from "./open-period";

const t = await testDatabase();
const LIMITS = { maxBytes: 1024 * 1024, maxRecords: 10_000 };

let org: TestOrg;
let sourceId: string;
const period = async (name: string) => (await rowsInOrg<{ id: string }>(t.db, org, sql`select id from fiscal_periods where entity_id = ${org.entityId} and name = ${name}`))[0].id;
const csv = (rows: string[]) => Buffer.from(`Date,Amount,Description\n${rows.join("\n")}\n`);

beforeAll(async () => {
  org = await createTestOrg(t.db);
  ({ id: sourceId } = await createSource(t.db, org.ctx.accountant, { kind: "bank", name: "Operating", entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] }));
  await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "jan-feb.csv", bytes: csv(["2026-01-05,100.00,Sale", "2026-02-28,-20.00,Fee"]) }, LIMITS);
});

describe("the close checklist", () => {
  test("is computed from the live state and names what blocks it, with links", async () => {
    const jan = await period("2026-01");
    const pending = await requestApproval(t.db, org.ctx.accountant, { kind: "manual_journal", targetKey: "jan-accrual", content: entryContent(org, "80.00", "2026-01-20"), reason: "Accrual" });
    await inOrg(t.db, org.system, (tx) => tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, source_id, occurred_on) values
        (${org.orgId}, 'unmatched_transaction', 'medium', 'Sale 100.00 not matched', ${sourceId}, '2026-01-05'),
        (${org.orgId}, 'unmatched_transaction', 'medium', 'Later line not matched', ${sourceId}, '2026-02-28'),
        (${org.orgId}, 'balance_break', 'critical', 'Closing balance differs', ${sourceId}, '2026-01-31')`));
    const c = await getPeriodClose(t.db, org.ctx.viewer, jan);
    const byKey = Object.fromEntries(c.checklist.map((i) => [i.key, i]));
    expect(c.clear).toBe(false);
    expect(byKey.sources_reconciled).toMatchObject({ ok: false, blockers: [{ label: "Operating: Sale 100.00 not matched", href: expect.stringMatching(/^\/exceptions\/[0-9a-f-]{36}$/) }] });
    expect(byKey.sources_imported.ok).toBe(true);
    expect(byKey.severe_exceptions).toMatchObject({ ok: false, blockers: [{ label: "critical: Closing balance differs" }] });
    expect(byKey.pending_approvals).toMatchObject({ ok: false, blockers: [{ href: `/approvals/${pending.status === "pending" ? pending.requestId : ""}` }] });
    // March has no data yet: the source stops before its end.
    expect((await getPeriodClose(t.db, org.ctx.viewer, await period("2026-03"))).checklist.find((i) => i.key === "sources_imported")!.ok).toBe(false);

    // Not an admin, or an item neither clear nor overridden: refused.
    expect(await failureOf(() => closeFiscalPeriod(t.db, org.ctx.accountant, { periodId: jan }))).toBe("forbidden");
    expect(await failureOf(() => closeFiscalPeriod(t.db, org.ctx.admin, { periodId: jan, overrides: [{ key: "severe_exceptions", reason: "Bank confirmed the balance by letter" }] }))).toBe("conflict");

    // Clear them: the approval is decided, the unmatched item explained; the critical one is overridden with a reason.
    if (pending.status === "pending") await approveRequest(t.db, org.ctx.approver, { requestId: pending.requestId, version: 1 });
    await inOrg(t.db, org.system, (tx) => tx.execute(sql`update exceptions set status = 'resolved', resolution = 'explained', resolved_at = now() where org_id = ${org.orgId} and title = 'Sale 100.00 not matched'`));
    await closeFiscalPeriod(t.db, org.ctx.admin, { periodId: jan, overrides: [{ key: "severe_exceptions", reason: "Bank confirmed the balance by letter" }] });
    const closed = await getPeriodClose(t.db, org.ctx.viewer, jan);
    expect(closed.period.status).toBe("closed");
    expect(closed.events[0]).toMatchObject({ action: "closed", overrides: [{ key: "severe_exceptions", reason: "Bank confirmed the balance by letter" }] });
  });
});

describe("a closed period refuses postings on every write path", () => {
  let feb: string;
  beforeAll(async () => {
    feb = await period("2026-02");
    await t.adminDb.execute(sql`update exceptions set status = 'resolved', resolution = 'explained', resolved_at = now() where org_id = ${org.orgId}`);
    const before = await postJournalEntry(t.db, org.system, { ...entryContent(org, "10.00", "2026-02-10"), idempotencyKey: "feb-posted" });
    const waiting = await requestApproval(t.db, org.ctx.accountant, { kind: "manual_journal", targetKey: "feb-late", content: entryContent(org, "55.00", "2026-02-27"), reason: "late accrual" });
    const reversal = await submitReversal(t.db, org.ctx.accountant, { entryId: before.entryId, reversalDate: "2026-02-20", reason: "duplicate" });
    await closeFiscalPeriod(t.db, org.ctx.admin, { periodId: feb, overrides: [{ key: "pending_approvals", reason: "These will fail on approval; re-book in March" }] });
    Object.assign(state, { waiting, reversal, entryId: before.entryId });
  });
  const state = {} as { waiting: Awaited<ReturnType<typeof requestApproval>>; reversal: Awaited<ReturnType<typeof requestApproval>>; entryId: string };

  test("server actions: a new manual entry, a draft and a reversal dated in it are refused at submission", async () => {
    const form = { entityId: org.entityId, entryDate: "2026-02-15", description: "Fee", lines: [{ accountId: org.accounts["6000"], debit: "5" }, { accountId: org.accounts["1000"], credit: "5" }] };
    expect(await failureOf(() => submitManualEntry(t.db, org.ctx.accountant, { ...form, idempotencyKey: "closed-form" }))).toBe("period_closed");
    const { draftId } = await saveDraft(t.db, org.ctx.accountant, form);
    expect(await failureOf(() => submitDraft(t.db, org.ctx.accountant, { draftId }))).toBe("period_closed");
    expect(await failureOf(() => submitReversal(t.db, org.ctx.accountant, { entryId: state.entryId, reversalDate: "2026-02-21", reason: "again" }))).toBe("period_closed");
  });

  test("approval execution: requests submitted before the close fail when approved", async () => {
    for (const r of [state.waiting, state.reversal]) {
      if (r.status !== "pending") throw new Error("expected pending");
      expect(await failureOf(() => approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 }))).toBe("period_closed");
    }
  });

  test("direct postings (system jobs, the posting service itself) are refused by the service and the database", async () => {
    expect(await failureOf(() => postJournalEntry(t.db, org.system, { ...entryContent(org, "1.00", "2026-02-01"), idempotencyKey: "sys-feb" }))).toBe("period_closed");
    expect(await failureOf(() => inOrg(t.db, org.system, (tx) => tx.execute(sql`
      insert into journal_entries (org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
      values (${org.orgId}, ${org.entityId}, 999, '2026-02-02', 'raw', 'raw-feb', 'x', 'raw')`)))).toBe("journal_entry_period_closed");
  });

  test("Xero sync and other automated posters: openPeriodFor refuses (it waits) or moves to the next open period, as the organisation chose", async () => {
    const decide = () => inOrg(t.db, org.system, (tx) => openPeriodFor(tx, org.orgId, org.entityId, "2026-02-14"));
    expect(await failureOf(decide)).toBe("period_closed");
    await inOrg(t.db, org.system, (tx) => tx.execute(sql`insert into control_settings (org_id, closed_period_postings) values (${org.orgId}, 'next_open_period')`));
    expect(await decide()).toMatchObject({ date: "2026-03-01", moved: true, requestedDate: "2026-02-14", period: { name: "2026-03" } });
    expect(await inOrg(t.db, org.system, (tx) => openPeriodFor(tx, org.orgId, org.entityId, "2026-04-02"))).toMatchObject({ date: "2026-04-02", moved: false });
    await t.adminDb.execute(sql`delete from control_settings where org_id = ${org.orgId}`);
  });

  test("imports: a file with new lines dated in it is refused whole by default; flagged when the organisation chose so; webhooks land and flag", async () => {
    const countLines = async () => (await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from canonical_transactions`))[0].n;
    const before = await countLines();
    const file = csv(["2026-02-26,7.00,Late sale", "2026-03-02,9.00,March sale"]);
    const refused = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "late.csv", bytes: file }, LIMITS).catch((e) => e);
    expect(refused.code).toBe("period_closed");
    expect(refused.message).toMatch(/1 line\(s\) of this file are dated in closed period\(s\) 2026-02 \(2026-02-26 – 2026-02-26\)\. Nothing was imported/);
    expect(await countLines()).toBe(before);
    // Re-importing lines already there (dated in the closed period) is no new fact: it passes.
    expect((await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "again.csv", bytes: csv(["2026-01-05,100.00,Sale", "2026-02-28,-20.00,Fee"]) }, LIMITS)).duplicateCount).toBe(2);

    await inOrg(t.db, org.system, (tx) => tx.execute(sql`insert into control_settings (org_id, closed_period_imports) values (${org.orgId}, 'flag')`));
    const flagged = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "late.csv", bytes: file }, LIMITS);
    expect(flagged.newCount).toBe(2);
    await t.adminDb.execute(sql`delete from control_settings where org_id = ${org.orgId}`);
    const source = { id: sourceId, currency: "EUR", name: "Operating" };
    await inOrg(t.db, org.system, (tx) => landRecords(tx, org.system, source, {
      format: "stripe_webhook", parserVersion: "1", statements: [], warnings: [],
      records: [{ externalId: "evt_1", bookedDate: "2026-02-11", valueDate: null, amount: "3.00", currency: "EUR", counterpartyName: null, counterpartyAccount: null, reference: null, description: "late event", bankTransactionCode: null, type: "payment", originalAmount: null, originalCurrency: null, statementIndex: null, raw: {} }],
    }, { channel: "webhook", fileName: null, uploadId: null, startedAt: 0 }));
    const flags = await rowsInOrg<{ title: string; severity: string }>(t.db, org, sql`select title, severity from exceptions where kind = 'closed_period_lines' order by raised_at`);
    expect(flags).toEqual([
      { title: "1 new line(s) of Operating are dated in closed period(s) 2026-02", severity: "high" },
      { title: "1 new line(s) of Operating are dated in closed period(s) 2026-02", severity: "high" },
    ]);
  });

  test("0 postings landed in the closed period after it closed", async () => {
    const [r] = await rowsInOrg<{ n: number }>(t.db, org, sql`
      select count(*)::int as n from journal_entries e join fiscal_periods p on p.entity_id = e.entity_id and e.entry_date between p.starts_on and p.ends_on
      where p.status = 'closed' and e.posted_at > p.closed_at`);
    expect(r.n).toBe(0);
  });

  test("reopening needs an admin, a reason and another person's approval; the database refuses any other way", async () => {
    expect(await failureOf(() => requestPeriodReopen(t.db, org.ctx.accountant, { periodId: feb, reason: "Late invoices arrived" }))).toBe("forbidden");
    expect(await failureOf(() => requestPeriodReopen(t.db, org.ctx.admin, { periodId: feb, reason: "" }))).toBe("validation");
    expect(await failureOf(() => inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`update fiscal_periods set status = 'open' where id = ${feb}`)))).toBe("fiscal_period_reopen_approved");
    const r = await requestPeriodReopen(t.db, org.ctx.admin, { periodId: feb, reason: "Late invoices arrived" });
    if (r.status !== "pending") throw new Error("expected pending");
    expect(await failureOf(() => approveRequest(t.db, org.ctx.admin, { requestId: r.requestId, version: 1 }))).toBe("forbidden");
    await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 });
    const reopened = await getPeriodClose(t.db, org.ctx.viewer, feb);
    expect(reopened.period.status).toBe("open");
    expect(reopened.events.map((e) => [e.action, e.reason])).toEqual([["reopened", "Late invoices arrived"], ["closed", null]]);
    // Open again: the late accrual can now be approved.
    if (state.waiting.status !== "pending") throw new Error("expected pending");
    expect((await approveRequest(t.db, org.ctx.approver, { requestId: state.waiting.requestId, version: 1 })).status).toBe("executed");
  });
});
