import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { money, sum } from "@/server/money";
import { fuzzParser } from "@/test/parser-fuzz";
import { ParseError, type ParsedFile } from "./canonical";
import { mt940Parser } from "./mt940";

const FIXTURES = path.resolve(import.meta.dirname, "../../../test/fixtures/statements/mt940");
const read = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));
const parseFile = (file: string) => mt940Parser.parse(read(file));
const parseText = (text: string, limits?: { maxRecords?: number; maxBytes?: number }) =>
  mt940Parser.parse(new TextEncoder().encode(text), undefined, limits);

/**
 * From SOURCES.md section 2a: statements, :61: lines, statements with both balances and how many
 * of them reconcile. `failing` lists opening, Σ movements and closing of each statement that does
 * not reconcile, where SOURCES.md quotes all of them.
 */
type Expected = { statements: number; lines: number; balanced: number; reconciling: number; failing?: [string, string, string][] };
const EXPECTED: Record<string, Expected> = {
  "actual_data.sta": { statements: 1, lines: 6, balanced: 1, reconciling: 1 },
  "fruitl00p_abn.sta": { statements: 4, lines: 5, balanced: 4, reconciling: 4 },
  "fruitl00p_asn.sta": { statements: 7, lines: 3, balanced: 7, reconciling: 7 },
  "fruitl00p_bunq.sta": { statements: 1, lines: 111, balanced: 1, reconciling: 1 },
  "fruitl00p_hsbc.sta": { statements: 1, lines: 1, balanced: 1, reconciling: 0, failing: [["0.00", "-20000.00", "0.00"]] },
  "fruitl00p_ing.sta": { statements: 1, lines: 7, balanced: 1, reconciling: 0, failing: [["0.00", "7.15", "3.47"]] },
  "fruitl00p_kbs.sta": { statements: 1, lines: 3, balanced: 1, reconciling: 1 },
  "fruitl00p_knab.sta": { statements: 1, lines: 5, balanced: 1, reconciling: 0, failing: [["1000.21", "-151.84", "945.21"]] },
  "fruitl00p_kontist.sta": { statements: 1, lines: 6, balanced: 1, reconciling: 1 },
  "fruitl00p_penta.sta": { statements: 1, lines: 30, balanced: 1, reconciling: 1 },
  "fruitl00p_rabo.sta": { statements: 39, lines: 39, balanced: 39, reconciling: 10 },
  "fruitl00p_rabo_sample3.sta": {
    statements: 2,
    lines: 12,
    balanced: 2,
    reconciling: 0,
    failing: [
      ["1147.95", "387.56", "1190.35"],
      ["1190.35", "18040.74", "18846.34"],
    ],
  },
  "fruitl00p_spk.sta": { statements: 4, lines: 10, balanced: 4, reconciling: 4 },
  "fruitl00p_triodos.sta": { statements: 2, lines: 8, balanced: 2, reconciling: 2 },
  "fruitl00p_zetb.sta": { statements: 1, lines: 8, balanced: 1, reconciling: 1 },
  "wolph_asnb_mt940.txt": { statements: 31, lines: 8, balanced: 31, reconciling: 31 },
  "wolph_betterplace_sepa_mt9401.sta": { statements: 26, lines: 97, balanced: 26, reconciling: 26 },
  "wolph_betterplace_sepa_snippet.sta": { statements: 2, lines: 11, balanced: 2, reconciling: 1, failing: [["-1970431.87", "-2501917.30", "-4472049.09"]] },
  "wolph_citi_mt940.txt": { statements: 1, lines: 5, balanced: 1, reconciling: 1 },
  "wolph_cmxl_mt940.sta": { statements: 3, lines: 16, balanced: 3, reconciling: 3 },
  "wolph_jejik_abnamro.sta": {
    statements: 2,
    lines: 10,
    balanced: 2,
    reconciling: 0,
    failing: [
      ["3236.28", "-321.44", "876.84"],
      ["2876.84", "-24.49", "1849.75"],
    ],
  },
  "wolph_jejik_ing.sta": { statements: 1, lines: 7, balanced: 1, reconciling: 0, failing: [["0.00", "-45.59", "3.47"]] },
  "wolph_jejik_knab.sta": { statements: 2, lines: 3, balanced: 2, reconciling: 1, failing: [["3058.98", "-6760.0", "798.98"]] },
  "wolph_jejik_postfinance.sta": { statements: 2, lines: 4, balanced: 2, reconciling: 1, failing: [["229.2", "-69.8", "159.6"]] },
  "wolph_jejik_rabobank-iban.sta": { statements: 2, lines: 4, balanced: 2, reconciling: 2 },
  "wolph_jejik_rabobank.sta": {
    statements: 4,
    lines: 5,
    balanced: 4,
    reconciling: 2,
    failing: [
      ["473.17", "-1213.28", "395.82"],
      ["1295.82", "-281.51", "1250.87"],
    ],
  },
  "wolph_jejik_sns.sta": { statements: 2, lines: 2, balanced: 2, reconciling: 2 },
  "wolph_jejik_triodos.sta": { statements: 1, lines: 2, balanced: 1, reconciling: 0, failing: [["4975.09", "-715.70", "4370.79"]] },
  "wolph_mbank_mt940.sta": { statements: 1, lines: 3, balanced: 1, reconciling: 1 },
  "wolph_mbank_mt942.sta": { statements: 1, lines: 3, balanced: 0, reconciling: 0 },
  // The second "statement" is a :61: after the closing "-" without a :20: (no balances).
  "wolph_multiline.sta": { statements: 2, lines: 2, balanced: 1, reconciling: 1 },
  "wolph_raiffeisen_hu.sta": { statements: 1, lines: 7, balanced: 1, reconciling: 0, failing: [["25170637.10", "-1012213.50", "25281687.60"]] },
  "wolph_sberbank_hu.sta": { statements: 1, lines: 3, balanced: 1, reconciling: 1 },
  "wolph_selfprovided_mt942.sta": { statements: 1, lines: 1, balanced: 0, reconciling: 0 },
};

const SAMPLE_FILES = readdirSync(FIXTURES).filter((f) => f !== "ATTRIBUTION.md");

/** Opening, Σ movements and closing of every statement that has both balances. */
function balanceChecks(parsed: ParsedFile) {
  return parsed.statements.flatMap((s, i) => {
    if (!s.opening || !s.closing) return [];
    const movements = sum(parsed.records.filter((r) => r.statementIndex === i).map((r) => r.amount));
    return [{ opening: s.opening.amount, movements, closing: s.closing.amount, reconciles: money(s.opening.amount).plus(movements).eq(s.closing.amount) }];
  });
}

function parseErrorOf(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("mt940 parser on the real samples", () => {
  it("has an expectation for every copied sample, 447 :61: lines in all", () => {
    expect(SAMPLE_FILES.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.values(EXPECTED).reduce((n, e) => n + e.lines, 0)).toBe(447);
    expect(SAMPLE_FILES.reduce((n, f) => n + parseFile(f).records.length, 0)).toBe(447);
  });

  it.each(Object.entries(EXPECTED))("%s: lines, statements and balances as in SOURCES.md", (file, expected) => {
    const parsed = parseFile(file);
    expect(parsed.records).toHaveLength(expected.lines);
    expect(parsed.statements).toHaveLength(expected.statements);
    expect(parsed.statements.reduce((n, s) => n + s.lines, 0)).toBe(expected.lines);
    for (const record of parsed.records) {
      expect(record.statementIndex).not.toBeNull();
      expect(record.currency).toBe(parsed.statements[record.statementIndex!].currency);
    }
    const checks = balanceChecks(parsed);
    expect(checks).toHaveLength(expected.balanced);
    expect(checks.filter((c) => c.reconciles)).toHaveLength(expected.reconciling);
    if (expected.failing) {
      const failing = checks.filter((c) => !c.reconciles);
      expect(failing).toHaveLength(expected.failing.length);
      failing.forEach((c, i) => {
        const [opening, movements, closing] = expected.failing![i];
        expect([money(c.opening).eq(opening), c.movements.eq(movements), money(c.closing).eq(closing)]).toEqual([true, true, true]);
      });
    }
  });

  it("detects every sample and no BAI2 or CSV text", () => {
    for (const file of SAMPLE_FILES) expect(mt940Parser.detect(new TextDecoder().decode(read(file).subarray(0, 4096))), file).toBe(true);
    expect(mt940Parser.detect("01,GSBI,cont001,210706,1249,1,,,2/\n02,cont001,026015079,1,230906,2000,,/\n")).toBe(false);
    expect(mt940Parser.detect("Date,Amount,Description\n2024-01-01,10.00,:20: coffee\n")).toBe(false);
  });

  it("reports MT942 interim reports as mt942, with the currency of :34F:", () => {
    const mbank = parseFile("wolph_mbank_mt942.sta");
    expect(mbank.format).toBe("mt942");
    expect(mbank.statements[0]).toMatchObject({ currency: "PLN", opening: null, closing: null, account: "PL29114010810000267002001002" });
    const selfProvided = parseFile("wolph_selfprovided_mt942.sta");
    expect(selfProvided.format).toBe("mt942");
    expect(selfProvided.records[0]).toMatchObject({ amount: "-0.42", currency: "EUR", valueDate: "2016-10-30", bookedDate: "2016-10-31", externalId: "055001022000001" });
    expect(parseFile("wolph_mbank_mt940.sta").format).toBe("mt940");
  });
});

describe("mt940 fields of real lines", () => {
  it("reads Dutch /TRTP/ information and the SWIFT envelope (actual_data.sta line 5-6)", () => {
    const parsed = parseFile("actual_data.sta");
    expect(parsed.statements[0]).toEqual({
      statementId: "STATEMENT001/00001/001",
      account: "FR7630006000011234567890189",
      currency: "EUR",
      opening: { date: "2025-08-01", amount: "1500" },
      closing: { date: "2025-08-06", amount: "2496.71" },
      lines: 6,
    });
    expect(parsed.records[0]).toMatchObject({
      externalId: "BANKREF001",
      bookedDate: "2025-08-01",
      valueDate: "2025-08-01",
      amount: "-42.5",
      currency: "EUR",
      counterpartyName: "Boulangerie L'Étoile",
      counterpartyAccount: "FR1420041010050500013M02606",
      description: "Facture 2025-0042",
      bankTransactionCode: "NTRF",
      type: "transfer",
    });
    // German ?-subfields in the same file.
    expect(parsed.records[2]).toMatchObject({ amount: "-89.99", counterpartyName: "MÜLLER GMBH", description: "Rechnung 4711" });
  });

  it("reads German SEPA subfields wrapped over lines (betterplace snippet, first :61:)", () => {
    expect(parseFile("wolph_betterplace_sepa_snippet.sta").records[0]).toMatchObject({
      externalId: "0724710333343453",
      valueDate: "2007-09-07",
      bookedDate: "2007-09-04",
      amount: "50990.05",
      counterpartyName: "KARL KAUFMANN",
      counterpartyAccount: "DE14508800500194785000",
      reference: "EndToEndId TFNR 22 004 00001",
      description: "Verw CTSc-01 BC-PPP TFNr 22 004",
    });
  });

  it("signs a reversal of a credit (RC) as money out and types a returned item as refund", () => {
    const storno = parseFile("wolph_betterplace_sepa_mt9401.sta").records[5];
    expect(storno).toMatchObject({ amount: "-204.88", bankTransactionCode: "NRTI", type: "refund", externalId: null });
    expect(storno.raw).toMatchObject({ mark: "RC", fundsCode: "R" });
  });

  it("reads the original amount, funds code and bank reference (HSBC)", () => {
    expect(parseFile("fruitl00p_hsbc.sta").records[0]).toMatchObject({
      amount: "-20000",
      currency: "HKD",
      externalId: "6128522200250001",
      reference: "1004688128",
      originalAmount: "-2853.12",
      originalCurrency: "USD",
    });
  });

  it("takes the counterparty IBAN from Rabobank's supplementary details and joins wrapped keywords", () => {
    expect(parseFile("fruitl00p_rabo_sample3.sta").records[0]).toMatchObject({
      amount: "-127.5",
      counterpartyAccount: "NL96RBOS0523149468",
      counterpartyName: "Nespresso Nederland B.V.",
      reference: "02-04-2013 22:56 1120000153447185",
      externalId: null,
    });
  });

  it("accepts lines without type code, blank entry dates and NONREF bank references", () => {
    expect(parseFile("fruitl00p_zetb.sta").records[0]).toMatchObject({ amount: "220000", externalId: "19239782213", bankTransactionCode: null });
    expect(parseFile("fruitl00p_penta.sta").records[0]).toMatchObject({ amount: "-20", reference: null, bankTransactionCode: null });
    expect(parseFile("wolph_citi_mt940.txt").records[0]).toMatchObject({ amount: "-212.39", bookedDate: "2024-03-12", valueDate: "2024-03-12" });
    expect(parseFile("wolph_jejik_postfinance.sta").records[0]).toMatchObject({ amount: "79.7", externalId: null, reference: "01916", bankTransactionCode: "FMSC" });
  });

  it("strips the currency suffix from :25: and reads dotted amounts", () => {
    expect(parseFile("fruitl00p_bunq.sta").statements[0].account).toBe("NL10BUNQ2290325473");
    expect(parseFile("wolph_raiffeisen_hu.sta").statements[0].account).toBe("UBRTHUHB/123456789150ABCDEF002");
    const rabo = parseFile("fruitl00p_rabo.sta");
    expect(rabo.statements[3]).toMatchObject({ account: "1017.490.554", closing: { date: "2003-01-07", amount: "20000" } });
  });

  it("keeps transactions after a message end without :20: as a statement of their own, with a warning", () => {
    const parsed = parseFile("wolph_multiline.sta");
    expect(parsed.statements[1]).toMatchObject({ statementId: null, currency: "EUR", opening: null, closing: null, lines: 1 });
    expect(parsed.records[1]).toMatchObject({ amount: "119", externalId: "O/341241774", description: "Paiement", statementIndex: 1 });
    expect(parsed.warnings).toEqual([expect.stringContaining("line 38")]);
  });
});

describe("mt940 hand-made input", () => {
  const statement = (lines: string[]) => [":20:REF1", ":25:NL91ABNA0417164300", ":28C:1/1", ...lines].join("\r\n");

  it("puts an entry date across the year end in the right year", () => {
    const parsed = parseText(
      statement([":60F:C121231EUR10,00", ":61:1212310102C5,00NTRFNONREF", ":61:1301021231D1,NCHGNONREF//B1", ":62F:C130102EUR14,00"]),
    );
    expect(parsed.records.map((r) => [r.valueDate, r.bookedDate, r.amount, r.type])).toEqual([
      ["2012-12-31", "2013-01-02", "5", "transfer"],
      ["2013-01-02", "2012-12-31", "-1", "fee"],
    ]);
  });

  it.each([
    ["a missing closing balance", statement([":60F:C240101EUR1,00", ":61:240101C1,00NTRFNONREF"]), 1, ":62F:", /no closing balance/],
    ["a missing opening balance", statement([":61:240101C1,00NTRFNONREF", ":62F:C240101EUR1,00"]), 1, ":60F:", /no opening balance/],
    ["a letter in the amount", statement([":60F:C240101EUR1,00", ":61:240101C1X,00NTRFNONREF", ":62F:C240101EUR1,00"]), 5, ":61:", /not a transaction type code/],
    ["a missing D\/C mark", statement([":60F:C240101EUR1,00", ":61:2401011,00NTRFNONREF", ":62F:C240101EUR1,00"]), 5, ":61:", /value date, D\/C mark and amount/],
    ["month 13", statement([":60F:C240101EUR1,00", ":61:241301C1,00NTRFNONREF", ":62F:C240101EUR1,00"]), 5, ":61:", /not a date/],
    ["an impossible entry date", statement([":60F:C240101EUR1,00", ":61:2401010231C1,00NTRFNONREF", ":62F:C240101EUR1,00"]), 5, ":61:", /entry date/],
    ["a bad opening balance", statement([":60F:C240101EUR1O,00", ":62F:C240101EUR1,00"]), 4, ":60F:", /balance/],
    ["a transaction after the closing balance", statement([":60F:C240101EUR1,00", ":62F:C240101EUR1,00", ":61:240101C1,00NTRFNONREF"]), 6, ":61:", /after the closing/],
    ["two currencies", statement([":60F:C240101EUR1,00", ":62F:C240101USD1,00"]), 5, ":62F:", /opens in EUR but closes in USD/],
    ["an account before any :20:", ":25:NL91ABNA0417164300\n:20:REF1\n", 1, ":25:", /outside a statement/],
  ])("refuses %s, naming line and field", (_name, text, line, field, message) => {
    const error = parseErrorOf(() => parseText(text));
    expect(error.message).toMatch(message);
    expect([error.line, error.field]).toEqual([line, field]);
  });

  it("refuses a file without any statement", () => {
    expect(parseErrorOf(() => parseText("hello\nworld\n")).message).toMatch(/no :20:/);
  });

  it("honours maxRecords and maxBytes", () => {
    expect(parseErrorOf(() => mt940Parser.parse(read("actual_data.sta"), undefined, { maxRecords: 5 })).message).toMatch(/more than 5 transactions/);
    expect(parseErrorOf(() => mt940Parser.parse(read("actual_data.sta"), undefined, { maxBytes: 100 })).message).toMatch(/100-byte limit/);
  });
});

describe("mt940 fuzz", () => {
  it("only ever throws ParseError, each case under 2 s (1,000 runs over the real samples)", () => {
    const result = fuzzParser((bytes) => mt940Parser.parse(bytes), SAMPLE_FILES.map(read), 1000);
    expect(result.parsed + result.refused).toBe(1000);
    expect(result.slowestMs).toBeLessThan(2000);
  });
});
