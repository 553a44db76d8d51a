import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase } from "@/test/db";
import { postJournalEntries } from "@/server/ledger/post-journal-entries";
import { trialBalance } from "@/server/ledger/queries";
import { AppError } from "@/server/errors";

const t = await testDatabase();
const org = await createTestOrg(t.db);

const cents = (c: number) => new Decimal(c).dividedBy(100).toFixed(2);

/** A journal of 2–4 lines in whole cents; about a quarter are knocked out of balance by `skew` cents. */
const journal = fc
  .record({
    amounts: fc.array(fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).filter((n) => n !== 0), { minLength: 1, maxLength: 3 }),
    accounts: fc.array(fc.constantFrom(...org.accountIds), { minLength: 4, maxLength: 4 }),
    day: fc.integer({ min: 0, max: 364 }),
    skew: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: -100_000, max: 100_000 }).filter((n) => n !== 0), weight: 1 }),
  })
  .map(({ amounts, accounts, day, skew }) => {
    const lines = [...amounts];
    if (lines.reduce((a, b) => a + b, 0) === 0) lines[0] *= 2; // the balancing line must not be zero
    let last = -lines.reduce((a, b) => a + b, 0);
    if (skew !== 0) last = last + skew === 0 ? last + 2 * skew : last + skew;
    lines.push(last);
    const date = new Date(Date.UTC(org.year, 0, 1 + day)).toISOString().slice(0, 10);
    return { balanced: skew === 0, date, lines: lines.map((c, i) => ({ accountId: accounts[i], amount: cents(c) })) };
  });

describe("posting keeps the books balanced", () => {
  it("accepts exactly the balanced journals of 1,000 random ones and the trial balance matches an independent tally", async () => {
    const tally = new Map<string, Decimal>();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(journal, async (j) => {
        const input = { entityId: org.entityId, entryDate: j.date, description: "property", idempotencyKey: randomUUID(), lines: j.lines };
        if (j.balanced) {
          await postJournalEntries(t.db, org.ctx.accountant, [input]);
          accepted += 1;
          for (const l of j.lines) tally.set(l.accountId, (tally.get(l.accountId) ?? new Decimal(0)).plus(l.amount));
        } else {
          const err = await postJournalEntries(t.db, org.ctx.accountant, [input]).then(() => null, (e: unknown) => e);
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe("unbalanced");
          refused += 1;
        }
      }),
      { numRuns: 1000, seed: 20260401 },
    );
    expect(accepted + refused).toBe(1000);
    expect(refused).toBeGreaterThan(100);

    const [{ n }] = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entries where org_id = ${org.orgId}`);
    expect(Number(n)).toBe(accepted);
    const [{ unbalanced }] = await t.adminDb.execute<{ unbalanced: string }>(sql`
      select count(*) as unbalanced from (select entry_id from journal_lines group by entry_id having sum(functional_amount) <> 0) x`);
    expect(Number(unbalanced)).toBe(0);

    const tb = await trialBalance(t.db, org.ctx.viewer, { entityId: org.entityId, asOf: `${org.year}-12-31` });
    expect(tb.difference).toBe("0");
    expect(tb.totalDebit).toBe(tb.totalCredit);
    const reported = new Map(tb.rows.map((r) => [r.accountId, new Decimal(r.balance)]));
    for (const id of org.accountIds) {
      const mine = tally.get(id) ?? new Decimal(0);
      const theirs = reported.get(id) ?? new Decimal(0);
      expect(theirs.toFixed(2), `account ${id}`).toBe(mine.toFixed(2));
    }
  });

  it("refuses unbalanced or one-line entries written directly in SQL as the app role, at commit", async () => {
    const before = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entries`);
    const rawEntry = async (amounts: string[]) =>
      t.appClient.begin(async (q) => {
        await q`select set_config('app.org_id', ${org.orgId}, true)`;
        const id = randomUUID();
        await q`insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
                values (${id}, ${org.orgId}, ${org.entityId}, ${900000 + Math.floor(Math.random() * 99999)}, ${`${org.year}-06-15`}, 'raw', ${randomUUID()}, 'x', 'raw sql')`;
        let lineNo = 0;
        for (const a of amounts) {
          lineNo += 1;
          await q`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
                  values (${org.orgId}, ${id}, ${lineNo}, ${org.entityId}, ${org.accountIds[lineNo - 1]}, ${`${org.year}-06-15`}, ${a}, 'EUR', 1, ${a})`;
        }
      });
    expect(await failureOf(() => rawEntry(["100.00", "-99.99"]))).toBe("journal_entry_balanced");
    expect(await failureOf(() => rawEntry(["100.00", "-50.00", "-50.01"]))).toBe("journal_entry_balanced");
    expect(await failureOf(() => rawEntry(["100.00"]))).toBe("journal_entry_lines");
    expect(await failureOf(() => rawEntry([]))).toBe("journal_entry_lines");
    const after = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entries`);
    expect(after[0].n).toBe(before[0].n);
    // The same path with balanced lines commits, so the refusals above are the balance rule at work.
    expect(await failureOf(() => rawEntry(["100.00", "-60.00", "-40.00"]))).toBe("no error");
  });

  it("checks every entry of a multi-row INSERT at commit, not only the first, and leaves no record of the check behind", async () => {
    const before = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entries`);
    // Three entries in one statement and their lines in another; `amounts[k]` are entry k's lines.
    const rawEntries = async (amounts: string[][]) =>
      t.appClient.begin(async (q) => {
        await q`select set_config('app.org_id', ${org.orgId}, true)`;
        const ids = amounts.map(() => randomUUID());
        const base = 800000 + Math.floor(Math.random() * 99999) * 3;
        await q`insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
                select id, ${org.orgId}, ${org.entityId}, ${base} + n, ${`${org.year}-06-15`}, 'raw', gen_random_uuid()::text, 'x', 'raw sql'
                from unnest(${ids}::uuid[]) with ordinality as u(id, n)`;
        const lines = amounts.flatMap((a, k) => a.map((amount, i) => ({ entry_id: ids[k], line_no: i + 1, account_id: org.accountIds[i], amount })));
        await q`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
                select ${org.orgId}, entry_id, line_no, ${org.entityId}, account_id, ${`${org.year}-06-15`}, amount, 'EUR', 1, amount
                from json_to_recordset(${JSON.stringify(lines)}::json) as r(entry_id uuid, line_no int, account_id uuid, amount numeric)`;
      });
    expect(await failureOf(() => rawEntries([["10.00", "-10.00"], ["5.00", "-5.00"], ["7.00", "-6.99"]]))).toBe("journal_entry_balanced");
    expect(await failureOf(() => rawEntries([["10.00", "-10.00"], ["5.00"], ["7.00", "-7.00"]]))).toBe("journal_entry_lines");
    expect(await failureOf(() => rawEntries([["10.00", "-10.00"], [], ["7.00", "-7.00"]]))).toBe("journal_entry_lines");
    const after = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entries`);
    expect(after[0].n).toBe(before[0].n);
    expect(await failureOf(() => rawEntries([["10.00", "-10.00"], ["5.00", "-2.50", "-2.50"], ["7.00", "-7.00"]]))).toBe("no error");
    const [{ n }] = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_entry_balance_due`);
    expect(n).toBe("0");
  });
});
