/**
 * Posting throughput against a floor: the same lines written by a bare batched INSERT into a
 * table with no keys, triggers or audit (REFERENCE), and through postJournalEntries with every
 * trigger, check and audit row in place (OURS). `npm run bench:ledger`; BENCH_ENTRIES shrinks it.
 */
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import Decimal from "decimal.js";
import { postJournalEntries, type PostingInput } from "@/server/ledger/post-journal-entries";
import { trialBalance } from "@/server/ledger/queries";
import { verifyAuditChain } from "@/server/audit/verify-chain";
import { withBenchDatabase } from "./bench-database";
import { createTestOrg } from "@/test/fixtures";
import { prng } from "@/server/prng";

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 100_000);
const BATCH = 1000;
/** Enough recycled WAL for the whole run (≈ 350 MB: 22 segments of 16 MB). */
const RECYCLED_WAL_SEGMENTS = 24;

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function main() {
  await withBenchDatabase(async ({ app, admin }) => {
    const org = await createTestOrg(app.db, { accountCount: 50, year: 2026 });

    // Deterministic journals: 2–4 lines in whole cents over 50 accounts, dates across the year.
    const rand = prng(42);
    const entries: PostingInput[] = [];
    let lineCount = 0;
    for (let i = 0; i < ENTRIES; i++) {
      const n = 2 + Math.floor(rand() * 3);
      const cents: number[] = [];
      for (let k = 0; k < n - 1; k++) cents.push((1 + Math.floor(rand() * 1_000_000)) * (rand() < 0.5 ? 1 : -1));
      let last = -cents.reduce((a, b) => a + b, 0);
      if (last === 0) { cents[0] *= 2; last = -cents.reduce((a, b) => a + b, 0); }
      cents.push(last);
      const day = new Date(Date.UTC(2026, 0, 1 + Math.floor(rand() * 365))).toISOString().slice(0, 10);
      entries.push({
        entityId: org.entityId, entryDate: day, description: `Bench entry ${i + 1}`, idempotencyKey: `bench:${i + 1}`,
        lines: cents.map((c) => ({ accountId: org.accountIds[Math.floor(rand() * org.accountIds.length)], amount: new Decimal(c).dividedBy(100).toFixed(2) })),
      });
      lineCount += n;
    }
    console.log(`${ENTRIES} entries, ${lineCount} lines, batches of ${BATCH} entries; the cluster has ${RECYCLED_WAL_SEGMENTS} recycled WAL segments, as a running server has`);

    // REFERENCE: the same lines, with the columns journal_lines stores, one json_to_recordset
    // INSERT per batch into a bare table (no keys, indexes, triggers, row-level security or audit).
    await admin.db.execute(sql`create table bare_lines (org_id uuid, entry_id int, line_no int, entity_id uuid, account_id uuid, entry_date date,
      amount numeric, currency text, rate numeric, functional_amount numeric, memo text, counterparty text, reference text, dimensions jsonb)`);
    let t0 = performance.now();
    for (let start = 0; start < ENTRIES; start += BATCH) {
      const rows = entries.slice(start, start + BATCH).flatMap((e, i) =>
        e.lines.map((l, k) => ({
          org_id: org.orgId, entry_id: start + i + 1, line_no: k + 1, entity_id: e.entityId, account_id: l.accountId, entry_date: e.entryDate,
          amount: l.amount, currency: "EUR", rate: "1", functional_amount: l.amount, memo: null, counterparty: null, reference: null, dimensions: {},
        })),
      );
      await admin.db.execute(sql`insert into bare_lines
        select * from json_to_recordset(${JSON.stringify(rows)}::json) as r(org_id uuid, entry_id int, line_no int, entity_id uuid, account_id uuid, entry_date date,
          amount numeric, currency text, rate numeric, functional_amount numeric, memo text, counterparty text, reference text, dimensions jsonb)`);
    }
    const refMs = performance.now() - t0;
    const refLines = rate(lineCount, refMs);
    console.log(`REFERENCE bare insert: ${(refMs / 1000).toFixed(2)} s, ${rate(ENTRIES, refMs)} entries/s, ${refLines} lines/s`);

    // OURS: through the posting service, as the application role.
    t0 = performance.now();
    for (let start = 0; start < ENTRIES; start += BATCH) {
      await postJournalEntries(app.db, org.ctx.accountant, entries.slice(start, start + BATCH));
    }
    const oursMs = performance.now() - t0;
    const oursEntries = rate(ENTRIES, oursMs);
    const oursLines = rate(lineCount, oursMs);
    console.log(`OURS postJournalEntries: ${(oursMs / 1000).toFixed(2)} s, ${oursEntries} entries/s, ${oursLines} lines/s`);

    // Verify what was written.
    const [counts] = await admin.db.execute<{ entries: string; lines: string; bare: string }>(sql`
      select (select count(*) from journal_entries) as entries, (select count(*) from journal_lines) as lines, (select count(*) from bare_lines) as bare`);
    const tb = await trialBalance(app.db, org.ctx.viewer, { entityId: org.entityId, asOf: "2026-12-31" });
    const chain = await verifyAuditChain(app.db, org.ctx.admin);
    const ok = Number(counts.entries) === ENTRIES && Number(counts.lines) === lineCount && Number(counts.bare) === lineCount && tb.difference === "0" && chain.ok && chain.rows === ENTRIES + 1;
    console.log(`verify: entries=${counts.entries} lines=${counts.lines} bare_lines=${counts.bare} trial_balance_difference=${tb.difference} audit_chain=${chain.ok ? `ok (${chain.rows} rows)` : JSON.stringify(chain)}`);
    if (!ok) throw new Error("verification failed");
    console.log(`RESULT entries_per_s=${oursEntries} lines_per_s=${oursLines} ref_lines_per_s=${refLines} ratio=${(oursLines / refLines).toFixed(3)}`);
  }, { recycledWal: RECYCLED_WAL_SEGMENTS });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
