import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { money, sum } from "../../money";
import { fuzzParser } from "../../../test/parser-fuzz";
import { ParseError } from "./canonical";
import { ofxParser } from "./ofx";

const FIXTURES = path.resolve(import.meta.dirname, "../../../test/fixtures/statements/ofx");
const read = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));
const parse = (file: string) => ofxParser.parse(read(file));
const encode = (text: string) => new TextEncoder().encode(text);

/**
 * Every fixture with SOURCES.md's counts and, per statement, its LEDGERBAL and Σ TRNAMT (null:
 * no usable closing balance). OFX has no opening balance, so nothing reconciles inside the file;
 * SOURCES' implied opening (LEDGERBAL − Σ TRNAMT) follows from these two numbers.
 * Format: "qfx" wherever the file carries INTU.BID — html-vals.qfx and two .ofx files that are
 * Quicken downloads too.
 */
const SAMPLES: ReadonlyArray<[file: string, format: "ofx" | "qfx", transactions: number, statements: ReadonlyArray<[ledger: string, movements: string] | null>]> = [
  ["actual_data-payee-memo.ofx", "ofx", 4, [["1000.00", "-100.00"]]],
  ["actual_html-vals.qfx", "qfx", 2, [["1111.11", "-2.00"]]],
  ["asgrim_ofx-multiple-accounts-xml.ofx", "ofx", 3, [["43.01", "0"], ["3000.25", "496.02"], ["11728.56", "18.70"]]],
  ["asgrim_ofxdata-banking-xml200.ofx", "ofx", 0, [["1234.56", "0"]]],
  ["asgrim_ofxdata-bb-two-stmtrs.ofx", "ofx", 36, [["0.00", "0"], ["4555.28", "-3648.66"]]],
  ["asgrim_ofxdata-bb.ofx", "ofx", 1, [["239.35", "239.55"]]],
  ["asgrim_ofxdata-bpbfc.ofx", "ofx", 6, [["10000.00", "-53.49"]]],
  ["asgrim_ofxdata-cmfr.ofx", "ofx", 42, [["10000.00", "-13491.59"]]],
  ["asgrim_ofxdata-credit-card.ofx", "ofx", 1, [["-500.00", "-100.00"]]],
  ["asgrim_ofxdata-emptyDateTime.ofx", "ofx", 2, [null]],
  ["asgrim_ofxdata-google.ofx", "ofx", 0, [null]],
  ["asgrim_ofxdata-memoWithAmpersand.ofx", "ofx", 16, [["-734.05", "393.82"]]],
  ["asgrim_ofxdata-oneline.ofx", "ofx", 8, [["100.00", "-1977.10"]]],
  ["asgrim_ofxdata-selfclose.ofx", "ofx", 5, [null]],
  ["asgrim_ofxdata-xml.ofx", "ofx", 3, [["5250.00", "250.00"]]],
  ["asgrim_ofxdata.ofx", "ofx", 3, [["5250.00", "250.00"]]],
  ["ofxparse_account_listing_aggregation.ofx", "ofx", 0, []],
  ["ofxparse_anzcc.ofx", "ofx", 1, [["-123.45", "-5.50"]]],
  ["ofxparse_bank_medium.ofx", "qfx", 3, [["382.34", "-345.27"]]],
  ["ofxparse_checking.ofx", "qfx", 3, [["100.99", "-59.50"]]],
  ["ofxparse_fail_empty_balance.ofx", "ofx", 1, [null]],
  ["ofxparse_fidelity-savings.ofx", "ofx", 4, [null]],
  ["ofxparse_investment_medium.ofx", "ofx", 3, [null]],
  ["ofxparse_multiple_accounts.ofx", "ofx", 0, [["111", "0"], ["222", "0"]]],
  ["ofxparse_ofx-v102-empty-tags.ofx", "ofx", 1, [null]],
  ["ofxparse_suncorp.ofx", "ofx", 1, [["1234.12", "-16.85"]]],
];

describe("ofx: every fixture against SOURCES.md", () => {
  it("holds all 26 files and 149 STMTTRN", () => {
    expect(SAMPLES).toHaveLength(26);
    expect(SAMPLES.reduce((n, [, , transactions]) => n + transactions, 0)).toBe(149);
  });

  it.each(SAMPLES)("%s: %s, %i transactions", (file, format, transactions, statements) => {
    const parsed = parse(file);
    expect(parsed.format).toBe(format);
    expect(parsed.records).toHaveLength(transactions);
    expect(parsed.statements).toHaveLength(statements.length);
    statements.forEach((expected, i) => {
      const statement = parsed.statements[i];
      const amounts = parsed.records.filter((r) => r.statementIndex === i).map((r) => r.amount);
      expect(statement.lines).toBe(amounts.length);
      expect(statement.opening).toBeNull();
      if (expected === null) {
        expect(statement.closing).toBeNull();
        return;
      }
      const [ledger, movements] = expected;
      expect(money(statement.closing?.amount ?? "NaN").eq(ledger)).toBe(true);
      expect(sum(amounts).eq(movements)).toBe(true);
    });
  });
});

describe("ofx: fields of real transactions", () => {
  it("OFX 1.02 SGML: NAME and MEMO in every combination", () => {
    const parsed = parse("actual_data-payee-memo.ofx");
    expect(parsed.statements[0]).toMatchObject({ statementId: null, account: "123456789123", currency: "USD", closing: { date: "2019-01-24", amount: "1000" } });
    expect(parsed.records.map((r) => [r.externalId, r.amount, r.counterpartyName, r.description])).toEqual([
      ["test-name-and-memo", "-10", "Payee Name", "Memo Text"],
      ["test-name-only", "-20", "Payee Name Only", "Payee Name Only"],
      ["test-memo-only", "-30", null, "Memo Only Text"],
      ["test-neither", "-40", null, null],
    ]);
    expect(parsed.records[0]).toMatchObject({ bookedDate: "2019-01-23", valueDate: null, currency: "USD", bankTransactionCode: "DEBIT", type: "other", statementIndex: 0 });
    expect(parsed.records[0].raw).toEqual({ TRNTYPE: "DEBIT", DTPOSTED: "20190123120000", TRNAMT: "-10.00", FITID: "test-name-and-memo", NAME: "Payee Name", MEMO: "Memo Text" });
  });

  it("QFX on one line: entities decoded once, the time zone suffix does not move the date", () => {
    const [hydro, tpay] = parse("actual_html-vals.qfx").records;
    expect(hydro).toMatchObject({ bookedDate: "2023-05-09", amount: "-1", description: "PREAUTHORIZED DEBIT;B.C. HYDRO & POWER AUTHORITY;Electronic Funds Transfer" });
    expect(tpay.counterpartyName).toBe("TPAY &lt;DEFTPYMT&gt;");
  });

  it("OFX 2 XML: CHECK with CHECKNUM as reference, DTUSER kept in raw", () => {
    const records = parse("asgrim_ofxdata-xml.ofx").records;
    expect(records[2]).toMatchObject({ externalId: "980309001", bookedDate: "2007-07-09", amount: "-100", reference: "1025", counterpartyName: "Cheque", type: "payment", bankTransactionCode: "CHECK" });
    expect(records[0].raw).toMatchObject({ DTUSER: "20070315" });
  });

  it("credit card statement: CCACCTFROM account, REFNUM reference, POS payment", () => {
    const parsed = parse("asgrim_ofxdata-credit-card.ofx");
    expect(parsed.statements[0]).toMatchObject({ account: "1234567891234567", currency: "GBP", closing: { date: "2016-08-23", amount: "-500" } });
    expect(parsed.records[0]).toMatchObject({ externalId: "ABCDEFGHIJ", amount: "-100", reference: "VENDOR", counterpartyName: "VENDOR", type: "payment" });
  });

  it("several statements: each record points at its own", () => {
    const parsed = parse("asgrim_ofx-multiple-accounts-xml.ofx");
    expect(parsed.records.map((r) => r.statementIndex)).toEqual([1, 1, 2]);
    expect(parsed.statements.map((s) => s.lines)).toEqual([0, 2, 1]);
  });

  it("SGML leaves closed and unclosed, an empty BALAMT without closing tag", () => {
    const parsed = parse("asgrim_ofxdata-selfclose.ofx");
    expect(parsed.records[0]).toMatchObject({ externalId: "20190918001", bookedDate: "2019-09-18", amount: "-70", reference: "20190918001", description: "CXE     000026 SAQUE" });
    expect(parsed.warnings).toContain("1 LEDGERBAL without amount or date: no closing balance");
  });

  it("CDATA text, a bare ampersand in SGML text", () => {
    expect(parse("ofxparse_suncorp.ofx").records[0]).toMatchObject({ counterpartyName: "EFTPOS WDL HANDYWAY ALDI STORE", description: "EFTPOS WDL HANDYWAY ALDI STORE   GEELONG WEST VICAU" });
    expect(parse("asgrim_ofxdata-memoWithAmpersand.ofx").records[0].description).toBe("Amazon.Com.Br Amazon & Cloud 3/3");
  });

  it("investment statements: INVBANKTRAN cash lines are records, trades are skipped with a warning", () => {
    const fidelity = parse("ofxparse_fidelity-savings.ofx");
    expect(fidelity.statements[0]).toMatchObject({ account: "X0000001", currency: "USD", closing: null });
    expect(fidelity.records.map((r) => r.amount)).toEqual(["-1500", "115.8331", "-197.1063", "-197.122"]);
    expect(parse("asgrim_ofxdata-google.ofx").warnings).toContain("investment transactions skipped (2 BUYSTOCK, 1 SELLSTOCK): only cash lines (INVBANKTRAN) are statement lines");
  });

  it("a CURRENCY aggregate states the amount in CURSYM", () => {
    const parsed = parse("ofxparse_investment_medium.ofx");
    expect(parsed.statements[0].currency).toBe("CAD");
    expect(parsed.records[0]).toMatchObject({ amount: "-3.65", currency: "USD", originalAmount: null, originalCurrency: null });
    expect(parsed.records[0].raw).toMatchObject({ CURRENCY: { CURRATE: "1.06", CURSYM: "USD" } });
    expect(parsed.warnings).toContain("3 transaction(s) are stated in another currency than the statement's CURDEF (CURRENCY aggregate)");
  });

  it("empty CURDEF takes the transactions' CURSYM; empty FITID is no id", () => {
    const parsed = parse("ofxparse_ofx-v102-empty-tags.ofx");
    expect(parsed.statements[0].currency).toBe("AUD");
    expect(parsed.records[0]).toMatchObject({ externalId: null, amount: "12.34", currency: "AUD", bankTransactionCode: "CREDIT", reference: null });
  });

  it("a STMTTRN with no fields is skipped; a file without statements says so", () => {
    expect(parse("asgrim_ofxdata-banking-xml200.ofx").warnings).toEqual(["1 STMTTRN without any fields skipped"]);
    expect(parse("ofxparse_account_listing_aggregation.ofx").warnings).toEqual(["the file holds no statement (no STMTRS, CCSTMTRS or INVSTMTRS)"]);
  });
});

type Fields = Record<string, string>;

/** A small OFX 1.02 SGML statement; the first STMTTRN opens on line 9. */
function sgml(transactions: Fields[], curdef = "EUR"): string {
  const body = transactions.map((fields) => ["<STMTTRN>", ...Object.entries(fields).map(([k, v]) => `<${k}>${v}`), "</STMTTRN>"].join("\n")).join("\n");
  return `OFXHEADER:100
DATA:OFXSGML
VERSION:102
CHARSET:1252

<OFX>
<BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>${curdef}
<BANKACCTFROM><BANKID>1<ACCTID>12345<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>
${body}
</BANKTRANLIST><LEDGERBAL><BALAMT>100.00<DTASOF>20240131</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
`;
}

const DEBIT: Fields = { TRNTYPE: "DEBIT", DTPOSTED: "20240105120000.000[-5:EST]", TRNAMT: "-12.50", FITID: "T1" };

function parseError(text: string, limits?: { maxBytes?: number; maxRecords?: number }): ParseError {
  try {
    ofxParser.parse(encode(text), undefined, limits);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("ofx: hand-made statements", () => {
  it("reads the template", () => {
    const parsed = ofxParser.parse(encode(sgml([DEBIT])));
    expect(parsed.format).toBe("ofx");
    expect(parsed.statements[0]).toMatchObject({ account: "12345", currency: "EUR", closing: { date: "2024-01-31", amount: "100" } });
    expect(parsed.records[0]).toMatchObject({ externalId: "T1", bookedDate: "2024-01-05", amount: "-12.5", currency: "EUR" });
  });

  it("comma decimals, DTAVAIL as value date, PAYEE and BANKACCTTO, TRNTYPE to type", () => {
    const parsed = ofxParser.parse(
      encode(
        sgml([
          { TRNTYPE: "xfer", DTPOSTED: "20240105", DTAVAIL: "20240107", TRNAMT: "1234,56", FITID: "A", PAYEE: "<NAME>Own savings</PAYEE>", BANKACCTTO: "<BANKID>2<ACCTID>987</BANKACCTTO>", REFNUM: "R-9" },
          { TRNTYPE: "INT", DTPOSTED: "20240131", TRNAMT: "0.42", FITID: "B" },
          { TRNTYPE: "SRVCHG", DTPOSTED: "20240131", TRNAMT: "-3", FITID: "C" },
        ]),
      ),
    );
    expect(parsed.records[0]).toMatchObject({ amount: "1234.56", valueDate: "2024-01-07", counterpartyName: "Own savings", counterpartyAccount: "987", reference: "R-9", bankTransactionCode: "XFER", type: "transfer" });
    expect(parsed.records.slice(1).map((r) => r.type)).toEqual(["interest", "fee"]);
  });

  it("ORIGCURRENCY: the amount is in CURDEF, CURSYM is the original currency", () => {
    const parsed = ofxParser.parse(encode(sgml([{ ...DEBIT, ORIGCURRENCY: "<CURRATE>0.92<CURSYM>USD</ORIGCURRENCY>" }])));
    expect(parsed.records[0]).toMatchObject({ amount: "-12.5", currency: "EUR", originalCurrency: "USD", originalAmount: null });
  });

  it("a transaction without DTPOSTED is dated by DTUSER, with a warning", () => {
    const parsed = ofxParser.parse(encode(sgml([{ TRNTYPE: "DEBIT", DTUSER: "20240102", TRNAMT: "-1", FITID: "U" }])));
    expect(parsed.records[0].bookedDate).toBe("2024-01-02");
    expect(parsed.warnings).toContain("1 transaction(s) have no DTPOSTED and are dated by DTUSER");
  });
});

describe("ofx: broken input", () => {
  it.each([
    ["a word as amount", [{ ...DEBIT, TRNAMT: "abc" }], /"abc" is not an amount/, 12, "TRNAMT"],
    ["digit grouping", [{ ...DEBIT, TRNAMT: "1,234.56" }], /"1,234.56" is not an amount/, 12, "TRNAMT"],
    ["no amount", [{ TRNTYPE: "DEBIT", DTPOSTED: "20240105", FITID: "X" }], /no amount \(TRNAMT\)/, 9, "TRNAMT"],
    ["an impossible date", [{ ...DEBIT, DTPOSTED: "20240230" }], /"20240230" is not an OFX date/, 11, "DTPOSTED"],
    ["a date that is no date", [{ ...DEBIT, DTPOSTED: "05.01.2024" }], /"05.01.2024" is not an OFX date/, 11, "DTPOSTED"],
    ["no date at all", [{ TRNTYPE: "DEBIT", TRNAMT: "1", FITID: "X" }], /no date \(DTPOSTED\)/, 9, "DTPOSTED"],
  ])("%s names line and field", (_label, transactions, message, line, field) => {
    const error = parseError(sgml(transactions));
    expect(error.message).toMatch(message);
    expect(error.line).toBe(line);
    expect(error.field).toBe(field);
  });

  it("a currency that is not an ISO code", () => {
    const error = parseError(sgml([DEBIT], "EURO"));
    expect(error.message).toMatch(/currency "EURO" is not a three-letter ISO code/);
    expect([error.line, error.field]).toEqual([7, "CURDEF"]);
  });

  it("a truncated file names the aggregate left open", () => {
    const text = sgml([DEBIT, DEBIT]);
    const error = parseError(text.slice(0, text.indexOf("<TRNAMT>", text.indexOf("<TRNAMT>") + 1)));
    expect(error.message).toMatch(/the file ends before <\/STMTTRN> \(opened on line 15\): it looks truncated/);
    expect(error.field).toBe("STMTTRN");
  });

  it("a closing tag for an element that is not open", () => {
    const error = parseError(sgml([DEBIT]).replace("</BANKTRANLIST>", "</BANKTRANLIST></STMTTRN>"));
    expect(error.message).toMatch(/<\/STMTTRN> closes an element that is not open/);
    expect(error.line).toBe(15);
  });

  it("not OFX, broken tags, hostile nesting", () => {
    expect(parseError("Date,Amount\n2024-01-01,5\n").message).toMatch(/no <OFX> element/);
    expect(parseError(sgml([DEBIT]).replace("<FITID>", "<FIT ID>")).message).toMatch(/"<FIT ID>" is not a valid tag/);
    expect(parseError(sgml([DEBIT]).replace("<TRNAMT>", "<TRN AMT")).message).toMatch(/is not a valid tag/);
    expect(parseError(`<OFX>${"<A>".repeat(100)}`).message).toMatch(/nested more than 64 deep/);
  });

  it("refuses files over maxBytes and more transactions than maxRecords", () => {
    expect(parseError(sgml([DEBIT]), { maxBytes: 64 }).message).toMatch(/more than the limit of 64/);
    const error = parseError(sgml([DEBIT, DEBIT, DEBIT]), { maxRecords: 2 });
    expect(error.message).toMatch(/more than 2 transactions/);
    expect(error.line).toBe(21);
  });

  it("refuses DOCTYPE and ENTITY declarations (XXE, billion laughs) in OFX 2", () => {
    const xxe = `<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<!DOCTYPE OFX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240101</DTPOSTED><TRNAMT>-1</TRNAMT><MEMO>&xxe;</MEMO></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>`;
    const error = parseError(xxe);
    expect(error.message).toMatch(/declares a DOCTYPE or ENTITY; OFX never needs one, so it is refused/);
    expect(error.line).toBe(3);
    const laughs = xxe.replace(/<!DOCTYPE[^\n]*/, '<!DOCTYPE OFX [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>');
    expect(parseError(laughs).message).toMatch(/DOCTYPE or ENTITY/);
  });
});

describe("ofx: detect", () => {
  it("recognises every fixture by its head", () => {
    for (const [file] of SAMPLES) expect(ofxParser.detect(new TextDecoder().decode(read(file).subarray(0, 4096))), file).toBe(true);
  });

  it("does not claim camt, CSV or MT940", () => {
    expect(ofxParser.detect(`<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">`)).toBe(false);
    expect(ofxParser.detect("Date,Description,Amount\n")).toBe(false);
    expect(ofxParser.detect(":20:STARTUMS\n:25:12345678/0001\n")).toBe(false);
  });
});

describe("ofx: fuzz", () => {
  it("1,000 mutated samples: only ParseError, each under 2 s", () => {
    const { slowestMs, parsed, refused } = fuzzParser((bytes) => ofxParser.parse(bytes), SAMPLES.map(([file]) => read(file)), 1000);
    expect(parsed + refused).toBe(1000);
    expect(slowestMs).toBeLessThan(2000);
  });
});
