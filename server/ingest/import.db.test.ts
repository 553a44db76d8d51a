import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { AppError } from "@/server/errors";
import { inOrg } from "@/server/db/tenant";
import { importFile, previewUpload, importUpload } from "./import-file";
import { landRecords } from "./land-records";
import { createSource } from "./sources";
import { parseBytes } from "./parsers";
import { ParseError, type ParsedFile } from "./parsers/canonical";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const LIMITS = { maxBytes: 50 * 1024 * 1024, maxRecords: 500_000 };
const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/statements");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return name.endsWith(".md") ? [] : [p];
  });
}

let org: TestOrg;
beforeAll(async () => {
  org = await createTestOrg(t.db);
});

async function newSource(currency = "EUR", name = `Bank ${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  // A GL asset account in the source's currency.
  const [account] = await inOrg(t.db, org.system, (tx) =>
    tx.execute<{ id: string }>(sql`
      insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency)
      values (${org.orgId}, ${org.entityId}, ${`1${Math.floor(Math.random() * 1e9)}`}, ${`Cash ${name}`}, 'asset', 'debit', ${currency}) returning id`),
  );
  const { id } = await createSource(t.db, org.ctx.accountant, { kind: "bank", name, entityId: org.entityId, currency, glAccountId: account.id });
  return id;
}

async function failureOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected the call to be refused");
}

const count = async (table: string, where = sql``) => {
  const [r] = await t.adminDb.execute<{ n: number }>(sql`select count(*)::int as n from ${sql.raw(table)} where org_id = ${org.orgId} ${where}`);
  return r.n;
};

/** Every sample that the parsers read without a hand-made mapping. */
const samples: { file: string; parsed: ParsedFile }[] = [];
for (const file of filesUnder(FIXTURES)) {
  try {
    samples.push({ file, parsed: await parseBytes(readFileSync(file), { fileName: file }) });
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
  }
}

describe("exactly once", () => {
  it("reads well over a hundred real sample files without a mapping", () => {
    expect(samples.length).toBeGreaterThan(100);
  });

  it("imports every sample, then adds nothing when the same file comes again under another name", async () => {
    let lines = 0;
    const work = samples.filter((s) => s.parsed.records.length > 0);
    // Four files at a time, each into its own source (the pool has four connections).
    for (let i = 0; i < work.length; i += 4) {
      await Promise.all(work.slice(i, i + 4).map(async ({ file, parsed }) => {
        const currency = parsed.records[0].currency;
        const sourceId = await newSource(currency);
        const bytes = readFileSync(file);
        const first = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: path.basename(file), bytes }, LIMITS);
        const inCurrency = parsed.records.filter((r) => r.currency === currency).length;
        expect(first.newCount, file).toBe(inCurrency);
        // Lines genuinely repeated in one file are all kept (ordinal among equal lines).
        expect(first.duplicateCount, file).toBe(0);
        expect(first.rejectedCount, file).toBe(parsed.records.length - inCurrency);
        const renamed = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: `renamed-${path.basename(file)}`, bytes }, LIMITS);
        expect([renamed.newCount, renamed.duplicateCount], file).toEqual([0, inCurrency]);
        expect(await count("canonical_transactions", sql`and source_id = ${sourceId}`), file).toBe(inCurrency);
        lines += inCurrency;
      }));
    }
    expect(lines).toBeGreaterThan(1000);
  });

  it("adds only the new lines of an overlapping statement period", async () => {
    const file = path.join(FIXTURES, "mt940/wolph_betterplace_sepa_mt9401.sta");
    const text = readFileSync(file, "latin1");
    // Statements start at ":20:"; file A holds statements 1–15, file B statements 10–26.
    const starts = [...text.matchAll(/^:20:/gm)].map((m) => m.index!);
    expect(starts.length).toBeGreaterThanOrEqual(20);
    const a = text.slice(0, starts[15]);
    const b = text.slice(starts[9]);
    const sourceId = await newSource("EUR");
    const all = await parseBytes(Buffer.from(text, "latin1"));
    const onlyA = await parseBytes(Buffer.from(a, "latin1"));
    const first = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "a.sta", bytes: Buffer.from(a, "latin1") }, LIMITS);
    const second = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "b.sta", bytes: Buffer.from(b, "latin1") }, LIMITS);
    expect(first.newCount).toBe(onlyA.records.length);
    expect(second.newCount).toBe(all.records.length - onlyA.records.length);
    expect(second.duplicateCount).toBeGreaterThan(0);
    expect(await count("canonical_transactions", sql`and source_id = ${sourceId}`)).toBe(all.records.length);
  });

  it("keeps genuinely identical same-day lines apart, and still adds nothing on re-import", async () => {
    const csv = "Date,Amount,Description\n2026-03-02,-3.50,Coffee\n2026-03-02,-3.50,Coffee\n2026-03-02,-3.50,Coffee\n";
    const sourceId = await newSource("EUR");
    const first = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "coffee.csv", bytes: Buffer.from(csv) }, LIMITS);
    expect(first.newCount).toBe(3);
    const overlap = csv + "2026-03-02,-3.50,Coffee\n";
    const second = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "coffee-later.csv", bytes: Buffer.from(overlap) }, LIMITS);
    expect([second.newCount, second.duplicateCount]).toEqual([1, 3]);
  });

  it("counts concurrent imports of the same file once", async () => {
    const file = path.join(FIXTURES, "mt940/fruitl00p_bunq.sta");
    const bytes = readFileSync(file);
    const sourceId = await newSource("EUR");
    const results = await Promise.all([1, 2, 3].map((n) => importFile(t.db, org.ctx.accountant, { sourceId, fileName: `bunq-${n}.sta`, bytes }, LIMITS)));
    expect(results.map((r) => r.newCount).sort((x, y) => y - x)).toEqual([111, 0, 0]);
    expect(await count("canonical_transactions", sql`and source_id = ${sourceId}`)).toBe(111);
  });
});

describe("whole or nothing", () => {
  it("leaves no row behind when an import fails half-way", async () => {
    const sourceId = await newSource("EUR");
    const parsed = await parseBytes(readFileSync(path.join(FIXTURES, "mt940/fruitl00p_bunq.sta")));
    // The last line breaks a database rule, after the statement, import and upload rows are written.
    const broken: ParsedFile = { ...parsed, records: parsed.records.map((r, i) => (i === parsed.records.length - 1 ? { ...r, type: "bogus" as never } : r)) };
    const before = await Promise.all(["uploads", "imports", "statements", "canonical_transactions", "exceptions", "audit_log"].map((tbl) => count(tbl)));
    await expect(
      inOrg(t.db, org.ctx.accountant, async (tx) => {
        await tx.execute(sql`insert into uploads (org_id, source_id, file_name, sha256, size_bytes, content) values (${org.orgId}, ${sourceId}, 'x', 'x', 1, '\\x00')`);
        await landRecords(tx, org.ctx.accountant, { id: sourceId, currency: "EUR", name: "x" }, broken, { channel: "file", fileName: "x", uploadId: null, startedAt: 0 });
      }),
    ).rejects.toMatchObject({ cause: { constraint_name: "canonical_transactions_type" } });
    const after = await Promise.all(["uploads", "imports", "statements", "canonical_transactions", "exceptions", "audit_log"].map((tbl) => count(tbl)));
    expect(after).toEqual(before);
  });

  it("rolls back the batches already staged when a CSV turns bad half-way", async () => {
    const sourceId = await newSource("EUR");
    const lines = Array.from({ length: 25_000 }, (_, i) => `2026-03-${String((i % 28) + 1).padStart(2, "0")},${i + 1}.00,Line ${i + 1}`);
    lines[24_000] = "2026-03-32,1.00,Not a day";
    const bytes = Buffer.from(`Date,Amount,Description\n${lines.join("\n")}\n`);
    const tables = ["uploads", "imports", "statements", "canonical_transactions", "exceptions", "audit_log"];
    const before = await Promise.all(tables.map((tbl) => count(tbl)));
    const failure = await failureOf(importFile(t.db, org.ctx.accountant, { sourceId, fileName: "late-error.csv", bytes }, LIMITS));
    expect(failure.code).toBe("validation");
    expect(failure.message).toMatch(/line 24002/);
    expect(await Promise.all(tables.map((tbl) => count(tbl)))).toEqual(before);
    // The connection is fine afterwards: the same file without the bad line imports.
    lines.splice(24_000, 1);
    const ok = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "fixed.csv", bytes: Buffer.from(`Date,Amount,Description\n${lines.join("\n")}\n`) }, LIMITS);
    expect(ok.newCount).toBe(24_999);
  });

  it("refuses a malformed file with the line and field, and writes nothing", async () => {
    const sourceId = await newSource("EUR");
    const good = readFileSync(path.join(FIXTURES, "mt940/fruitl00p_bunq.sta"), "latin1");
    const bad = good.replace(/^:61:(\d{6})/m, ":61:99$1");
    const before = await count("uploads");
    const failure = await failureOf(importFile(t.db, org.ctx.accountant, { sourceId, fileName: "bad.sta", bytes: Buffer.from(bad, "latin1") }, LIMITS));
    expect(failure.code).toBe("validation");
    expect(failure.message).toMatch(/line \d+/);
    expect(await count("uploads")).toBe(before);
  });

  it("refuses hostile XML before parsing it", async () => {
    const sourceId = await newSource("EUR");
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&x;</BkToCstmrStmt></Document>`;
    const failure = await failureOf(importFile(t.db, org.ctx.accountant, { sourceId, fileName: "x.xml", bytes: Buffer.from(xxe), format: "camt" }, LIMITS));
    expect(failure.message).toMatch(/DOCTYPE/);
  });
});

describe("statements and access", () => {
  it("imports a statement that does not add up and raises a data-quality exception", async () => {
    const sourceId = await newSource("EUR");
    const r = await importFile(t.db, org.ctx.accountant, { sourceId, fileName: "ing.sta", bytes: readFileSync(path.join(FIXTURES, "mt940/fruitl00p_ing.sta")) }, LIMITS);
    expect(r.newCount).toBe(7);
    expect(r.statements.filter((s) => s.balanced === false)).toHaveLength(1);
    const [ex] = await t.adminDb.execute<{ kind: string; amount: string }>(sql`select kind, amount::text from exceptions where org_id = ${org.orgId} and source_id = ${sourceId}`);
    expect(ex.kind).toBe("statement_unbalanced");
    // open 0.00 + 7.15 vs close 3.47 (SOURCES.md)
    expect(ex.amount).toBe("-3.6800");
  });

  it("previews without writing lines, then imports the stored upload", async () => {
    const sourceId = await newSource("EUR");
    const bytes = readFileSync(path.join(FIXTURES, "mt940/fruitl00p_penta.sta"));
    const preview = await previewUpload(t.db, org.ctx.accountant, { sourceId, fileName: "penta.sta", bytes }, LIMITS);
    expect(preview.total).toBe(30);
    expect(await count("canonical_transactions", sql`and source_id = ${sourceId}`)).toBe(0);
    const r = await importUpload(t.db, org.ctx.accountant, { uploadId: preview.uploadId }, LIMITS);
    expect(r.newCount).toBe(30);
  });

  it("refuses viewers and other organisations' sources", async () => {
    const sourceId = await newSource("EUR");
    const bytes = readFileSync(path.join(FIXTURES, "mt940/fruitl00p_penta.sta"));
    expect((await failureOf(importFile(t.db, org.ctx.viewer, { sourceId, fileName: "p.sta", bytes }, LIMITS))).code).toBe("forbidden");
    const other = await createTestOrg(t.db);
    expect((await failureOf(importFile(t.db, other.ctx.accountant, { sourceId, fileName: "p.sta", bytes }, LIMITS))).code).toBe("not_found");
  });

  it("keeps canonical transactions append-only for the application", async () => {
    await expect(inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`update canonical_transactions set amount = 0 where org_id = ${org.orgId}`))).rejects.toThrow();
    await expect(inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`delete from canonical_transactions where org_id = ${org.orgId}`))).rejects.toThrow();
  });
});
