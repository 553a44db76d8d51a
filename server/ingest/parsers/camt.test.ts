import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sum } from "../../money";
import { fuzzParser } from "../../../test/parser-fuzz";
import { ParseError, type ParsedFile } from "./canonical";
import { camtParser } from "./camt";

const FIXTURES = path.resolve(import.meta.dirname, "../../../test/fixtures/statements/camt");
const read = (file: string) => new Uint8Array(readFileSync(path.join(FIXTURES, file)));
const parse = (file: string) => camtParser.parse(read(file));
const encode = (text: string) => new TextEncoder().encode(text);

/** opening + Σ amounts = closing for one statement, or null when it lacks either balance. */
function reconciles(parsed: ParsedFile, index: number): boolean | null {
  const { opening, closing } = parsed.statements[index];
  if (!opening || !closing) return null;
  const movements = sum(parsed.records.filter((r) => r.statementIndex === index).map((r) => r.amount));
  return movements.plus(opening.amount).eq(closing.amount);
}

/**
 * Every copied fixture with SOURCES.md's counts (statements, Ntry elements) and verdict:
 * "yes" every statement reconciles, "no" none does, "n/a" SOURCES checks nothing (camt.052/054).
 * One deviation, marked "none": moov_statement_1 has only available balances (OPAV/CLAV), which
 * SOURCES used for its check; the parser reports booked balances only, so it has none.
 */
const SAMPLES: ReadonlyArray<[file: string, format: string, statements: number, entries: number, reconcile: "yes" | "no" | "n/a" | "none"]> = [
  ["genkgo_camt052.v1.xml", "camt052", 1, 1, "n/a"],
  ["genkgo_camt052.v2.xml", "camt052", 1, 1, "n/a"],
  ["genkgo_camt052.v4.xml", "camt052", 1, 1, "n/a"],
  ["genkgo_camt052.v6.xml", "camt052", 1, 1, "n/a"],
  ["genkgo_camt052.v8.xml", "camt052", 1, 1, "n/a"],
  ["genkgo_camt053.v2.all-balance-types.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v2.five.decimals.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v2.minimal.ultimate.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v2.minimal.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v2.multi.statement.xml", "camt053", 2, 2, "yes"],
  ["genkgo_camt053.v2.with-party-ids.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v3.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v4.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt053.v8.xml", "camt053", 1, 1, "no"],
  ["genkgo_camt054.v2.xml", "camt054", 1, 1, "n/a"],
  ["genkgo_camt054.v4.xml", "camt054", 1, 1, "n/a"],
  ["genkgo_camt054.v8.xml", "camt054", 1, 1, "n/a"],
  ["moov_fi_camt.052_sample.xml", "camt052", 2, 2, "n/a"],
  ["moov_fi_camt.053_sample.xml", "camt053", 1, 10, "yes"],
  ["moov_fi_camt.054_sample.xml", "camt054", 1, 6, "n/a"],
  ["moov_postfinance_camt.052.xml", "camt052", 1, 2, "n/a"],
  ["moov_postfinance_camt.053.001.04.xml", "camt053", 1, 5, "no"],
  ["moov_postfinance_camt.054.xml", "camt054", 1, 1, "n/a"],
  ["moov_postfinance_camt.054_esr.xml", "camt054", 1, 2, "n/a"],
  ["moov_statement_1.camt.053.001.02.xml", "camt053", 1, 4, "none"],
  ["subite_lt_052/2024-03-11.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-12.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-13.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-14.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-15.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-16.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-17.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-18.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-19.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_052/2024-03-20.xml", "camt052", 1, 0, "n/a"],
  ["subite_lt_054/2024-03-18.xml", "camt054", 1, 1, "n/a"],
  ["subite_lt_054/2024-04-18.xml", "camt054", 1, 1, "n/a"],
  ["subite_lt_054/2024-09-02.xml", "camt054", 1, 1, "n/a"],
  ["subite_lt_daily_053/2024-03-07.xml", "camt053", 2, 3, "yes"],
  ["subite_lt_daily_053/2024-08-14.xml", "camt053", 2, 6, "yes"],
  ["subite_lt_daily_053/2024-08-15.xml", "camt053", 2, 8, "yes"],
  ["subite_lt_daily_053/2024-08-16.xml", "camt053", 2, 7, "yes"],
  ["subite_lt_daily_053/2024-08-19.xml", "camt053", 2, 7, "yes"],
  ["subite_lt_daily_053/2024-08-20.xml", "camt053", 2, 5, "yes"],
  ["subite_lt_daily_053/2024-08-21.xml", "camt053", 2, 8, "yes"],
  ["subite_lt_daily_053/2024-08-22.xml", "camt053", 2, 11, "yes"],
  ["subite_lt_daily_053/2024-08-23.xml", "camt053", 2, 8, "yes"],
  ["subite_lt_daily_053/2024-08-26.xml", "camt053", 2, 5, "yes"],
  ["subite_lt_daily_053/2024-08-27.xml", "camt053", 2, 6, "yes"],
  ["subite_lt_daily_053/2024-08-28.xml", "camt053", 2, 9, "yes"],
  ["subite_lt_daily_053/2024-08-29.xml", "camt053", 1, 10, "yes"],
  ["subite_lt_daily_053/2024-08-30.xml", "camt053", 1, 5, "yes"],
  ["subite_lt_daily_053/2024-09-02.xml", "camt053", 1, 11, "yes"],
  ["subite_lt_daily_053/2024-09-03.xml", "camt053", 1, 5, "yes"],
  ["subite_lt_daily_053/2024-09-04.xml", "camt053", 1, 9, "yes"],
  ["subite_lt_daily_053/2024-09-05.xml", "camt053", 1, 7, "yes"],
  ["subite_lt_daily_053/2024-09-06.xml", "camt053", 1, 4, "yes"],
  ["subite_lt_daily_053/2024-09-09.xml", "camt053", 1, 9, "yes"],
  ["subite_lt_daily_053/2024-09-10.xml", "camt053", 1, 8, "yes"],
  ["subite_other/BE68793230773034-202411.xml", "camt053", 1, 268, "yes"],
  ["subite_other/account_statement.xml", "camt053", 1, 3, "yes"],
];

/** Entries whose Sts says they are not booked (read from the files): skipped, so not records. */
const NOT_BOOKED: Record<string, { count: number; status: string }> = {
  "genkgo_camt052.v4.xml": { count: 1, status: "PDNG" },
  "genkgo_camt052.v6.xml": { count: 1, status: "PDNG" },
  "moov_fi_camt.052_sample.xml": { count: 1, status: "PDNG" },
  "moov_fi_camt.054_sample.xml": { count: 1, status: "INFO" },
  "subite_lt_054/2024-03-18.xml": { count: 1, status: "INFO" },
  "subite_lt_054/2024-04-18.xml": { count: 1, status: "INFO" },
  "subite_lt_054/2024-09-02.xml": { count: 1, status: "INFO" },
};

describe("camt: every fixture against SOURCES.md", () => {
  it("covers every schema version and every source folder", () => {
    const versions = new Set(SAMPLES.map(([file]) => /camt\.05\d\.001\.\d\d/.exec(readFileSync(path.join(FIXTURES, file), "utf8"))?.[0]));
    expect([...versions].sort()).toEqual([
      "camt.052.001.01", "camt.052.001.02", "camt.052.001.04", "camt.052.001.06", "camt.052.001.08",
      "camt.053.001.02", "camt.053.001.03", "camt.053.001.04", "camt.053.001.08",
      "camt.054.001.02", "camt.054.001.04", "camt.054.001.08", "camt.054.001.10",
    ]);
    expect(SAMPLES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(SAMPLES)("%s: %s, %i statement(s), %i entries, reconciles: %s", (file, format, statements, entries, reconcile) => {
    const parsed = parse(file);
    const skipped = NOT_BOOKED[file];
    expect(parsed.format).toBe(format);
    expect(parsed.statements).toHaveLength(statements);
    expect(parsed.records).toHaveLength(entries - (skipped?.count ?? 0));
    if (skipped) expect(parsed.warnings.join("\n")).toContain(`not booked (${skipped.count} ${skipped.status})`);
    parsed.statements.forEach((statement, i) => {
      expect(statement.lines).toBe(parsed.records.filter((r) => r.statementIndex === i).length);
      const verdict = reconciles(parsed, i);
      if (reconcile === "yes") expect(verdict).toBe(true);
      if (reconcile === "no") expect(verdict).toBe(false);
      if (reconcile === "none") expect(verdict).toBeNull();
    });
  });

  it("counts every Ntry: records plus skipped unbooked entries equal SOURCES' entries", () => {
    const records = SAMPLES.reduce((n, [file]) => n + parse(file).records.length, 0);
    const skipped = Object.values(NOT_BOOKED).reduce((n, s) => n + s.count, 0);
    expect(records + skipped).toBe(SAMPLES.reduce((n, [, , , entries]) => n + entries, 0));
  });
});

describe("camt: balances", () => {
  it("statements with only available balances (OPAV/CLAV) get no opening or closing", () => {
    const [statement] = parse("moov_statement_1.camt.053.001.02.xml").statements;
    expect(statement.opening).toBeNull();
    expect(statement.closing).toBeNull();
  });

  it("camt.052: two interim booked balances (ITBD) open and close the report, and tie out", () => {
    const parsed = parse("moov_fi_camt.052_sample.xml");
    expect(parsed.statements[0]).toMatchObject({ opening: null, closing: null, lines: 0 });
    expect(parsed.statements[1]).toMatchObject({
      statementId: "BANKRPTID1972009",
      opening: { date: "2009-10-30", amount: "1000" },
      closing: { date: "2009-10-30", amount: "1100" },
      lines: 1,
    });
    expect(reconciles(parsed, 1)).toBe(true);
  });

  it("camt.052: OPBD opens and the last ITBD closes; PostFinance's intraday ITBD does not tie out (SOURCES: n/a)", () => {
    const parsed = parse("moov_postfinance_camt.052.xml");
    expect(parsed.statements[0]).toMatchObject({ opening: { amount: "208509.19" }, closing: { amount: "207596.19" } });
    expect(reconciles(parsed, 0)).toBe(false);
  });

  it("camt.052: a single ITBD is the closing balance, with no opening", () => {
    const [statement] = parse("genkgo_camt052.v4.xml").statements;
    expect(statement).toMatchObject({ opening: null, closing: { date: "2016-06-14", amount: "10022.15" }, currency: "CHF" });
  });

  it("the sign comes from CdtDbtInd (the genkgo fixtures' DBIT closing balance)", () => {
    const [statement] = parse("genkgo_camt053.v2.minimal.xml").statements;
    expect(statement.opening).toEqual({ date: expect.any(String), amount: "18.15" });
    expect(statement.closing?.amount).toBe("-27");
  });

  it("daily LT statements chain: each account's closing is its opening on the next day", () => {
    const chain = SAMPLES.map(([file]) => file).filter((f) => f.startsWith("subite_lt_daily_053/") && f >= "subite_lt_daily_053/2024-08-14");
    expect(chain).toHaveLength(20);
    const lastClosing = new Map<string, string>();
    let links = 0;
    for (const file of chain) {
      for (const statement of parse(file).statements) {
        const account = statement.account ?? "";
        const previous = lastClosing.get(account);
        if (previous !== undefined) {
          expect(statement.opening?.amount, `${file} ${account}`).toBe(previous);
          links++;
        }
        lastClosing.set(account, statement.closing?.amount ?? "");
      }
    }
    expect(links).toBe(19 + 10);
  });
});

describe("camt: fields of real entries", () => {
  it("Finnish camt.053: FX credit with instructed amount, debtor, remittance", () => {
    const record = parse("moov_fi_camt.053_sample.xml").records.find((r) => r.externalId === "091029ACCTSTMTARCH06");
    expect(record).toMatchObject({
      bookedDate: "2009-10-29",
      valueDate: "2009-10-30",
      amount: "2120",
      currency: "EUR",
      originalAmount: "3200",
      originalCurrency: "USD",
      counterpartyName: "DEBTOR NAME",
      description: "INVOICE US20291092",
      bankTransactionCode: "PMNT/RCDT/XBCT",
      type: "payment",
    });
  });

  it("Finnish camt.053: creditor reference and a charges entry typed as fee", () => {
    const records = parse("moov_fi_camt.053_sample.xml").records;
    expect(records.find((r) => r.externalId === "091029ACCTSTMTARCH08")).toMatchObject({ amount: "10000", reference: "RF98123456789012", counterpartyName: "DEBTOR" });
    expect(records.find((r) => r.externalId === "091029ACCTSTMTARCH09")).toMatchObject({ amount: "-200", bankTransactionCode: "PMNT/RCDT/CHRG", type: "fee" });
  });

  it("camt.053.001.08: Dbtr/Pty/Nm, DbtrAcct IBAN, BookgDt as DtTm, account from Acct/Id/Othr", () => {
    const parsed = parse("genkgo_camt053.v8.xml");
    expect(parsed.statements[0]).toMatchObject({ statementId: "253EURNL26VAYB8060476890", account: "NL26VAYB8060476890", currency: "EUR" });
    expect(parsed.records[0]).toMatchObject({
      externalId: "AAAASESS-FP-CN_98765/01",
      bookedDate: "2014-12-31",
      valueDate: "2015-01-02",
      amount: "8.85",
      counterpartyName: "NAME NAME",
      counterpartyAccount: "NL56AGDH9619008421",
      reference: "4654654654654654",
    });
  });

  it("Belgian monthly statement: no AcctSvcrRef, so the single TxDtls' end-to-end id; creditor on debits", () => {
    const records = parse("subite_other/BE68793230773034-202411.xml").records;
    expect(records[0]).toMatchObject({
      externalId: "E2ESEKOZLQO41354223",
      bookedDate: "2024-11-29",
      amount: "50000",
      counterpartyName: "Stellar Ltd",
      counterpartyAccount: "BE91516952884376",
      reference: "E2ESEKOZLQO41354223",
      description: "Transfer ref HBAVHC9717",
      bankTransactionCode: "PMNT/RCDT/ESCT",
    });
    expect(records[1]).toMatchObject({ amount: "-131.7", counterpartyName: "Zeta NV", counterpartyAccount: "BE95731421172658" });
  });

  it("LT daily statement: batch entry stays one record, dated by its statement, proprietary code", () => {
    const parsed = parse("subite_lt_daily_053/2024-03-07.xml");
    expect(parsed.statements[0]).toMatchObject({ account: "LT625883379695428516", opening: { date: "2024-03-07", amount: "21081222.58" } });
    expect(parsed.records[0]).toMatchObject({ externalId: "REF000000025239", bookedDate: "2024-03-07", valueDate: null, amount: "828531.98", bankTransactionCode: "ATSISK", type: "other" });
    expect(parsed.records[0].raw).toMatchObject({ TxDtlsCount: "1", Ntry: { NtryDtls: [{ Btch: { NbOfTxs: "86" } }] } });
    expect(parsed.warnings).toContain("3 entries have no booking or value date and took the statement's date");
  });

  it("ESR batch credit: one record for five TxDtls, with the count kept in raw", () => {
    const [batch] = parse("moov_postfinance_camt.054_esr.xml").records;
    expect(batch).toMatchObject({ externalId: "07582000303KBMSU", amount: "1537", currency: "CHF", counterpartyName: null, reference: null });
    expect(batch.description).toMatch(/^SAMMELGUTSCHRIFT ESR/);
    expect(batch.raw.TxDtlsCount).toBe("5");
  });

  it("NOTPROVIDED end-to-end ids are no id; fee codes give fee", () => {
    const [fee] = parse("moov_statement_1.camt.053.001.02.xml").records;
    expect(fee).toMatchObject({ externalId: null, reference: null, amount: "-1.64", bankTransactionCode: "PMNT/MDOP/FEES", type: "fee", counterpartyAccount: "LT007180000000000001" });
  });

  it("camt.052.001.01: versioned message element, proprietary account id, Btch under Ntry", () => {
    const parsed = parse("genkgo_camt052.v1.xml");
    expect(parsed.statements[0]).toMatchObject({ account: "CH2801234000123456789", currency: "SEK" });
    expect(parsed.records[0]).toMatchObject({ externalId: "AAAASESS-FP-ACCR-01", amount: "-200000", bookedDate: "2007-10-18", description: "Credit" });
  });
});

/** A small camt.053 with one entry; line numbers: Bal OPBD 7, Bal CLBD 8, Ntry 9. */
function statement(over: { amount?: string; indicator?: string; booked?: string; accountCurrency?: string; opening?: string; entries?: number } = {}): string {
  const ntry = `<Ntry>
<Amt Ccy="EUR">${over.amount ?? "10.00"}</Amt>
<CdtDbtInd>${over.indicator ?? "DBIT"}</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>${over.booked ?? "2024-02-01"}</Dt></BookgDt>
</Ntry>`;
  const currency = over.accountCurrency === undefined ? "<Ccy>EUR</Ccy>" : over.accountCurrency;
  const balance = (code: string, amount: string) =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt${currency ? ' Ccy="EUR"' : ""}>${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-02-01</Dt></Dt></Bal>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<Stmt>
<Id>S1</Id>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>${currency}</Acct>
${balance("OPBD", over.opening ?? "100.00")}
${balance("CLBD", "90.00")}
${Array.from({ length: over.entries ?? 1 }, () => ntry).join("\n")}
</Stmt>
</BkToCstmrStmt>
</Document>`;
}

function parseError(text: string, limits?: { maxBytes?: number; maxRecords?: number }): ParseError {
  try {
    camtParser.parse(encode(text), undefined, limits);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("camt: broken input", () => {
  it("the hand-made statement itself parses and ties out", () => {
    const parsed = camtParser.parse(encode(statement()));
    expect(parsed.records[0]).toMatchObject({ amount: "-10", bookedDate: "2024-02-01", currency: "EUR" });
    expect(reconciles(parsed, 0)).toBe(true);
  });

  it.each([
    ["a comma amount", { amount: "10,00" }, /amount "10,00" is not an unsigned decimal number/, 9, "Ntry/Amt"],
    ["a signed amount", { amount: "-10.00" }, /is not an unsigned decimal number/, 9, "Ntry/Amt"],
    ["an unknown CdtDbtInd", { indicator: "CREDIT" }, /CdtDbtInd "CREDIT" is neither CRDT nor DBIT/, 9, "Ntry/CdtDbtInd"],
    ["an impossible booking date", { booked: "2024-02-30" }, /"2024-02-30" is not a valid date/, 9, "Ntry/BookgDt"],
    ["a bad opening balance", { opening: "1OO.00" }, /amount "1OO.00"/, 7, "Bal/Amt"],
    ["a bad account currency", { accountCurrency: "<Ccy>EURO</Ccy>" }, /currency "EURO" is not a three-letter ISO code/, 4, "Acct/Ccy"],
  ])("%s names line and field", (_label, over, message, line, field) => {
    const error = parseError(statement(over));
    expect(error.message).toMatch(message);
    expect(error.line).toBe(line);
    expect(error.field).toBe(field);
  });

  it("a statement with no currency anywhere is refused", () => {
    const text = statement({ accountCurrency: "" }).replace(' Ccy="EUR"', "");
    expect(parseError(text).field).toBe("Acct/Ccy");
  });

  it("malformed XML names the line", () => {
    const error = parseError(statement().replace("</Ntry>", "</Entry>"));
    expect(error.message).toMatch(/the XML is malformed/);
    expect(error.line).toBe(14);
  });

  it("another ISO 20022 message is refused", () => {
    const pain = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>`;
    expect(parseError(pain).message).toMatch(/holds no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn/);
    expect(parseError("<html><body/></html>").message).toMatch(/no <Document> element/);
  });

  it("refuses files over maxBytes and statements over maxRecords", () => {
    expect(parseError(statement(), { maxBytes: 100 }).message).toMatch(/more than the limit of 100/);
    const error = parseError(statement({ entries: 3 }), { maxRecords: 2 });
    expect(error.message).toMatch(/more than 2 entries/);
    expect(error.line).toBe(21);
  });
});

describe("camt: hostile XML", () => {
  it("refuses an external entity (XXE)", () => {
    const xxe = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>`;
    const error = parseError(xxe);
    expect(error.message).toMatch(/declares a DOCTYPE or ENTITY; statements never need one, so it is refused/);
    expect(error.line).toBe(2);
  });

  it("refuses entity expansion (billion laughs) without expanding it", () => {
    const lol = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join("\n");
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
<!ENTITY lol0 "lol">
${lol}
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>`;
    const started = performance.now();
    const error = parseError(laughs);
    expect(performance.now() - started).toBeLessThan(200);
    expect(error.message).toMatch(/DOCTYPE or ENTITY/);
    expect(error.line).toBe(2);
  });
});

describe("camt: detect", () => {
  it("recognises camt documents of every kind and version by their head", () => {
    for (const [file] of SAMPLES) expect(camtParser.detect(new TextDecoder().decode(read(file).subarray(0, 4096))), file).toBe(true);
  });

  it("does not claim other XML or text", () => {
    expect(camtParser.detect(`<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">`)).toBe(false);
    expect(camtParser.detect("OFXHEADER:100\nDATA:OFXSGML\n<OFX>")).toBe(false);
    expect(camtParser.detect(":20:STARTUMS\n:25:12345678/0001\n")).toBe(false);
  });
});

describe("camt: fuzz", () => {
  it("1,000 mutated samples: only ParseError, each under 2 s", () => {
    const samples = SAMPLES.map(([file]) => read(file)).filter((bytes) => bytes.length < 100_000);
    const { slowestMs, parsed, refused } = fuzzParser((bytes) => camtParser.parse(bytes), samples, 1000);
    expect(parsed + refused).toBe(1000);
    expect(slowestMs).toBeLessThan(2000);
  });
});
