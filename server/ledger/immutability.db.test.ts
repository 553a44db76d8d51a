import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { closePeriod, createTestOrg, failureOf, testDatabase } from "@/test/db";
import { postJournalEntry, type PostingInput } from "@/server/ledger/post-journal-entries";
import { reverseJournalEntry } from "@/server/ledger/reverse-journal-entry";
import { trialBalance } from "@/server/ledger/queries";
import { inOrg } from "@/server/db/tenant";

const t = await testDatabase();
const org = await createTestOrg(t.db);
const { accounts } = org;

const entry = (date: string, amount: string, key = randomUUID()): PostingInput => ({
  entityId: org.entityId, entryDate: date, description: `Sale ${key}`, idempotencyKey: key,
  lines: [{ accountId: accounts["1100"], amount }, { accountId: accounts["4000"], amount: `-${amount}` }],
});

const january = await postJournalEntry(t.db, org.ctx.accountant, entry(`${org.year}-01-15`, "1200.00"));
const march = await postJournalEntry(t.db, org.ctx.accountant, entry(`${org.year}-03-10`, "300.00"));
await closePeriod(t.db, org, `${org.year}-03`);

/** Runs a statement as the app role inside the organisation. */
const asApp = (q: ReturnType<typeof sql>) => inOrg(t.db, org.system, (tx) => tx.execute(q));
/** Runs a statement as the owner (superuser): grants do not stop it, only triggers can. */
const asOwner = (q: ReturnType<typeof sql>) => t.adminDb.execute(q);

async function snapshot() {
  const [r] = await t.adminDb.execute<{ e: string; l: string; a: string }>(sql`
    select (select md5(string_agg(x::text, ',' order by x.id)) from journal_entries x) as e,
           (select md5(string_agg(x::text, ',' order by x.id)) from journal_lines x) as l,
           (select md5(string_agg(x::text, ',' order by x.org_id, x.seq)) from audit_log x) as a`);
  return r;
}

describe("posted records are immutable", () => {
  it("refuses UPDATE, DELETE and TRUNCATE of entries, lines and the audit log, as the app role and as the owner", async () => {
    const before = await snapshot();
    const statements = {
      "update entry": sql`update journal_entries set description = 'changed' where id = ${january.entryId}`,
      "delete entry": sql`delete from journal_entries where id = ${january.entryId}`,
      "truncate entries": sql`truncate journal_entries cascade`,
      "update line": sql`update journal_lines set amount = amount + 1, functional_amount = functional_amount + 1 where entry_id = ${january.entryId}`,
      "delete line": sql`delete from journal_lines where entry_id = ${january.entryId}`,
      "truncate lines": sql`truncate journal_lines`,
      "update audit": sql`update audit_log set action = 'changed' where org_id = ${org.orgId}`,
      "delete audit": sql`delete from audit_log where org_id = ${org.orgId}`,
      "truncate audit": sql`truncate audit_log`,
    };
    const outcomes: Record<string, [string, string]> = {};
    for (const [name, q] of Object.entries(statements)) outcomes[name] = [await failureOf(() => asApp(q)), await failureOf(() => asOwner(q))];
    // The app role lacks the grant (42501); the owner is stopped by the append-only triggers.
    expect(outcomes).toEqual({
      "update entry": ["42501", "journal_entries_append_only"],
      "delete entry": ["42501", "journal_entries_append_only"],
      "truncate entries": ["42501", "journal_entries_append_only"],
      "update line": ["42501", "journal_lines_append_only"],
      "delete line": ["42501", "journal_lines_append_only"],
      "truncate lines": ["42501", "journal_lines_append_only"],
      "update audit": ["42501", "audit_log_append_only"],
      "delete audit": ["42501", "audit_log_append_only"],
      "truncate audit": ["42501", "audit_log_append_only"],
    });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a line added to an already posted entry", async () => {
    const addLine = sql`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
      values (${org.orgId}, ${january.entryId}, 3, ${org.entityId}, ${accounts["1000"]}, ${`${org.year}-01-15`}, 0.01, 'EUR', 1, 0.01)`;
    expect(await failureOf(() => asApp(addLine))).toBe("journal_lines_append_only");
    expect(await failureOf(() => asOwner(addLine))).toBe("journal_lines_append_only");
    const [{ n }] = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_lines where entry_id = ${january.entryId}`);
    expect(n).toBe("2");
  });

  it("refuses posting into a closed period through the service, a reversal and raw SQL", async () => {
    const before = await snapshot();
    expect(await failureOf(() => postJournalEntry(t.db, org.ctx.accountant, entry(`${org.year}-03-31`, "10.00")))).toBe("period_closed");
    expect(await failureOf(() => reverseJournalEntry(t.db, org.ctx.accountant, { entryId: january.entryId, reversalDate: `${org.year}-03-01`, reason: "wrong customer" }))).toBe("period_closed");
    // Reversing the March entry on its own date lands in the closed period too.
    expect(await failureOf(() => reverseJournalEntry(t.db, org.ctx.accountant, { entryId: march.entryId, reason: "duplicate" }))).toBe("period_closed");
    // No period at all: outside the opened year.
    expect(await failureOf(() => postJournalEntry(t.db, org.ctx.accountant, entry(`${org.year + 1}-01-02`, "10.00")))).toBe("no_period");
    const raw = (date: string) =>
      t.appClient.begin(async (q) => {
        await q`select set_config('app.org_id', ${org.orgId}, true)`;
        const id = randomUUID();
        await q`insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
                values (${id}, ${org.orgId}, ${org.entityId}, 777777, ${date}, 'raw', ${randomUUID()}, 'x', 'raw sql')`;
        for (const [no, acct, amt] of [[1, accounts["1000"], "5.00"], [2, accounts["4000"], "-5.00"]] as const) {
          await q`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
                  values (${org.orgId}, ${id}, ${no}, ${org.entityId}, ${acct}, ${date}, ${amt}, 'EUR', 1, ${amt})`;
        }
      });
    expect(await failureOf(() => raw(`${org.year}-03-20`))).toBe("journal_entry_period_closed");
    // A line dated outside the entry's (open) period is refused as well: lines copy the entry's date.
    const mismatched = t.appClient.begin(async (q) => {
      await q`select set_config('app.org_id', ${org.orgId}, true)`;
      const id = randomUUID();
      await q`insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
              values (${id}, ${org.orgId}, ${org.entityId}, 777778, ${`${org.year}-04-01`}, 'raw', ${randomUUID()}, 'x', 'raw sql')`;
      await q`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
              values (${org.orgId}, ${id}, 1, ${org.entityId}, ${accounts["1000"]}, ${`${org.year}-03-20`}, 5, 'EUR', 1, 5)`;
    });
    expect(await failureOf(() => mismatched)).toBe("journal_line_matches_entry");
    expect(await snapshot()).toEqual(before);
  });

  it("reverses an entry once, and the reversal brings its accounts back to zero", async () => {
    const other = await createTestOrg(t.db, { name: "Reversal org" });
    const e = async (amount: string, debit: string, credit: string) =>
      postJournalEntry(t.db, other.ctx.accountant, {
        entityId: other.entityId, entryDate: `${other.year}-05-0${amount.length}`, description: "to reverse", idempotencyKey: randomUUID(),
        lines: [{ accountId: other.accounts[debit], amount }, { accountId: other.accounts[credit], amount: `-${amount}` }],
      });
    const first = await e("999.99", "6000", "2000");
    const second = await e("12.34", "1000", "3000");
    const tb = () => trialBalance(t.db, other.ctx.viewer, { entityId: other.entityId, asOf: `${other.year}-12-31` });
    expect((await tb()).rows.map((r) => [r.code, r.balance])).toEqual([["1000", "12.34"], ["2000", "-999.99"], ["3000", "-12.34"], ["6000", "999.99"]]);

    const reversal = await reverseJournalEntry(t.db, other.ctx.accountant, { entryId: first.entryId, reason: "posted to the wrong supplier" });
    expect(reversal.replayed).toBe(false);
    expect(await failureOf(() => reverseJournalEntry(t.db, other.ctx.accountant, { entryId: first.entryId, reason: "again" }))).toBe("already_reversed");
    expect(await failureOf(() => reverseJournalEntry(t.db, other.ctx.accountant, { entryId: first.entryId, reason: "posted to the wrong supplier" }))).toBe("already_reversed");
    await reverseJournalEntry(t.db, other.ctx.admin, { entryId: second.entryId, reversalDate: `${other.year}-06-30`, reason: "duplicate" });
    // A viewer may not reverse.
    expect(await failureOf(() => reverseJournalEntry(t.db, other.ctx.viewer, { entryId: reversal.entryId, reason: "nope" }))).toBe("forbidden");

    expect((await tb()).rows.map((r) => [r.code, r.balance])).toEqual([["1000", "0"], ["2000", "0"], ["3000", "0"], ["6000", "0"]]);
    const rows = await t.adminDb.execute<{ entry_number: string; reverses_entry_id: string | null; source: string }>(sql`
      select entry_number, reverses_entry_id, source from journal_entries where org_id = ${other.orgId} order by entry_number`);
    expect(rows).toEqual([
      { entry_number: "1", reverses_entry_id: null, source: "manual" },
      { entry_number: "2", reverses_entry_id: null, source: "manual" },
      { entry_number: "3", reverses_entry_id: first.entryId, source: "reversal" },
      { entry_number: "4", reverses_entry_id: second.entryId, source: "reversal" },
    ]);
  });
});
