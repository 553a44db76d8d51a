import { deflateRawSync } from "node:zlib";
import ExcelJS from "exceljs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParser } from "../../../test/parser-fuzz";
import { ParseError, type ParsedFile } from "./canonical";
import type { CsvMapping } from "./csv";
import { numberText, parseXlsx, xlsxParser } from "./xlsx";
import { scanZip } from "./zip-guard";

async function workbook(fill: (sheet: ExcelJS.Worksheet) => void): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  fill(wb.addWorksheet("Umsätze"));
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));

/** A German-style export: account lines above the table, real date and number cells. */
const statement = () =>
  workbook((sheet) => {
    sheet.addRow(["Kontoauszug", "DE12 3456 7890"]);
    sheet.addRow([]);
    sheet.addRow(["Buchungstag", "Verwendungszweck", "Betrag", "Währung", "Saldo"]);
    sheet.addRow([utc(2024, 1, 2), "Miete Januar", -1250, "EUR", 1750]);
    sheet.addRow([utc(2024, 1, 15), { richText: [{ text: "Gehalt " }, { text: "ACME" }] }, 3000.1, "EUR", 4750.1]);
    sheet.addRow([utc(2024, 1, 31), { text: "Zinsen", hyperlink: "https://bank.example/z" }, 0.1 + 0.2, "EUR", { formula: "E5+C6", result: 4750.4 }]);
  });

async function refusal(promise: Promise<unknown>): Promise<ParseError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

function refusalSync(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("xlsx", () => {
  it("reads the first sheet through the CSV mapping engine: header block skipped, dates and numbers exact", async () => {
    const result = await parseXlsx(await statement());
    expect(result.format).toBe("xlsx");
    expect(result.records.map((r) => [r.bookedDate, r.amount, r.currency, r.description])).toEqual([
      ["2024-01-02", "-1250", "EUR", "Miete Januar"],
      ["2024-01-15", "3000.1", "EUR", "Gehalt ACME"],
      ["2024-01-31", "0.3", "EUR", "Zinsen"],
    ]);
    expect(result.records[0].raw).toMatchObject({ Buchungstag: "2024-01-02", Betrag: "-1250" });
    // Running balance (the last one a formula's result): opening = 1750 − (−1250).
    expect(result.statements[0].opening).toEqual({ date: "2024-01-02", amount: "3000" });
    expect(result.statements[0].closing).toEqual({ date: "2024-01-31", amount: "4750.4" });
    expect(result.warnings.join("\n")).toContain("1 line above the header row");
  });

  it("takes a mapping with decimal comma and text cells written the bank's way", async () => {
    const bytes = await workbook((sheet) => {
      sheet.addRow(["Datum", "Omschrijving", "Bedrag", "Af Bij"]);
      sheet.addRow(["02-01-2024", "Albert Heijn", "12,34", "Af"]);
      sheet.addRow([utc(2024, 1, 3), "Werkgever", 2500.5, "Bij"]);
    });
    const mapping: CsvMapping = {
      dateFormat: "dd-mm-yyyy", decimalSeparator: ",", thousandsSeparator: ".", currency: { fixed: "EUR" },
      bookedDate: { header: "Datum" }, description: [{ header: "Omschrijving" }],
      amount: { kind: "signed", column: { header: "Bedrag" }, sign: "normal", direction: { column: { header: "Af Bij" }, debitValues: ["Af"], creditValues: ["Bij"] } },
    };
    const result = await parseXlsx(bytes, { mapping });
    expect(result.records.map((r) => [r.bookedDate, r.amount])).toEqual([["2024-01-02", "-12.34"], ["2024-01-03", "2500.5"]]);
  });

  it("names the row and column of a bad cell", async () => {
    const bytes = await workbook((sheet) => {
      sheet.addRow(["Date", "Amount", "Currency"]);
      sheet.addRow([utc(2024, 1, 2), 10, "EUR"]);
      sheet.addRow([utc(2024, 1, 3), 11, "EUR"]);
      sheet.addRow([utc(2024, 1, 4), "n/a", "EUR"]);
    });
    const e = await refusal(parseXlsx(bytes));
    expect([e.line, e.field]).toEqual([4, "Amount"]);
    expect(e.message).toContain('"n/a" is not an amount');
  });

  it("converts numbers without float artefacts, to 15 significant digits", () => {
    expect(numberText(1234.5599999999999)).toBe("1234.56");
    expect(numberText(0.1 + 0.2)).toBe("0.3");
    expect(numberText(-0.5)).toBe("-0.5");
    expect(numberText(123456789012.34)).toBe("123456789012.34");
    expect(numberText(5e-7)).toBe("0.0000005");
    expect(numberText(1e21)).toBe("1000000000000000000000");
    expect(numberText(1234.5, ",")).toBe("1234,5");
  });

  it("sniffs workbooks, not other ZIPs", async () => {
    const head = new TextDecoder().decode((await statement()).subarray(0, 4096));
    expect(xlsxParser.detect(head)).toBe(true);
    expect(xlsxParser.detect("PK\u0003\u0004....word/document.xml")).toBe(false);
    expect(xlsxParser.detect("Date,Amount\n")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Zip guard: archives built by hand, so that their directories can lie.

type FakeEntry = { name: string; data: Uint8Array; method?: 0 | 8; uncompressed: number; flags?: number };

function zip(entries: FakeEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, e.flags ?? 0, true);
    local.setUint16(8, e.method ?? 8, true);
    local.setUint32(18, e.data.length, true);
    local.setUint32(22, e.uncompressed, true);
    local.setUint16(26, name.length, true);
    parts.push(new Uint8Array(local.buffer), name, e.data);
    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, 20, true);
    record.setUint16(6, 20, true);
    record.setUint16(8, e.flags ?? 0, true);
    record.setUint16(10, e.method ?? 8, true);
    record.setUint32(20, e.data.length, true);
    record.setUint32(24, e.uncompressed, true);
    record.setUint16(28, name.length, true);
    record.setUint32(42, offset, true);
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + e.data.length;
  }
  const cdSize = central.reduce((n, p) => n + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const deflated = (text: string) => ({ data: new Uint8Array(deflateRawSync(Buffer.from(text))), uncompressed: Buffer.byteLength(text) });

describe("zip guard", () => {
  it("accepts a real workbook and an honest hand-built archive", async () => {
    expect(scanZip(await statement()).some((e) => e.name === "xl/workbook.xml")).toBe(true);
    expect(scanZip(zip([{ name: "a.xml", ...deflated("<a/>".repeat(100)) }]))).toHaveLength(1);
  });

  it("refuses a zip bomb by its declared sizes: 200 MB in total, or more than 100:1 on a large entry", () => {
    const small = deflated("x");
    expect(refusalSync(() => scanZip(zip([{ name: "xl/sheet.xml", data: small.data, uncompressed: 200 * 1024 * 1024 }]))).message).toContain("more than 100 MB");
    // Each 60 MB entry passes the ratio check (700 KB compressed, about 90:1); together they are too much.
    const bulky = new Uint8Array(700_000);
    const two = refusalSync(() => scanZip(zip([{ name: "xl/a.xml", data: bulky, uncompressed: 60 * 1024 * 1024 }, { name: "xl/b.xml", data: bulky, uncompressed: 60 * 1024 * 1024 }])));
    expect(two.message).toContain("more than 100 MB");
    const ratio = refusalSync(() => scanZip(zip([{ name: "xl/sheet.xml", data: new Uint8Array(1000), uncompressed: 2 * 1024 * 1024 }])));
    expect(ratio.message).toContain("compressed more than 100:1");
  });

  it("refuses an entry that inflates to more than its header declares", () => {
    const real = deflated("A".repeat(100_000));
    expect(refusalSync(() => scanZip(zip([{ name: "xl/sheet.xml", data: real.data, uncompressed: 1000 }]))).message).toContain("does not unpack to the size it declares");
  });

  it("refuses too many entries, climbing or absolute paths, encryption, and non-ZIP files", () => {
    const entry = deflated("<x/>");
    const many = Array.from({ length: 1001 }, (_, i) => ({ name: `xl/${i}.xml`, ...entry }));
    expect(refusalSync(() => scanZip(zip(many))).message).toContain("1001 entries");
    for (const name of ["../evil.xml", "xl/../../evil.xml", "/etc/passwd", "C:\\evil.xml"]) {
      expect(refusalSync(() => scanZip(zip([{ name, ...entry }]))).message).toContain("path outside itself");
    }
    expect(refusalSync(() => scanZip(zip([{ name: "xl/a.xml", ...entry, flags: 1 }]))).message).toContain("encrypted");
    expect(refusalSync(() => scanZip(new TextEncoder().encode("Date,Amount\n"))).message).toContain("not a ZIP");
    expect(refusalSync(() => scanZip(Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))).message).toContain("old binary .xls");
    expect(refusalSync(() => scanZip(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]))).message).toContain("central directory is missing");
  });

  it("parseXlsx refuses through the guard before exceljs is involved", async () => {
    const small = deflated("x");
    const e = await refusal(parseXlsx(zip([{ name: "xl/sheet.xml", data: small.data, uncompressed: 200 * 1024 * 1024 }])));
    expect(e.format).toBe("xlsx");
  });

  it("fuzz: the guard throws only ParseError (1,000 runs over real workbooks)", async () => {
    const samples = [await statement(), zip([{ name: "a.xml", ...deflated("<a/>".repeat(50)) }])];
    const empty: ParsedFile = { format: "xlsx", parserVersion: "1", statements: [], records: [], warnings: [] };
    fuzzParser((bytes) => (scanZip(bytes), empty), samples, 1000);
  }, 120_000);
});

describe("xlsx fuzz", () => {
  it("only ParseError escapes parseXlsx, each case under 2 s (1,000 runs)", async () => {
    const samples = [await statement(), await workbook((s) => s.addRow(["Date", "Amount"]))];
    const mutated = fc.oneof(
      fc.tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([s, flips]) => {
        const b = Uint8Array.from(s);
        for (const [at, v] of flips) b[at % b.length] = v;
        return b;
      }),
      fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([s, n]) => s.subarray(0, n % s.length)),
      fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([s, at, junk]) => {
        const i = at % s.length;
        return Uint8Array.from([...s.subarray(0, i), ...junk, ...s.subarray(i)]);
      }),
      fc.uint8Array({ maxLength: 2048 }),
    );
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        const started = performance.now();
        try {
          await parseXlsx(bytes, { currency: "EUR" });
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
        slowest = Math.max(slowest, performance.now() - started);
        expect(slowest).toBeLessThan(2000);
      }),
      { numRuns: 1000, seed: 20261121 },
    );
  }, 300_000);
});
