/**
 * Import + reconcile 1,000,000 bank lines against 1,000,000 ledger lines, end to end, against a
 * same-run SQL floor. Setup (not timed): an embedded PostgreSQL, an organisation, a bank source on
 * GL account 1000, and the ledger side of generateBenchRecords (bench/matching.bench.ts) written
 * as 1M journal entries (2M lines, 1M on account 1000) by bulk SQL with triggers off.
 *
 * OURS (timed): importFile on the CSV bytes (the real landing path) + runMatching for the year
 * (load both sides, rules, engine, matches and members COPY-staged, exceptions upserted, run row,
 * audit), as the application role under row-level security.
 * REFERENCE (timed, same run, same data): COPY the same CSV into a plain table (PostgreSQL parses
 * it) + one join on equal amount (the currency is EUR on both sides) against the ledger lines,
 * materialised (CREATE TABLE AS): every candidate pair, the floor bench:matching uses in memory.
 * `npm run bench:matching-db`; BENCH_LINES shrinks it.
 */
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { runMatching } from "@/server/matching/run-matching";
import { withBenchDatabase } from "./bench-database";
import { createTestOrg } from "@/test/fixtures";
import { generateBenchRecords } from "./matching.bench";

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const LIMITS = { maxBytes: 1024 * 1024 * 1024, maxRecords: 5_000_000 };
const secs = (ms: number) => (ms / 1000).toFixed(2);

const csvField = (s: string | null | undefined) => (s == null ? "" : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

async function main() {
  await withBenchDatabase(async ({ app, admin }) => {
    const org = await createTestOrg(app.db, { year: 2026 });
    await admin.db.execute(sql`insert into fiscal_periods (org_id, entity_id, name, starts_on, ends_on) values (${org.orgId}, ${org.entityId}, '2027-01', '2027-01-01', '2027-01-31')`);
    const { id: sourceId } = await createSource(app.db, org.ctx.accountant, { kind: "bank", name: "Bench bank", entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] });

    const g0 = performance.now();
    const step = (s: string) => process.env.BENCH_DEBUG && console.log(`[setup] ${s} ${secs(performance.now() - g0)} s`);
    // The generated records are only in scope while the ledger and the CSV are written: kept alive
    // through the timed part, two million objects the product never holds would slow its GC.
    const { csv, leftCount, rightCount } = await (async () => {
      const { left, right } = generateBenchRecords(LINES, 20260101);
      // The ledger: one entry per right record, cash line on 1000 and contra on 4000, written with triggers off (not timed).
      await admin.db.transaction(async (tx) => {
        step("generated");
        await tx.execute(sql.raw(`set local session_replication_role = replica`));
        await tx.execute(sql.raw(`create temp table bench_ledger (n bigint, d date, amount numeric, counterparty text, reference text) on commit drop`));
        await copyRows(tx as unknown as Db, "bench_ledger", ["n", "d", "amount", "counterparty", "reference"], right.map((r, i) => [String(i + 1), r.date, r.amount, r.counterparty ?? null, r.reference ?? null]));
        await tx.execute(sql`
          insert into journal_entries (org_id, id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, source, posted_by_label)
          select ${org.orgId}, md5('bench' || n)::uuid, ${org.entityId}, n, d, 'Bench entry ' || n, 'bench:' || n, 'bench', 'bench', 'bench' from bench_ledger`);
        await tx.execute(sql`
          insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, counterparty, reference)
          select ${org.orgId}, md5('bench' || n)::uuid, k, ${org.entityId}, case k when 1 then ${org.accounts["1000"]}::uuid else ${org.accounts["4000"]}::uuid end, d,
                 case k when 1 then amount else -amount end, 'EUR', 1, case k when 1 then amount else -amount end, counterparty, reference
          from bench_ledger cross join (values (1), (2)) as v(k)`);
      });
      await admin.db.execute(sql.raw(`analyze journal_entries; analyze journal_lines`));
      const csv = Buffer.from(["Date,Amount,Counterparty,Reference,Description", ...left.map((l) => [l.date, l.amount, csvField(l.counterparty), csvField(l.reference), csvField(l.description)].join(","))].join("\n") + "\n");
      return { csv, leftCount: left.length, rightCount: right.length };
    })();
    console.log(`${leftCount} bank lines (${(csv.length / 1e6).toFixed(1)} MB CSV) × ${rightCount} ledger lines on one GL account; setup ${secs(performance.now() - g0)} s (not timed)`);

    // REFERENCE: COPY the CSV into a plain table, then one join on amount materialised.
    await admin.db.execute(sql.raw(`create table ref_bank (booked_date date, amount numeric, counterparty text, reference text, description text)`));
    await admin.db.execute(sql.raw(`checkpoint`));
    const r0 = performance.now();
    const copy = await (admin.client as unknown as { unsafe: (q: string) => { writable: () => Promise<NodeJS.WritableStream> } })
      .unsafe(`copy ref_bank from stdin with (format csv, header true)`).writable();
    await pipeline(Readable.from([csv]), copy);
    const r1 = performance.now();
    // Every pair with an equal amount in the same currency: the engine benchmark's floor, in SQL.
    await admin.db.execute(sql.raw(`create table ref_matches as
      select b.ctid::text as bank_row, l.id as ledger_id from ref_bank b
      join journal_lines l on l.amount = b.amount
      where l.org_id = '${org.orgId}' and l.account_id = '${org.accounts["1000"]}' and l.currency = 'EUR'`));
    const r2 = performance.now();
    const [{ n: refPairs }] = await admin.db.execute<{ n: number }>(sql`select count(*)::int as n from ref_matches`);
    const refMs = r2 - r0;
    console.log(`REFERENCE: COPY ${secs(r1 - r0)} s + join on amount CTAS ${secs(r2 - r1)} s = ${secs(refMs)} s (${refPairs} pairs)`);

    // OURS.
    await admin.db.execute(sql.raw(`checkpoint`));
    const o0 = performance.now();
    const imported = await importFile(app.db, org.ctx.accountant, { sourceId, fileName: "bench.csv", bytes: csv, format: "csv" }, LIMITS);
    const o1 = performance.now();
    const timings: Record<string, number> = new Proxy({} as Record<string, number>, { set: (o, k, v) => { o[k as string] = v; step(`phase ${String(k)} done`); return true; } });
    const run = await runMatching(app.db, org.ctx.accountant, { sourceId, against: { kind: "ledger" }, from: "2026-01-01", to: "2027-01-31", trigger: "cli" }, { today: "2027-02-01", timings });
    const o2 = performance.now();
    const oursMs = o2 - o0;
    const [stored] = await admin.db.execute<{ matches: number; members: number; exceptions: number }>(sql`
      select (select count(*) from matches)::int as matches, (select count(*) from match_members)::int as members,
             (select count(*) from exceptions where kind in ('unmatched_transaction', 'unmatched_ledger_line'))::int as exceptions`);
    console.log(`OURS: import ${secs(o1 - o0)} s (${imported.newCount} new) + matching ${secs(o2 - o1)} s = ${secs(oursMs)} s`);
    console.log(`  matching phases: ${Object.entries(timings).map(([k, v]) => `${k} ${secs(v)} s`).join(", ")}`);
    console.log(`  run ${run.status}: ${JSON.stringify(run.counts)}; stored ${stored.matches} matches, ${stored.members} members, ${stored.exceptions} unmatched-line exceptions (both sides)`);
    if (run.status !== "succeeded" || imported.newCount !== leftCount || stored.exceptions !== run.counts!.unmatched) throw new Error("verification failed");
    console.log(`RESULT e2e_s=${secs(oursMs)} ref_s=${secs(refMs)} ratio=${(oursMs / refMs).toFixed(2)}`);
  }, { log: process.env.BENCH_DEBUG ? (s) => /FATAL|PANIC|terminat|ERROR|signal|server process|shut/.test(s) && console.error(`[pg] ${s.trim()}`) : undefined });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
