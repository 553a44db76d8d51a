/**
 * Import throughput against a floor. REFERENCE: the same rows, already parsed, sent with COPY into
 * a bare table (no keys, indexes, triggers or row-level security). OURS: importFile on the raw file
 * bytes — decode, parse, validate, dedupe keys, COPY to staging, duplicate count, insert with the
 * unique key and RLS, statement check, audit row, one commit — as the application role.
 *
 * 1) a 1,000,000-line CSV (no ids: every line deduplicated by its content fingerprint);
 * 2) a 100,000-entry CAMT.053 (ids from AcctSvcrRef).
 * Then each file is imported again: 0 new lines is part of the check. `npm run bench:ingest`;
 * BENCH_CSV_LINES and BENCH_CAMT_ENTRIES shrink it.
 */
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { parseBytes } from "@/server/ingest/parsers";
import type { CanonicalRecord } from "@/server/ingest/parsers/canonical";
import { withBenchDatabase } from "./bench-database";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { prng } from "@/server/prng";

const CSV_LINES = Number(process.env.BENCH_CSV_LINES ?? 1_000_000);
const CAMT_ENTRIES = Number(process.env.BENCH_CAMT_ENTRIES ?? 100_000);
const LIMITS = { maxBytes: 1024 * 1024 * 1024, maxRecords: 5_000_000 };

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const NAMES = ["Acme GmbH", "Globex Ltd", "Initech BV", "Umbrella SA", "Hooli Inc", "Stark Industries", "Wayne Enterprises", "Tyrell Corp", "Cyberdyne", "Soylent"];

function csvFile(lines: number): Buffer {
  const rand = prng(7);
  const parts = ["Date,Amount,Counterparty,Reference,Description\n"];
  for (let i = 0; i < lines; i++) {
    const day = new Date(Date.UTC(2026, 0, 1 + Math.floor(rand() * 365))).toISOString().slice(0, 10);
    const cents = (1 + Math.floor(rand() * 2_000_000)) * (rand() < 0.45 ? 1 : -1);
    const amount = `${cents < 0 ? "-" : ""}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;
    parts.push(`${day},${amount},${NAMES[i % NAMES.length]},INV-${100000 + i},Payment ${i + 1}\n`);
  }
  return Buffer.from(parts.join(""));
}

function camtFile(entries: number): Buffer {
  const rand = prng(11);
  const parts: string[] = [];
  let total = 0n;
  for (let i = 0; i < entries; i++) {
    const cents = BigInt(1 + Math.floor(rand() * 2_000_000));
    const credit = rand() < 0.5;
    total += credit ? cents : -cents;
    const day = new Date(Date.UTC(2026, 0, 1 + Math.floor(i / (entries / 365)))).toISOString().slice(0, 10);
    parts.push(`<Ntry><Amt Ccy="EUR">${cents / 100n}.${String(cents % 100n).padStart(2, "0")}</Amt><CdtDbtInd>${credit ? "CRDT" : "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>` +
      `<BookgDt><Dt>${day}</Dt></BookgDt><ValDt><Dt>${day}</Dt></ValDt><AcctSvcrRef>REF${i + 1}</AcctSvcrRef>` +
      `<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>` +
      `<NtryDtls><TxDtls><Refs><EndToEndId>E2E${i + 1}</EndToEndId></Refs><RltdPties><${credit ? "Dbtr" : "Cdtr"}><Nm>${NAMES[i % NAMES.length]}</Nm></${credit ? "Dbtr" : "Cdtr"}></RltdPties>` +
      `<RmtInf><Ustrd>Invoice ${i + 1}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`);
  }
  const money = (c: bigint) => `${c < 0n ? "-" : ""}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, "0")}`;
  const opening = 1_000_000_00n;
  const closing = opening + total;
  const bal = (code: string, c: bigint, date: string) =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${money(c < 0n ? -c : c)}</Amt><CdtDbtInd>${c < 0n ? "DBIT" : "CRDT"}</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>`;
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-12-31T23:00:00</CreDtTm></GrpHdr>
<Stmt><Id>BENCH-2026</Id><CreDtTm>2026-12-31T23:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
${bal("OPBD", opening, "2026-01-01")}${bal("CLBD", closing, "2026-12-31")}
${parts.join("\n")}
</Stmt></BkToCstmrStmt></Document>`);
}

/** The floor: the parsed rows, in canonical_transactions' columns, COPYed into a bare table. */
async function referenceCopy(admin: Db, table: string, records: CanonicalRecord[]): Promise<number> {
  await admin.execute(sql.raw(`create table ${table} (booked_date date, value_date date, amount numeric, currency text, counterparty_name text, counterparty_account text,
    reference text, description text, external_id text, bank_transaction_code text, type text, raw jsonb)`));
  const t0 = performance.now();
  await admin.transaction(async (tx) => {
    await copyRows(tx as unknown as Db, table, ["booked_date", "value_date", "amount", "currency", "counterparty_name", "counterparty_account", "reference", "description", "external_id", "bank_transaction_code", "type", "raw"],
      (function* () {
        for (const r of records) yield [r.bookedDate, r.valueDate, r.amount, r.currency, r.counterpartyName, r.counterpartyAccount, r.reference, r.description, r.externalId, r.bankTransactionCode, r.type, JSON.stringify(r.raw)];
      })());
  });
  return performance.now() - t0;
}

/** Parses and COPYs the reference rows; the parsed records are not held through the import measured after it. */
async function reference(admin: Db, label: string, fileName: string, bytes: Buffer) {
  const parsed = await parseBytes(bytes, { fileName, limits: LIMITS, options: { currency: "EUR" } });
  return { lines: parsed.records.length, refMs: await referenceCopy(admin, `bare_${label}`, parsed.records) };
}

async function measure(app: Db, admin: Db, org: TestOrg, sourceId: string, label: string, fileName: string, bytes: Buffer) {
  const { lines, refMs } = await reference(admin, label, fileName, bytes);
  const t0 = performance.now();
  const first = await importFile(app, org.ctx.accountant, { sourceId, fileName, bytes }, LIMITS);
  const oursMs = performance.now() - t0;
  const t1 = performance.now();
  const again = await importFile(app, org.ctx.accountant, { sourceId, fileName: `again-${fileName}`, bytes }, LIMITS);
  const againMs = performance.now() - t1;
  const [stored] = await admin.execute<{ n: number }>(sql`select count(*)::int as n from canonical_transactions where source_id = ${sourceId}`);
  const ok = first.newCount === lines && first.duplicateCount === 0 && again.newCount === 0 && again.duplicateCount === lines && stored.n === lines &&
    first.statements.every((s) => s.balanced !== false);
  console.log(`${label}: ${lines} lines, ${(bytes.length / 1024 / 1024).toFixed(1)} MB`);
  console.log(`  REFERENCE COPY of the parsed rows into a bare table: ${secs(refMs)}, ${rate(lines, refMs)} rows/s`);
  console.log(`  OURS importFile (parse + dedupe + write, one transaction): ${secs(oursMs)}, ${rate(lines, oursMs)} lines/s`);
  console.log(`  re-import: ${secs(againMs)}, ${again.newCount} new, ${again.duplicateCount} duplicate; stored ${stored.n}; statements ${first.statements.map((s) => (s.balanced === null ? "unchecked" : s.balanced ? "balanced" : "UNBALANCED")).join(",") || "none"}`);
  if (!ok) throw new Error(`${label}: verification failed`);
  return { lines, refMs, oursMs };
}

async function main() {
  await withBenchDatabase(async ({ app, admin }) => {
    const org = await createTestOrg(app.db, { year: 2026 });
    const sourceId = async (name: string) =>
      (await createSource(app.db, org.ctx.accountant, { kind: "bank", name, entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] })).id;

    const csv = await measure(app.db, admin.db, org, await sourceId("Bench CSV"), "csv", "bench.csv", csvFile(CSV_LINES));
    const camt = await measure(app.db, admin.db, org, await sourceId("Bench CAMT"), "camt053", "bench.camt053.xml", camtFile(CAMT_ENTRIES));

    const csvRate = rate(csv.lines, csv.oursMs);
    const refRate = rate(csv.lines, csv.refMs);
    console.log(`RESULT csv_lines_per_s=${csvRate} ref_copy_rows_per_s=${refRate} camt_lines_per_s=${rate(camt.lines, camt.oursMs)} camt_ref_rows_per_s=${rate(camt.lines, camt.refMs)} ratio=${(csvRate / refRate).toFixed(3)}`);
  });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
