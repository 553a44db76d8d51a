import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzParser } from "@/test/parser-fuzz";
import { money, sum } from "@/server/money";
import { ParseError, type CanonicalRecord } from "./canonical";
import { paypalSettlementParser, paypalTransactionsParser, typeOfEventCode } from "./paypal";

const dir = path.resolve(import.meta.dirname, "../../../test/fixtures/psp");
const bytesOf = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const textOf = (name: string) => readFileSync(path.join(dir, name), "utf8");
const enc = (text: string) => new TextEncoder().encode(text);
const total = (records: CanonicalRecord[]) => sum(records.map((r) => r.amount));

const STL_0314 = "paypal/STL-20250314.01.009.CSV";
const STL_0602 = "paypal/STL-20250602.01.009.CSV";
const TRR_0314 = "paypal/TRR-20250314.01.011.CSV";
const TRR_0315 = "paypal/TRR-20250315.01.011.TXT";

/** The test's own reading of the SB rows: field values by CH name, amounts ÷ 100 as the spec says. */
function bodyRows(name: string): Record<string, string>[] {
  const separator = name.endsWith(".TXT") ? "\t" : ",";
  const lines = textOf(name).replace(/^\uFEFF/, "").split("\r\n");
  const split = (l: string) => l.split(separator).map((v) => v.replace(/^"|"$/g, ""));
  const rows: Record<string, string>[] = [];
  let names: string[] = [];
  for (const l of lines) {
    const fields = split(l);
    if (fields[0] === "CH") names = fields;
    if (fields[0] === "SB") rows.push(Object.fromEntries(fields.map((v, i) => [names[i], v])));
  }
  return rows;
}
const signedMajor = (dc: string, digits: string) => money(digits || "0").div(100).mul(dc === "DR" ? -1 : 1);
const netOf = (r: Record<string, string>) => signedMajor(r["Transaction  Debit or Credit"], r["Gross Transaction Amount"]).plus(signedMajor(r["Fee Debit or Credit"], r["Fee Amount"]));

/** The fixture with one line replaced (line numbers 1-based, as in ParseError). */
function edited(name: string, line: number, replace: (text: string) => string): Uint8Array {
  const lines = textOf(name).split("\r\n");
  lines[line - 1] = replace(lines[line - 1]);
  return enc(lines.join("\r\n"));
}
const lineOf = (name: string, start: string) => textOf(name).replace(/^\uFEFF/, "").split("\r\n").findIndex((l) => l.startsWith(start)) + 1;

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("paypal_settlement (STL, written from PayPal's Settlement Report spec, see ATTRIBUTION.md)", () => {
  it("STL 2025-03-14: 8 transactions → 8 gross + 5 fee records, one statement per currency that reconciles", () => {
    const rows = bodyRows(STL_0314);
    expect(rows).toHaveLength(8);
    const parsed = paypalSettlementParser.parse(bytesOf(STL_0314));
    expect(parsed.records).toHaveLength(13);
    expect(parsed.records.filter((r) => r.externalId?.endsWith(":fee"))).toHaveLength(5);
    expect(parsed.statements).toEqual([
      { statementId: "LQ7V3XZ8K2M9N 2025-03-14", account: "LQ7V3XZ8K2M9N", currency: "USD", opening: { date: "2025-03-14", amount: "1530.2" }, closing: { date: "2025-03-14", amount: "1547.62" }, lines: 10 },
      { statementId: "LQ7V3XZ8K2M9N 2025-03-14", account: "LQ7V3XZ8K2M9N", currency: "EUR", opening: { date: "2025-03-14", amount: "8.75" }, closing: { date: "2025-03-14", amount: "8.75" }, lines: 3 },
    ]);
    parsed.statements.forEach((s, i) => {
      const lines = parsed.records.filter((r) => r.statementIndex === i);
      expect(lines).toHaveLength(s.lines);
      expect(money(s.opening!.amount).plus(total(lines)).eq(s.closing!.amount)).toBe(true);
    });
    expect(parsed.warnings).toEqual([]);
  });

  it("Σ records per currency equals the net of the raw SB rows (gross ± fee, ÷ 100)", () => {
    for (const name of [STL_0314, STL_0602]) {
      const rows = bodyRows(name);
      const records = paypalSettlementParser.parse(bytesOf(name)).records;
      for (const currency of new Set(rows.map((r) => r["Gross Transaction Currency"]))) {
        const net = sum(rows.filter((r) => r["Gross Transaction Currency"] === currency).map(netOf));
        expect(total(records.filter((r) => r.currency === currency)).eq(net)).toBe(true);
      }
    }
  });

  it("keeps the fields of the lines and maps the event codes", () => {
    const records = paypalSettlementParser.parse(bytesOf(STL_0314)).records;
    const byId = (id: string) => records.find((r) => r.externalId === id)!;
    expect(byId("4DK81932XM705310F")).toMatchObject({
      bookedDate: "2025-03-14",
      valueDate: null,
      amount: "59.99",
      currency: "USD",
      type: "payment",
      bankTransactionCode: "T0006",
      reference: "INV-30411",
      counterpartyAccount: "buyer-a@example.com",
      description: "order 30411",
      statementIndex: 0,
    });
    expect(byId("4DK81932XM705310F").raw).toMatchObject({ "Column Type": "SB", "Transaction ID": "4DK81932XM705310F", "Gross Transaction Amount": "5999" });
    expect(byId("4DK81932XM705310F:fee")).toMatchObject({ amount: "-2.04", type: "fee", currency: "USD" });
    expect(byId("2RT40577LC1885604")).toMatchObject({ amount: "-59.99", type: "refund" });
    expect(byId("2RT40577LC1885604:fee")).toMatchObject({ amount: "1.74", type: "fee" });
    expect(byId("9CX66210NB3390145")).toMatchObject({ amount: "-25", type: "chargeback" });
    expect(byId("9CX66210NB3390145:fee").amount).toBe("-20");
    expect(byId("0MW77345TA5512718")).toMatchObject({ amount: "-43.12", currency: "EUR", type: "transfer", statementIndex: 1 });
    expect(byId("3JS19882PD0643529")).toMatchObject({ amount: "46.5", currency: "USD", type: "transfer", statementIndex: 0 });
    expect(byId("6EB40153VK9927306")).toMatchObject({ amount: "-100", type: "payout", description: "Withdrawal to checking ****4417" });
  });

  it("STL 2025-06-02: two accounts, two sections, a negative (DR) balance", () => {
    const parsed = paypalSettlementParser.parse(bytesOf(STL_0602));
    expect(parsed.records).toHaveLength(8);
    expect(parsed.statements.map((s) => [s.account, s.currency, s.opening?.amount, s.closing?.amount, s.lines])).toEqual([
      ["LQ7V3XZ8K2M9N", "USD", "100", "103.97", 3],
      ["8HZK4W2RQ6TJP", "USD", "-5", "-43.74", 5],
    ]);
    parsed.statements.forEach((s, i) => {
      expect(money(s.opening!.amount).plus(total(parsed.records.filter((r) => r.statementIndex === i))).eq(s.closing!.amount)).toBe(true);
    });
    expect(parsed.records.find((r) => r.externalId === "2VH88602ZB1147735")).toMatchObject({ amount: "-3", type: "fee", bankTransactionCode: "T0100" });
  });

  it("refuses footers that do not match the transactions, naming the footer line and field", () => {
    const sf = lineOf(STL_0314, '"SF","USD"');
    const cases: [Uint8Array, number, string][] = [
      [edited(STL_0314, sf, (l) => l.replace('"USD",22649', '"USD",22650')), sf, "Total Gross Amount Credit"],
      [edited(STL_0314, sf, (l) => l.replace(",174,2582,", ",174,2583,")), sf, "Total Fee Amount Debit"],
      [edited(STL_0314, lineOf(STL_0314, '"SC"'), () => '"SC",7'), lineOf(STL_0314, '"SC"'), "Record Count"],
      [edited(STL_0314, lineOf(STL_0314, '"RF","EUR"'), (l) => l.replace("4312", "4313")), lineOf(STL_0314, '"RF","EUR"'), "Total Gross Amount Debit"],
      [edited(STL_0314, lineOf(STL_0314, '"RC"'), () => '"RC",9'), lineOf(STL_0314, '"RC"'), "Record Count"],
      // An SB amount changed: the section footer no longer adds up.
      [edited(STL_0314, 5, (l) => l.replace(",5999,", ",5998,")), sf, "Total Gross Amount Credit"],
    ];
    for (const [bytes, line, field] of cases) expect(parseError(() => paypalSettlementParser.parse(bytes))).toMatchObject({ line, field });
    expect(parseError(() => paypalSettlementParser.parse(edited(STL_0314, sf, (l) => l.replace('"USD",22649', '"USD",22650')))).message)
      .toContain("section footer says Total Gross Amount Credit USD is 22650 (226.5) but the transactions add up to 22649 (226.49)");
  });

  it("refuses a file whose footers went missing", () => {
    const without = (start: string) => enc(textOf(STL_0314).split("\r\n").filter((l) => !l.startsWith(start)).join("\r\n"));
    expect(parseError(() => paypalSettlementParser.parse(without('"SF","EUR"')))).toMatchObject({ line: lineOf(STL_0314, '"SC"') - 1 });
    expect(parseError(() => paypalSettlementParser.parse(without('"SF","EUR"'))).message).toContain("EUR transactions but no SF footer");
    expect(parseError(() => paypalSettlementParser.parse(without('"FF"'))).message).toContain("no FF file footer");
    const truncated = textOf(STL_0314).split("\r\n").slice(0, 8).join("\r\n");
    expect(parseError(() => paypalSettlementParser.parse(enc(truncated))).message).toContain("no FF file footer");
  });

  it("refuses bad SB fields, naming line and field", () => {
    const cases: [(l: string) => string, string][] = [
      [(l) => l.replace(",5999,", ",59.99,"), "Gross Transaction Amount"],
      [(l) => l.replace(',"CR",5999', ',"XX",5999'), "Transaction Debit or Credit"],
      [(l) => l.replace('"T0006"', '"PAYMENT"'), "Transaction Event Code"],
      [(l) => l.replace(',"USD","DR",204', ',"USD","",204'), "Fee Debit or Credit"],
      [(l) => l.replace(',"USD","DR"', ',"US$","DR"'), "Gross Transaction Currency"],
      [(l) => l.replace("2025/03/14 08:02:19", "2025/02/30 08:02:19"), "Transaction Completion Date"],
      [(l) => l.replace('"SB","4DK81932XM705310F"', '"SB",""'), "Transaction ID"],
      [(l) => l.replace('"SB"', '"ZZ"'), "Column Type"],
    ];
    for (const [change, field] of cases) expect(parseError(() => paypalSettlementParser.parse(edited(STL_0314, 5, change)))).toMatchObject({ line: 5, field });
    expect(parseError(() => paypalSettlementParser.parse(edited(STL_0314, 4, () => '"XH"')))).toMatchObject({ line: 4, field: "Column Type" });
    expect(parseError(() => paypalSettlementParser.parse(edited(STL_0314, 4, (l) => l.replace('"Fee Amount",', ""))))).toMatchObject({ line: 4, field: "Fee Amount" });
    expect(parseError(() => paypalSettlementParser.parse(enc('"FH",01\r\n')))).toMatchObject({ line: 1, field: "Column Type" });
    expect(parseError(() => paypalSettlementParser.parse(enc("")))).toMatchObject({ line: 1 });
  });

  it("reads amounts with two implied decimals for every currency, as the spec says (10000 = 100 JPY)", () => {
    const text = textOf(STL_0314).replace(/"EUR"/g, '"JPY"');
    const records = paypalSettlementParser.parse(enc(text)).records.filter((r) => r.currency === "JPY");
    expect(records.map((r) => r.amount)).toEqual(["45", "-1.88", "-43.12"]);
  });

  it("detects STL and not TRR", () => {
    expect([STL_0314, STL_0602].map((n) => [paypalSettlementParser.detect(textOf(n)), paypalTransactionsParser.detect(textOf(n))])).toEqual([[true, false], [true, false]]);
    expect(paypalSettlementParser.detect(textOf("adyen/settlement_detail_report_batch_214.csv"))).toBe(false);
    expect(paypalSettlementParser.detect('"RH",2025/01/01 00:00:00 -0800,"A","X",009\n"CH","Subscription ID","Subscription Action Type"')).toBe(false);
  });

  it("honours maxBytes and maxRecords", () => {
    expect(parseError(() => paypalSettlementParser.parse(bytesOf(STL_0314), undefined, { maxBytes: 1000 })).message).toContain("over the 1000-byte limit");
    expect(parseError(() => paypalSettlementParser.parse(bytesOf(STL_0314), undefined, { maxRecords: 4 })).message).toContain("more than 4 records");
  });

  it("survives 1,000 fuzzed inputs with only ParseErrors", () => {
    const result = fuzzParser((b) => paypalSettlementParser.parse(b), [STL_0314, STL_0602].map(bytesOf), 1000);
    expect(result.parsed + result.refused).toBe(1000);
  });
});

describe("paypal_trr (TRR, written from PayPal's Transaction Detail Report spec, see ATTRIBUTION.md)", () => {
  it("TRR 2025-03-14: 7 transactions, footers checked over all of them, 3 that moved no money skipped", () => {
    expect(bodyRows(TRR_0314)).toHaveLength(7);
    const parsed = paypalTransactionsParser.parse(bytesOf(TRR_0314));
    expect(parsed.statements).toEqual([]);
    expect(parsed.warnings).toEqual([
      "1 authorisation transaction skipped: no money moved",
      "1 pending transaction skipped: no money moved",
      "1 denied transaction skipped: no money moved",
    ]);
    expect(parsed.records.map((r) => [r.externalId, r.type, r.amount])).toEqual([
      ["1AB23456CD7890123", "payment", "89.99"],
      ["1AB23456CD7890123:fee", "fee", "-2.91"],
      ["2EF34567GH8901234", "payment", "24.5"],
      ["2EF34567GH8901234:fee", "fee", "-1.01"],
      ["5QR67890ST1234567", "refund", "-24.5"],
      ["5QR67890ST1234567:fee", "fee", "0.71"],
      ["7YZ89012AB3456789", "payout", "-50"],
    ]);
    const moved = bodyRows(TRR_0314).filter((r) => r["Transactional Status"] === "S" && r["Transaction Event Code"] !== "T1300");
    expect(total(parsed.records).eq(sum(moved.map(netOf)))).toBe(true);
    expect(parsed.records[0]).toMatchObject({ counterpartyName: "Amara Nwosu", counterpartyAccount: "amara.nwosu@example.com", description: "Order WEB-77120", reference: "WEB-77120", statementIndex: null });
  });

  it("reads the tab-separated variant", () => {
    const parsed = paypalTransactionsParser.parse(bytesOf(TRR_0315));
    expect(parsed.records.map((r) => [r.externalId, r.type, r.amount, r.bookedDate])).toEqual([
      ["8CD90123EF4567890", "payment", "34.25", "2025-03-15"],
      ["8CD90123EF4567890:fee", "fee", "-1.29", "2025-03-15"],
      ["9GH01234IJ5678901", "chargeback", "-34.25", "2025-03-15"],
      ["9GH01234IJ5678901:fee", "fee", "-20", "2025-03-15"],
    ]);
  });

  it("checks TRR footers too", () => {
    const sf = lineOf(TRR_0314, '"SF"');
    expect(parseError(() => paypalTransactionsParser.parse(edited(TRR_0314, sf, (l) => l.replace(",71,", ",70,"))))).toMatchObject({ line: sf, field: "Total Fee Amount Credit" });
  });

  it("detects TRR (comma and tab) and not STL", () => {
    expect([TRR_0314, TRR_0315].map((n) => [paypalTransactionsParser.detect(textOf(n)), paypalSettlementParser.detect(textOf(n))])).toEqual([[true, false], [true, false]]);
  });

  it("survives 1,000 fuzzed inputs with only ParseErrors", () => {
    const result = fuzzParser((b) => paypalTransactionsParser.parse(b), [TRR_0314, TRR_0315].map(bytesOf), 1000);
    expect(result.parsed + result.refused).toBe(1000);
  });
});

describe("PayPal event codes", () => {
  it("maps T-code groups", () => {
    const codes = ["T0006", "T0100", "T0200", "T0300", "T0400", "T1107", "T1108", "T1110", "T1200", "T1201", "T1202", "T2101", "T9900"];
    expect(codes.map(typeOfEventCode)).toEqual(["payment", "fee", "transfer", "transfer", "payout", "refund", "fee", "other", "other", "chargeback", "chargeback", "other", "other"]);
  });
});
