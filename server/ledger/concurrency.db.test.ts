import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { createTestOrg, testDatabase } from "@/test/db";
import { postJournalEntry, type PostingInput } from "@/server/ledger/post-journal-entries";
import { trialBalance } from "@/server/ledger/queries";
import { verifyAuditChain } from "@/server/audit/verify-chain";
import { AppError } from "@/server/errors";
import { prng } from "@/server/prng";

const WORKERS = 16;
const POSTINGS = 10_000;
const t = await testDatabase({ max: WORKERS + 2 });
const org = await createTestOrg(t.db, { accountCount: 50 });

/** 2–4 lines over the 50 accounts; one posting in fifty is unbalanced by a cent and must be refused. */
function makePosting(rand: () => number, n: number): { input: PostingInput; balanced: boolean } {
  const lineCount = 2 + Math.floor(rand() * 3);
  const amounts: Decimal[] = [];
  for (let i = 0; i < lineCount - 1; i++) {
    const c = 1 + Math.floor(rand() * 5_000_000);
    amounts.push(new Decimal(rand() < 0.5 ? c : -c).dividedBy(100));
  }
  let last = amounts.reduce((a, b) => a.plus(b), new Decimal(0)).neg();
  if (last.isZero()) {
    amounts[0] = amounts[0].times(2);
    last = amounts.reduce((a, b) => a.plus(b), new Decimal(0)).neg();
  }
  const balanced = rand() >= 0.02;
  if (!balanced) last = last.plus(last.isPos() ? "0.01" : "-0.01");
  amounts.push(last);
  const month = 1 + Math.floor(rand() * 12);
  return {
    balanced,
    input: {
      entityId: org.entityId,
      entryDate: `${org.year}-${String(month).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`,
      description: `Concurrent posting ${n}`,
      idempotencyKey: randomUUID(),
      lines: amounts.map((a) => ({ accountId: org.accountIds[Math.floor(rand() * org.accountIds.length)], amount: a.toFixed(2) })),
    },
  };
}

describe("concurrent posting", () => {
  it(`keeps every balance exact across ${POSTINGS} postings from ${WORKERS} concurrent workers`, async () => {
    const tally = new Map<string, Decimal>();
    let accepted = 0;
    let refused = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const rand = prng(1000 + w);
        while (next < POSTINGS) {
          const n = next++;
          const { input, balanced } = makePosting(rand, n);
          try {
            const r = await postJournalEntry(t.db, w % 2 ? org.ctx.accountant : org.ctx.admin, input);
            expect(r.replayed).toBe(false);
            expect(balanced).toBe(true);
            accepted += 1;
            for (const l of input.lines) tally.set(l.accountId, (tally.get(l.accountId) ?? new Decimal(0)).plus(l.amount));
          } catch (e) {
            expect(balanced).toBe(false);
            expect(e).toBeInstanceOf(AppError);
            expect((e as AppError).code).toBe("unbalanced");
            refused += 1;
          }
        }
      }),
    );
    expect(accepted + refused).toBe(POSTINGS);
    expect(refused).toBeGreaterThan(0);

    // Re-derive every balance from the lines, independently of the service's queries.
    const derived = await t.adminDb.execute<{ account_id: string; balance: string }>(sql`
      select account_id, sum(functional_amount)::text as balance from journal_lines where org_id = ${org.orgId} group by account_id`);
    const sqlBalance = new Map(derived.map((r) => [r.account_id, new Decimal(r.balance)]));
    const tb = await trialBalance(t.db, org.ctx.viewer, { entityId: org.entityId, asOf: `${org.year}-12-31` });
    const tbBalance = new Map(tb.rows.map((r) => [r.accountId, new Decimal(r.balance)]));
    const differences: string[] = [];
    for (const id of org.accountIds) {
      const mine = tally.get(id) ?? new Decimal(0);
      const a = sqlBalance.get(id) ?? new Decimal(0);
      const b = tbBalance.get(id) ?? new Decimal(0);
      if (!a.eq(mine) || !b.eq(mine)) differences.push(`${id}: tally ${mine} sql ${a} trial balance ${b}`);
    }
    expect(differences).toEqual([]);
    expect(tb.difference).toBe("0");

    const [numbers] = await t.adminDb.execute<{ n: string; min: string; max: string; distinct: string }>(sql`
      select count(*) as n, min(entry_number) as min, max(entry_number) as max, count(distinct entry_number) as distinct
      from journal_entries where org_id = ${org.orgId} and entity_id = ${org.entityId}`);
    expect(numbers).toEqual({ n: String(accepted), min: "1", max: String(accepted), distinct: String(accepted) });

    const chain = await verifyAuditChain(t.db, org.ctx.admin);
    expect(chain).toMatchObject({ ok: true, rows: accepted + 1 });
    // Postings of one organisation are serialised by design (advisory lock, gapless numbers, one
    // audit chain): 10,000 single-entry transactions take one to two minutes on two cores while
    // other test files run, which is what this bound allows for.
  }, 900_000); // a bound that catches a hang; ~3 min on an idle 2-core machine, much more when it is shared
});
