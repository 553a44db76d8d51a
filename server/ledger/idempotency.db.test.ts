import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase } from "@/test/db";
import { postJournalEntries, postJournalEntry, type PostingInput } from "@/server/ledger/post-journal-entries";

const t = await testDatabase({ max: 12 });
const org = await createTestOrg(t.db);
const [bank, revenue] = [org.accounts["1000"], org.accounts["4000"]];

const posting = (i: number): PostingInput => ({
  entityId: org.entityId,
  entryDate: `${org.year}-0${1 + (i % 9)}-1${i % 10}`,
  description: `Invoice ${i}`,
  idempotencyKey: `invoice:${i}`,
  lines: [
    { accountId: bank, amount: `${100 + i}.25` },
    { accountId: revenue, amount: `-${100 + i}.25` },
  ],
});

async function countRows() {
  const [r] = await t.adminDb.execute<{ entries: string; lines: string; audit: string }>(sql`
    select (select count(*) from journal_entries where org_id = ${org.orgId}) as entries,
           (select count(*) from journal_lines where org_id = ${org.orgId}) as lines,
           (select count(*) from audit_log where org_id = ${org.orgId}) as audit`);
  return { entries: Number(r.entries), lines: Number(r.lines), audit: Number(r.audit) };
}

describe("idempotent posting", () => {
  it("writes 1,000 postings once each when every one is sent 5 times, 3 of them concurrently", async () => {
    const before = await countRows();
    const N = 1000;
    const inFlight = 8; // postings whose five sends overlap at any time
    const byKey = new Map<string, { entryId: string; entryNumber: number; replayed: boolean }[]>();
    for (let start = 0; start < N; start += inFlight) {
      await Promise.all(
        Array.from({ length: Math.min(inFlight, N - start) }, async (_, k) => {
          const input = posting(start + k);
          const concurrent = await Promise.all([0, 1, 2].map(() => postJournalEntry(t.db, org.ctx.accountant, input)));
          const later = [await postJournalEntry(t.db, org.ctx.accountant, input), await postJournalEntry(t.db, org.ctx.admin, input)];
          byKey.set(input.idempotencyKey, [...concurrent, ...later]);
        }),
      );
    }
    expect(byKey.size).toBe(N);
    for (const [, results] of byKey) {
      expect(new Set(results.map((r) => r.entryId)).size).toBe(1);
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    }
    const after = await countRows();
    expect(after.entries - before.entries).toBe(N);
    expect(after.lines - before.lines).toBe(2 * N);
    expect(after.audit - before.audit).toBe(N);
    const [{ keys }] = await t.adminDb.execute<{ keys: string }>(sql`select count(distinct idempotency_key) as keys from journal_entries where org_id = ${org.orgId}`);
    expect(Number(keys)).toBe(N);
    // Every stored entry is the one the callers were told about.
    const stored = await t.adminDb.execute<{ id: string; idempotency_key: string }>(sql`select id, idempotency_key from journal_entries where org_id = ${org.orgId}`);
    for (const s of stored) expect(byKey.get(s.idempotency_key)?.[0].entryId).toBe(s.id);
  });

  it("refuses the same key with an altered payload and writes nothing", async () => {
    const input = posting(5000);
    const first = await postJournalEntry(t.db, org.ctx.accountant, input);
    const before = await countRows();
    const altered: PostingInput[] = [
      { ...input, lines: [{ ...input.lines[0], amount: "5100.26" }, { ...input.lines[1], amount: "-5100.26" }] },
      { ...input, description: "Invoice 5000 (edited)" },
      { ...input, entryDate: `${org.year}-12-01` },
      { ...input, lines: [input.lines[1], input.lines[0]] },
    ];
    for (const a of altered) expect(await failureOf(() => postJournalEntry(t.db, org.ctx.accountant, a))).toBe("idempotency_conflict");
    // In a batch: a fresh entry next to the conflicting one is not written either (all or nothing).
    expect(await failureOf(() => postJournalEntries(t.db, org.ctx.accountant, [posting(5001), altered[0]]))).toBe("idempotency_conflict");
    // Two different payloads under one new key inside one batch.
    expect(await failureOf(() => postJournalEntries(t.db, org.ctx.accountant, [posting(5002), { ...posting(5002), description: "other" }]))).toBe("idempotency_conflict");
    expect(await countRows()).toEqual(before);
    // The original is untouched and still replays.
    const replay = await postJournalEntry(t.db, org.ctx.accountant, input);
    expect(replay).toEqual({ ...first, replayed: true });
    const [row] = await t.adminDb.execute<{ description: string; entry_date: string }>(sql`select description, entry_date from journal_entries where id = ${first.entryId}`);
    expect(row).toEqual({ description: "Invoice 5000", entry_date: input.entryDate });
  });
});

describe("entry ids", () => {
  it("gives a batch's entries time-ordered (version 7) ids that sort in the order the entries are numbered", async () => {
    const posted = await postJournalEntries(t.db, org.ctx.accountant, Array.from({ length: 300 }, (_, i) => posting(9000 + i)));
    expect(posted.every((p) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(p.entryId))).toBe(true);
    const byNumber = [...posted].sort((a, b) => a.entryNumber - b.entryNumber).map((p) => p.entryId);
    expect([...byNumber].sort()).toEqual(byNumber);
  });
});

// The first round trip is sent before the inputs are validated, from what they say as given.
describe("lookups sent before validation", () => {
  it("replays a key given with surrounding spaces, which validation trims, as the entry posted under the trimmed key", async () => {
    const input = posting(7000);
    const first = await postJournalEntry(t.db, org.ctx.accountant, input);
    const before = await countRows();
    expect(await postJournalEntry(t.db, org.ctx.accountant, { ...input, idempotencyKey: `  ${input.idempotencyKey} ` })).toEqual({ ...first, replayed: true });
    const [replayed, fresh] = await postJournalEntries(t.db, org.ctx.accountant, [{ ...input, idempotencyKey: `${input.idempotencyKey}\t` }, posting(7001)]);
    expect(replayed).toEqual({ ...first, replayed: true });
    expect(fresh.replayed).toBe(false);
    expect(await countRows()).toEqual({ entries: before.entries + 1, lines: before.lines + 2, audit: before.audit + 1 });
  });

  it("refuses a batch with a malformed entry as invalid, naming the entry, and writes nothing", async () => {
    const before = await countRows();
    const malformed: unknown[] = [
      { ...posting(7100), entryDate: `${org.year}-02-30` }, // not a calendar date: PostgreSQL could not cast it
      { ...posting(7100), entityId: "not-an-id" },
      { ...posting(7100), lines: [{ accountId: "{not-a-uuid}", amount: "1.00" }, { accountId: revenue, amount: "-1.00" }] },
      { ...posting(7100), lines: "two lines" },
      { ...posting(7100), idempotencyKey: 42 },
      null,
    ];
    for (const m of malformed) {
      const error = await postJournalEntries(t.db, org.ctx.accountant, [posting(7101), m as PostingInput]).catch((e) => e);
      expect(error).toMatchObject({ code: "validation" });
      expect(error.message).toContain("(entry 2)");
    }
    expect(await countRows()).toEqual(before);
  });
});
