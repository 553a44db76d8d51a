import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzParser } from "../../../test/parser-fuzz";
import { sum, money } from "../../money";
import { ParseError, type ParsedFile } from "./canonical";
import { CSV_PRESETS, type CsvMapping, csvMappingSchema, csvParser, detectDialect, parseCsv, suggestMapping } from "./csv";
import { CsvTokenizer, parseAmount, parseDate } from "./csv-dialect";

const dir = path.resolve(import.meta.dirname, "../../../test/fixtures/statements/csv");
const sample = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const text = (name: string) => readFileSync(path.join(dir, name), "utf8");
const utf8 = (s: string) => new TextEncoder().encode(s);

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

/** opening + Σ amounts = closing, the importer's check, with decimal.js. */
function reconciles(file: ParsedFile): boolean {
  const s = file.statements[0];
  if (!s?.opening || !s.closing) throw new Error("statement without both balances");
  return money(s.opening.amount).plus(sum(file.records.map((r) => r.amount))).eq(s.closing.amount);
}

const col = (index: number) => ({ index });
const presetMapping = (id: string) => CSV_PRESETS.find((p) => p.id === id)?.mapping as CsvMapping;

/** Mappings a person would choose for the headerless or ambiguous samples. */
const CHOSEN: Record<string, CsvMapping> = {
  "b2y_uk_date_desc_amount_balance.csv": { ...(suggestMapping(text("b2y_uk_date_desc_amount_balance.csv")).mapping as CsvMapping), dateFormat: "dd/mm/yyyy", currency: { fixed: "GBP" } },
  "reckon_danish_kroner_nordea_example.csv": {
    headerRow: null, dateFormat: "dd-mm-yyyy", decimalSeparator: ",", thousandsSeparator: ".",
    bookedDate: col(0), valueDate: col(2), description: [col(1)], amount: { kind: "signed", column: col(3), sign: "normal" }, balance: col(4), currency: { fixed: "DKK" },
  },
  "reckon_nationwide.csv": { ...presetMapping("nationwide-uk"), headerRow: null } as CsvMapping,
  "reckon_suntrust.csv": {
    headerRow: null, dateFormat: "mm/dd/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
    bookedDate: col(0), reference: col(1), description: [col(2)], amount: { kind: "debitCredit", debit: col(3), credit: col(4) }, balance: col(5), currency: { fixed: "USD" },
  },
  "reckon_two_money_columns.csv": {
    headerRow: null, dateFormat: "mm/dd/yyyy", decimalSeparator: ".", thousandsSeparator: ",",
    bookedDate: col(0), description: [col(1)], reference: col(2), amount: { kind: "debitCredit", debit: col(3), credit: col(4) }, balance: col(5), currency: { fixed: "USD" },
  },
  "reckon_inversed_credit_card.csv": {
    headerRow: null, dateFormat: "yyyy/mm/dd", decimalSeparator: ".", thousandsSeparator: ",",
    bookedDate: col(0), valueDate: col(1), externalId: col(2), bankTransactionCode: col(3), description: [col(5)],
    amount: { kind: "signed", column: col(6), sign: "inverted" }, currency: { fixed: "NZD" },
  },
};

/**
 * Per sample (SOURCES.md §2e): data rows; whether a statement comes out; whether its balances
 * reconcile (true), must fail the importer's check (false), or there is nothing to check (null).
 */
const SAMPLES: [file: string, records: number, statements: number, reconciles: boolean | null, currency?: string][] = [
  ["b2y_bank_of_ireland_export.csv", 27, 1, false, "EUR"],
  ["b2y_bunq_nl_statement.csv", 7, 0, null, "EUR"],
  ["b2y_commerzbank_de_umsaetze.csv", 1, 0, null],
  ["b2y_cz_bank_movements.csv", 1, 0, null],
  ["b2y_de_umsatz_20180226.csv", 1, 0, null],
  ["b2y_hu_bank_W80844.csv", 2, 1, false],
  ["b2y_kbc_be_export_20180304.csv", 1, 1, true],
  ["b2y_monzo_uk_export.csv", 1, 0, null],
  ["b2y_n26_de_export.csv", 1, 0, null],
  ["b2y_rabobank_nl_CSV_A_20180414_112204.csv", 3, 1, false],
  ["b2y_swedbank_lt_statement.csv", 13, 1, true],
  ["b2y_transaction_history_with_header_block.csv", 8, 0, null],
  ["b2y_uk_date_desc_amount_balance.csv", 1, 1, true],
  ["csv2ofx_capitalone.csv", 2, 0, null],
  ["csv2ofx_gls.csv", 1, 1, true],
  ["csv2ofx_ingesp.csv", 10, 1, false],
  ["csv2ofx_mint.csv", 4, 0, null],
  ["csv2ofx_n26-fr.csv", 2, 0, null],
  ["csv2ofx_outbank.csv", 4, 0, null],
  ["csv2ofx_payoneer.csv", 2, 1, true],
  ["csv2ofx_schwab-checking.csv", 4, 1, true],
  ["csv2ofx_ubs-ch-fr_trimmed.csv", 3, 1, true],
  ["reckon_austrian_example.csv", 13, 0, null],
  ["reckon_chase.csv", 9, 0, null, "USD"],
  ["reckon_danish_kroner_nordea_example.csv", 6, 1, false],
  ["reckon_extratofake.csv", 22, 1, null],
  ["reckon_french_example.csv", 9, 0, null, "EUR"],
  ["reckon_inversed_credit_card.csv", 16, 0, null],
  ["reckon_nationwide.csv", 4, 1, true],
  ["reckon_suntrust.csv", 7, 1, true],
  ["reckon_two_money_columns.csv", 5, 1, false],
];

const parsed = new Map<string, ParsedFile>();
function parseSample(file: string): ParsedFile {
  let result = parsed.get(file);
  if (!result) {
    const row = SAMPLES.find((s) => s[0] === file);
    result = parseCsv(sample(file), { mapping: CHOSEN[file], currency: row?.[4] });
    parsed.set(file, result);
  }
  return result;
}

describe("csv samples", () => {
  it.each(SAMPLES)("%s: %i lines, %i statement(s)", (file, records, statements, balanced) => {
    const result = parseSample(file);
    expect(result.format).toBe("csv");
    expect(result.records).toHaveLength(records);
    expect(result.statements).toHaveLength(statements);
    for (const r of result.records) {
      expect(r.bookedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.amount).toMatch(/^-?\d+(\.\d+)?$/);
      expect(r.currency).toMatch(/^[A-Z]{3}$/);
      expect(r.statementIndex).toBe(statements ? 0 : null);
    }
    if (statements) expect(result.statements[0].lines).toBe(records);
    if (balanced !== null) expect(reconciles(result)).toBe(balanced);
  });

  it("Swedbank: opening and closing balance rows make the statement, turnover rows are skipped", () => {
    const result = parseSample("b2y_swedbank_lt_statement.csv");
    const [statement] = result.statements;
    expect(statement.opening).toEqual({ date: "2014-10-01", amount: "10374.04" });
    expect(statement.closing).toEqual({ date: "2014-10-06", amount: "12952.97" });
    expect(statement.account).toBe("LT357300000000000000");
    expect(sum(result.records.map((r) => r.amount)).toFixed(2)).toBe("2578.93");
    expect(result.records[0]).toMatchObject({ bookedDate: "2014-10-01", amount: "-15.31", counterpartyName: "X-911 MAXIMA", currency: "LTL" });
    expect(result.records[12]).toMatchObject({ bookedDate: "2014-10-06", amount: "2863.63", counterpartyName: "UAB IMONE", description: "Darbo užmokestis" });
    expect(result.warnings.join("\n")).toContain("2 turnover/summary rows skipped (lines 16, 17)");
  });

  it("Rabobank: Windows-1252 text, ids, counterparties and the running balance", () => {
    const result = parseSample("b2y_rabobank_nl_CSV_A_20180414_112204.csv");
    expect(result.warnings[0]).toContain("windows-1252");
    expect(result.records[1]).toMatchObject({
      externalId: "000000000000009590", bookedDate: "2018-03-14", valueDate: "2018-03-14", amount: "50", currency: "EUR",
      counterpartyName: "Nederlandse Loterij Organisatie B.V.", counterpartyAccount: "NL62INGB0663707048", bankTransactionCode: "cb",
    });
    expect(result.records[1].description).toMatch(/^Gefeliciteerd, Gewonnen met Staatsloterij/);
    expect(result.records[0].raw["Naam initiërende partij"]).toBe("");
    // Newest balance last; opening = first balance − first amount.
    expect(result.statements[0].opening).toEqual({ date: "2018-03-01", amount: "5594.77" });
    expect(result.statements[0].closing).toEqual({ date: "2018-03-16", amount: "12334.53" });
  });

  it("Schwab and Payoneer list the newest line first: balances are taken from the other end", () => {
    const schwab = parseSample("csv2ofx_schwab-checking.csv");
    expect(schwab.statements[0].opening).toEqual({ date: "2022-08-04", amount: "1093.74" });
    expect(schwab.statements[0].closing).toEqual({ date: "2022-08-17", amount: "878.47" });
    expect(schwab.records[2]).toMatchObject({ amount: "-75", reference: "558", bankTransactionCode: "CHECK", currency: "USD" });
    expect(schwab.warnings.join("\n")).toContain("newest first");
    // Both Payoneer lines are on one day: the balance chain tells the order.
    const payoneer = parseSample("csv2ofx_payoneer.csv");
    expect(payoneer.records.map((r) => [r.externalId, r.bookedDate, r.amount])).toEqual([["123", "2021-05-03", "-100"], ["1234", "2021-05-03", "120"]]);
    expect(payoneer.statements[0].closing?.amount).toBe("200");
  });

  it("debit/credit columns, direction columns and inverted signs", () => {
    expect(parseSample("csv2ofx_capitalone.csv").records.map((r) => r.amount)).toEqual(["-1000", "1000"]);
    expect(parseSample("csv2ofx_mint.csv").records.map((r) => r.amount)).toEqual(["-1000", "-1500", "2000", "-2500"]);
    expect(parseSample("reckon_two_money_columns.csv").records.map((r) => r.amount)).toEqual(["-76", "327.49", "-800", "-88.55", "88.55"]);
    expect(parseSample("reckon_suntrust.csv").records.map((r) => r.amount)).toEqual(["500", "-100", "-100", "-100", "-100", "-100", "700"]);
    const card = parseSample("reckon_inversed_credit_card.csv").records;
    expect(card[0]).toMatchObject({ amount: "-30", externalId: "2013011702", valueDate: "2013-01-16" });
    expect(card[3].amount).toBe("500");
  });

  it("a header block above the table is skipped and continuation rows join the description", () => {
    const result = parseSample("b2y_transaction_history_with_header_block.csv");
    expect(result.records[0]).toMatchObject({ bookedDate: "2018-04-18", amount: "-6.66", currency: "SGD", description: "DEBIT PURCHASE 15/04/18  66-6666 UBER EATS AN2GO HELP.UBERh" });
    expect(result.warnings.join("\n")).toMatch(/4 lines above the header row/);
    expect(result.warnings.join("\n")).toMatch(/8 rows have no date and no amount/);
  });

  it("spot checks across banks", () => {
    expect(parseSample("b2y_monzo_uk_export.csv").records[0]).toMatchObject({ externalId: "tx_00009TziTeST1NG1ZWIPGS", bookedDate: "2018-02-25", amount: "-10", currency: "GBP", description: "Tesco" });
    expect(parseSample("b2y_cz_bank_movements.csv").records[0]).toMatchObject({
      externalId: "3228446118", amount: "-1", currency: "CZK", description: "Memo for me test", bankTransactionCode: "Jednorázová platba", counterpartyAccount: "123456789/1234",
    });
    expect(parseSample("b2y_de_umsatz_20180226.csv").records[0]).toMatchObject({ bookedDate: "2018-02-22", amount: "-36.99", counterpartyName: "Vodafone Kabel DeutschlandGmbH", bankTransactionCode: "FOLGELASTSCHRIFT" });
    expect(parseSample("b2y_n26_de_export.csv").records[0]).toMatchObject({ amount: "-59.99", currency: "EUR", counterpartyName: "NINTENDO OF EUROPE", originalAmount: "-59.99", originalCurrency: "EUR" });
    expect(parseSample("csv2ofx_gls.csv").statements[0].closing?.amount).toBe("1234.56");
    expect(parseSample("csv2ofx_ubs-ch-fr_trimmed.csv").records[2]).toMatchObject({ externalId: "9979360TI2115087", amount: "-200", bookedDate: "2019-04-27", counterpartyName: "REMB-CASH" });
    expect(parseSample("reckon_nationwide.csv").records[0]).toMatchObject({ bookedDate: "2013-11-07", amount: "500", currency: "GBP" });
    expect(parseSample("reckon_chase.csv").records[0]).toMatchObject({ bookedDate: "2009-12-24", amount: "-85", description: "HOST 037196321563 MO        12/22SLICEHOST" });
    const brazil = parseSample("reckon_extratofake.csv");
    expect(brazil.statements[0].opening).toEqual({ date: "2012-10-31", amount: "100" });
    expect(money(brazil.statements[0].opening?.amount ?? "0").plus(sum(brazil.records.map((r) => r.amount))).toFixed(2)).toBe("905.00");
  });

  it("without a mapping, an ambiguous date layout is not guessed", () => {
    const error = parseError(() => parseCsv(sample("b2y_uk_date_desc_amount_balance.csv"), { currency: "GBP" }));
    expect(error.message).toContain("dd/mm/yyyy or mm/dd/yyyy");
    expect(error.message).toContain("choose a mapping");
  });

  it("headerless files with several money columns ask for a mapping", () => {
    expect(parseError(() => parseCsv(sample("reckon_suntrust.csv"), { currency: "USD" })).message).toContain("could not tell the amount");
  });

  it("the csv sniffer accepts the samples and leaves other formats alone", () => {
    for (const [file] of SAMPLES) expect(csvParser.detect(text(file).slice(0, 4096))).toBe(true);
    expect(csvParser.detect(":20:STARTUMS\n:25:12345")).toBe(false);
    expect(csvParser.detect('<?xml version="1.0"?><Document/>')).toBe(false);
    expect(csvParser.detect("01,SENDR,RECVR,230101,0000,1,80,1,2/")).toBe(false);
  });
});

describe("tokenizer", () => {
  const records = (s: string, d: "," | ";" = ",") => {
    const t = new CsvTokenizer(s, d);
    const out: [number, string[]][] = [];
    for (let r = t.next(); r; r = t.next()) out.push([t.recordLine, r]);
    return out;
  };

  it("reads quoted fields, doubled quotes, embedded line breaks and every line ending", () => {
    expect(records('a,"b,c","say ""hi"""\r\n"multi\nline",x,\ry\n')).toEqual([
      [1, ["a", "b,c", 'say "hi"']],
      [2, ["multi\nline", "x", ""]],
      [4, ["y"]],
    ]);
    expect(records("a;b\n\n;c", ";")).toEqual([[1, ["a", "b"]], [2, [""]], [3, ["", "c"]]]);
  });

  it("keeps stray quotes the way exports write them", () => {
    expect(records('NL77","EUR"\n"x"y,z')).toEqual([[1, ['NL77"', "EUR"]], [2, ["xy", "z"]]]);
  });

  it("refuses a quoted field that never closes, naming the line it opens on", () => {
    const e = parseError(() => records('a,b\nc,"d\ne'));
    expect(e.line).toBe(2);
  });
});

describe("dialect", () => {
  it("finds the delimiter outside quotes, the header after a preamble, separators and the date layout", () => {
    const d = detectDialect('Konto;DE12 3456\nZeitraum;01.01.2024 - 31.01.2024\n\nBuchungstag;Text;Betrag\n02.01.2024;"Miete; Januar";-1.250,00\n15.01.2024;Gehalt;3.000,00\n31.01.2024;Zinsen;0,12\n');
    expect(d).toMatchObject({ delimiter: ";", headerRow: 4, decimalSeparator: ",", thousandsSeparator: ".", dateFormat: "dd.mm.yyyy", dateFormatAmbiguous: false });
    expect(d.headers).toEqual(["Buchungstag", "Text", "Betrag"]);
  });

  it("says when the date layout is ambiguous and which layouts fit", () => {
    const d = detectDialect("Date,Amount\n01/02/2024,1.00\n03/04/2024,2.00\n");
    expect(d.dateFormat).toBeNull();
    expect(d.dateFormatAmbiguous).toBe(true);
    expect(d.dateFormatCandidates).toEqual(["dd/mm/yyyy", "mm/dd/yyyy"]);
    expect(detectDialect("Date,Amount\n01/02/2024,1.00\n13/04/2024,2.00\n").dateFormat).toBe("dd/mm/yyyy");
  });

  it("reads dates in each layout and refuses impossible days", () => {
    expect(parseDate("2019.04.19.", "yyyy.mm.dd")).toBe("2019-04-19");
    expect(parseDate("07 Nov 2013", "dd mmm yyyy")).toBe("2013-11-07");
    expect(parseDate("20091224120000[0:GMT]", "yyyymmdd")).toBe("2009-12-24");
    expect(parseDate("2018-02-25 12:34:56 +0000", "yyyy-mm-dd")).toBe("2018-02-25");
    expect(parseDate("6/12/15", "m/d/yy")).toBe("2015-06-12");
    expect(parseDate("22.02.18", "dd.mm.yy")).toBe("2018-02-22");
    expect(parseDate("2023-02-29", "yyyy-mm-dd")).toBeNull();
    expect(parseDate("2024-02-29", "yyyy-mm-dd")).toBe("2024-02-29");
    expect(parseDate("2013011702", "yyyymmdd")).toBeNull();
  });

  it("reads amounts as written, refusing separators that do not group by three", () => {
    expect(parseAmount("-$1,036.47", ".", ",")).toBe("-1036.47");
    expect(parseAmount("£500.00", ".", ",")).toBe("500");
    expect(parseAmount("11'373.94", ".", "'")).toBe("11373.94");
    expect(parseAmount("1.234,56", ",", ".")).toBe("1234.56");
    expect(parseAmount("(12.50)", ".", ",")).toBe("-12.5");
    expect(parseAmount("12,3,4", ".", ",")).toBeNull();
    expect(parseAmount("1.5", ",", ".")).toBeNull();
  });
});

describe("mapping suggestions and presets", () => {
  it("proposes a mapping from German headers and says what it could not map", () => {
    const s = suggestMapping("Buchungstag;Valuta;Empfänger;Verwendungszweck;Betrag (EUR)\n01.03.2024;01.03.2024;ACME GmbH;RE 4711;-12,50\n");
    expect(s.missing).toEqual([]);
    expect(s.mapping).toMatchObject({
      delimiter: ";", dateFormat: "dd.mm.yyyy", decimalSeparator: ",",
      bookedDate: { header: "Buchungstag" }, valueDate: { header: "Valuta" }, amount: { kind: "signed", column: { header: "Betrag (EUR)" } },
      currency: { fixed: "EUR" }, counterpartyName: { header: "Empfänger" }, description: [{ header: "Verwendungszweck" }],
    });
    expect(s.unmapped).toEqual(expect.arrayContaining(["externalId", "balance", "reference"]));
    expect(csvMappingSchema.safeParse(s.mapping).success).toBe(true);
  });

  it("uses a direction column for unsigned amounts (Dutch Af/Bij) and debit/credit columns", () => {
    const ing = 'Datum,"Naam / Omschrijving","Rekening","Tegenrekening","Code","Af Bij","Bedrag (EUR)","MutatieSoort","Mededelingen"\n"20240102","Albert Heijn","NL01INGB0001","","BA","Af","12,34","Betaalautomaat",""\n"20240103","Werkgever","NL01INGB0001","NL02ABNA0002","GT","Bij","2.500,00","Overschrijving","Salaris"\n';
    const result = parseCsv(utf8(ing));
    expect(result.warnings.join("\n")).toContain("ING (NL) preset");
    expect(result.records.map((r) => [r.bookedDate, r.amount, r.counterpartyName])).toEqual([["2024-01-02", "-12.34", "Albert Heijn"], ["2024-01-03", "2500", "Werkgever"]]);
    const s = suggestMapping("Date,Payee,Debit,Credit\n2024-01-02,Shop,10.00,\n2024-01-03,Employer,,2000.00\n");
    expect(s.mapping.amount).toEqual({ kind: "debitCredit", debit: { header: "Debit", index: 2 }, credit: { header: "Credit", index: 3 } });
  });

  it("reads headerless files by content when the columns are clear", () => {
    const result = parseSample("reckon_austrian_example.csv");
    expect(result.records[0]).toMatchObject({ bookedDate: "2014-01-22", amount: "-18", currency: "EUR" });
    expect(result.warnings.join("\n")).toContain("columns were guessed");
  });
});

describe("bad input", () => {
  const header = "Date,Description,Amount\n";
  const good = Array.from({ length: 12 }, (_, i) => `2024-01-${String(i + 1).padStart(2, "0")},Line ${i + 1},-${i + 1}.00\n`).join("");

  it("names the line and column of a bad amount", () => {
    const e = parseError(() => parseCsv(utf8(`${header}${good}2024-01-13,Bad,"12,3,4"\n`), { currency: "EUR" }));
    expect(e.line).toBe(14);
    expect(e.field).toBe("Amount");
    expect(e.message).toContain('column Amount: "12,3,4" is not an amount');
  });

  it("names the line and column of a bad date", () => {
    const e = parseError(() => parseCsv(utf8(`${header}${good}2024-13-01,Bad,1.00\n`), { currency: "EUR" }));
    expect([e.line, e.field]).toEqual([14, "Date"]);
    expect(e.message).toContain('"2024-13-01" is not a date written yyyy-mm-dd');
  });

  it("skips a documented totals row with a warning, but not other junk", () => {
    const ok = parseCsv(utf8(`${header}${good}Total,,-78.00\n`), { currency: "EUR" });
    expect(ok.records).toHaveLength(12);
    expect(ok.warnings.join("\n")).toContain("1 totals row skipped (line 14)");
    const e = parseError(() => parseCsv(utf8(`${header}${good}Exported by Netbank,,-78.00\n`), { currency: "EUR" }));
    expect([e.line, e.field]).toEqual([14, "Date"]);
  });

  it("refuses a mapping column that is not in the header, and an invalid mapping", () => {
    const mapping: CsvMapping = { dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "", bookedDate: { header: "Date" }, amount: { kind: "signed", column: { header: "Betrag" }, sign: "normal" }, currency: { fixed: "EUR" } };
    const e = parseError(() => parseCsv(utf8(header + good), { mapping }));
    expect([e.line, e.field]).toEqual([1, "Betrag"]);
    expect(parseError(() => parseCsv(utf8(header + good), { mapping: { ...mapping, thousandsSeparator: "." as const, decimalSeparator: "." } })).message).toContain("separators must differ");
  });

  it("refuses rows with both debit and credit, unknown direction markers and a missing currency", () => {
    const both = parseError(() => parseCsv(utf8("Date,Debit,Credit\n2024-01-01,5.00,6.00\n"), { currency: "EUR" }));
    expect([both.line, both.field]).toEqual([2, "Debit"]);
    const direction: CsvMapping = {
      dateFormat: "yyyy-mm-dd", decimalSeparator: ".", thousandsSeparator: "", bookedDate: col(0), currency: { fixed: "EUR" },
      amount: { kind: "signed", column: col(1), sign: "normal", direction: { column: col(2), debitValues: ["D"], creditValues: ["C"] } },
    };
    const marker = parseError(() => parseCsv(utf8("Date,Amount,DC\n2024-01-01,5.00,D\n2024-01-02,5.00,X\n"), { mapping: direction }));
    expect([marker.line, marker.field]).toEqual([3, "DC"]);
    expect(parseError(() => parseCsv(utf8(header + good))).message).toContain("which currency");
  });

  it("refuses files over the size and line limits, empty files and files it cannot map", () => {
    expect(parseError(() => parseCsv(utf8(header + good), { currency: "EUR" }, { maxBytes: 100 })).message).toContain("more than the 100");
    expect(parseError(() => parseCsv(utf8(header + good), { currency: "EUR" }, { maxRecords: 5 })).line).toBe(7);
    expect(parseError(() => parseCsv(new Uint8Array(), { currency: "EUR" })).message).toContain("choose a mapping");
    expect(parseError(() => parseCsv(utf8("hello,world\nfoo,bar\n"), { currency: "EUR" })).message).toContain("choose a mapping");
  });

  it("refuses a row wider than any statement (a wrong delimiter or damage)", () => {
    const e = parseError(() => parseCsv(utf8(`${header}${good}2024-01-13,x,1.00${",".repeat(2000)}\n`), { currency: "EUR" }));
    expect(e.line).toBe(14);
    expect(e.message).toContain("is the delimiter right?");
  });

  it("uses the mapping's encoding over the automatic choice", () => {
    const bytes = Uint8Array.from([...utf8("Date,Name,Amount\n2024-01-01,"), 0x8a, 0xe8, ...utf8(",1.00\n")]);
    const mapping: CsvMapping = { ...(suggestMapping("Date,Name,Amount\n2024-01-01,x,1.00\n").mapping as CsvMapping), currency: { fixed: "CZK" }, counterpartyName: { header: "Name" } };
    expect(parseCsv(bytes, { mapping }).records[0].counterpartyName).toBe("Šè");
    const czech = parseCsv(bytes, { mapping: { ...mapping, encoding: "windows-1250" } });
    expect(czech.records[0].counterpartyName).toBe("Šč");
    expect(czech.warnings).toContain("the file was read as windows-1250, as the mapping says");
  });
});

describe("fuzz", () => {
  it("only ParseError escapes, each case under 2 s (1,000 runs over the samples)", () => {
    const samples = SAMPLES.map(([file]) => sample(file));
    const stats = fuzzParser((bytes) => csvParser.parse(bytes, { currency: "EUR" }), samples, 1000);
    expect(stats.parsed + stats.refused).toBe(1000);
  }, 300_000);
});
