import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzParser } from "@/test/parser-fuzz";
import { money, sum } from "@/server/money";
import { ParseError, type CanonicalRecord } from "./canonical";
import { adyenSettlementParser } from "./adyen";

const dir = path.resolve(import.meta.dirname, "../../../test/fixtures/psp");
const bytesOf = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const textOf = (name: string) => readFileSync(path.join(dir, name), "utf8");
const enc = (text: string) => new TextEncoder().encode(text);
const total = (records: CanonicalRecord[]) => sum(records.map((r) => r.amount));

const BATCH_214 = "adyen/settlement_detail_report_batch_214.csv";
const BATCH_57 = "adyen/settlement_detail_report_batch_57.csv";
const HEADER = textOf(BATCH_214).split("\r\n")[0];

/** The test's own reading of the fixture: these files have no quoted fields. */
function rowsOf(name: string): Record<string, string>[] {
  const [header, ...lines] = textOf(name).split(/\r?\n/).filter((l) => l !== "");
  const names = header.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i], v])));
}
const netOf = (r: Record<string, string>) => money(r["Net Credit (NC)"] || "0").minus(r["Net Debit (NC)"] || "0");

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("adyen_settlement (written from Adyen's Settlement details report docs, see ATTRIBUTION.md)", () => {
  it("batch 214: 10 lines, a fee record for each of the 6 lines with fees, one statement that nets to zero", () => {
    const rows = rowsOf(BATCH_214);
    expect(rows).toHaveLength(10);
    const parsed = adyenSettlementParser.parse(bytesOf(BATCH_214));
    expect(parsed.records).toHaveLength(16);
    expect(parsed.records.filter((r) => r.type === "fee" && r.externalId?.endsWith(":fee"))).toHaveLength(6);
    expect(parsed.statements).toEqual([
      { statementId: "NordlichtShopEU batch 214", account: "NordlichtShopEU", currency: "EUR", opening: { date: "2025-03-24", amount: "0" }, closing: { date: "2025-03-26", amount: "0" }, lines: 16 },
    ]);
    const [statement] = parsed.statements;
    expect(money(statement.opening!.amount).plus(total(parsed.records)).eq(statement.closing!.amount)).toBe(true);
    const payout = parsed.records.filter((r) => r.type === "payout");
    expect(payout).toHaveLength(1);
    expect(total(parsed.records.filter((r) => r.type !== "payout")).eq(money(payout[0].amount).neg())).toBe(true);
    expect(payout[0].amount).toBe("-52.66");
    expect(parsed.records.every((r) => r.statementIndex === 0)).toBe(true);
  });

  it("the records of every line add up to exactly its net credit − net debit", () => {
    for (const name of [BATCH_214, BATCH_57]) {
      const rows = rowsOf(name);
      const records = adyenSettlementParser.parse(bytesOf(name)).records;
      const byLine = new Map<unknown, CanonicalRecord[]>();
      for (const r of records) byLine.set(r.raw, [...(byLine.get(r.raw) ?? []), r]);
      expect(byLine.size).toBe(rows.length);
      [...byLine.values()].forEach((lineRecords, i) => expect(total(lineRecords).eq(netOf(rows[i]))).toBe(true));
      expect(total(records).eq(sum(rows.map(netOf)))).toBe(true);
    }
  });

  it("splits the netted fees off and keeps the shopper's currency", () => {
    const records = adyenSettlementParser.parse(bytesOf(BATCH_214)).records;
    const byId = (id: string) => records.find((r) => r.externalId === id)!;
    expect(byId("K8XQ2M4VN7PL3R5T:Settled:Q7WD9F2KX4HB6M1C")).toMatchObject({
      bookedDate: "2025-03-24",
      amount: "120",
      currency: "EUR",
      type: "payment",
      reference: "NS-2025-004711",
      bankTransactionCode: "Settled",
      description: "Settled (visaclassic)",
      statementIndex: 0,
    });
    expect(byId("K8XQ2M4VN7PL3R5T:Settled:Q7WD9F2KX4HB6M1C:fee")).toMatchObject({ amount: "-1.07", type: "fee" });
    expect(byId("K8XQ2M4VN7PL3R5T:Settled:Q7WD9F2KX4HB6M1C").raw).toMatchObject({ "Markup (NC)": "0.25", "Scheme Fees (NC)": "0.18", "Interchange (NC)": "0.64" });
    expect(byId("W9CP4R7GJ2NX5Q8D:Settled:H4KM8T2VB6RZ9W3X")).toMatchObject({ amount: "92.14", originalAmount: "100", originalCurrency: "USD" });
    expect(byId("W9CP4R7GJ2NX5Q8D:Settled:H4KM8T2VB6RZ9W3X:fee").amount).toBe("-1.23");
    expect(byId("B3HJ6T9WQ2ZC8N4F:Refunded:F8NQ3K6XW1JD4V7P")).toMatchObject({ amount: "-35.5", type: "refund", bookedDate: "2025-03-25" });
    expect(byId("B3HJ6T9WQ2ZC8N4F:Refunded:F8NQ3K6XW1JD4V7P:fee").amount).toBe("-0.1");
    expect(byId("K8XQ2M4VN7PL3R5T:Chargeback:Z1TB7H4MC9QK2X5R")).toMatchObject({ amount: "-120", type: "chargeback" });
    expect(byId("K8XQ2M4VN7PL3R5T:Chargeback:Z1TB7H4MC9QK2X5R:fee").amount).toBe("-15");
    expect(byId("NordlichtShopEU:batch 214:Fee:Transaction Fees March 2025")).toMatchObject({ amount: "-12.4", type: "fee", description: "Fee Transaction Fees March 2025" });
    expect(byId("NordlichtShopEU:batch 214:InvoiceDeduction:Invoice INV-2025-03-884201")).toMatchObject({ amount: "-49", type: "fee" });
    expect(byId("NordlichtShopEU:batch 214:DepositCorrection:Deposit correction (rolling reserve)")).toMatchObject({ amount: "-25", type: "other" });
  });

  it("batch 57: one statement per currency; USD and CAD net to zero against their payouts, GBP has no payout and no balances", () => {
    const parsed = adyenSettlementParser.parse(bytesOf(BATCH_57));
    expect(parsed.records).toHaveLength(15);
    expect(parsed.statements.map((s) => [s.currency, s.opening?.amount ?? null, s.closing?.amount ?? null, s.lines])).toEqual([
      ["USD", "0", "0", 8],
      ["CAD", "0", "0", 5],
      ["GBP", null, null, 2],
    ]);
    expect(parsed.statements.reduce((n, s) => n + s.lines, 0)).toBe(parsed.records.length);
    parsed.statements.forEach((statement, i) => {
      const lines = parsed.records.filter((r) => r.statementIndex === i);
      expect(lines).toHaveLength(statement.lines);
      expect(lines.every((r) => r.currency === statement.currency)).toBe(true);
      if (statement.opening && statement.closing) {
        expect(money(statement.opening.amount).plus(total(lines)).eq(statement.closing.amount)).toBe(true);
        const payout = lines.find((r) => r.type === "payout")!;
        expect(total(lines.filter((r) => r !== payout)).eq(money(payout.amount).neg())).toBe(true);
      }
    });
    expect(parsed.records.find((r) => r.bankTransactionCode === "ChargebackReversed")).toMatchObject({ amount: "60", type: "chargeback", currency: "USD" });
    expect(parsed.records.find((r) => r.bankTransactionCode === "MiscCosts")).toMatchObject({ amount: "-5", type: "fee" });
  });

  it("detects the settlement details report only", () => {
    expect(adyenSettlementParser.detect(textOf(BATCH_214))).toBe(true);
    expect(adyenSettlementParser.detect(`\uFEFF${textOf(BATCH_57)}`)).toBe(true);
    expect(adyenSettlementParser.detect(textOf("stripe/payout_reconciliation_itemized_5.csv"))).toBe(false);
    expect(adyenSettlementParser.detect("Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Booking Date,TimeZone,Main Currency,Main Amount,Record Type")).toBe(false);
  });

  it("numbers repeated ids within a file", () => {
    const line = "C,M,PSP1,ref,visa,2025-01-02 03:04:05,CET,Settled,MOD1,EUR,,10.00,1,EUR,,10.00,,,,,visa,,9";
    const records = adyenSettlementParser.parse(enc(`${HEADER}\n${line}\n${line}`)).records;
    expect(records.map((r) => r.externalId)).toEqual(["PSP1:Settled:MOD1", "PSP1:Settled:MOD1#2"]);
  });

  it("refuses broken files, naming line and field", () => {
    const ok = "C,M,PSP1,ref,visa,2025-01-02 03:04:05,CET,Settled,MOD1,EUR,,10.00,1,EUR,,9.80,0.20,,,,visa,,9";
    const broken = (change: (fields: string[]) => void) => {
      const fields = ok.split(",");
      change(fields);
      return `${HEADER}\n${ok}\n\n${fields.join(",")}`;
    };
    const cases: [string, number | undefined, string | undefined][] = [
      [broken((f) => (f[15] = "9.8O")), 4, "Net Credit (NC)"],
      [broken((f) => (f[16] = "abc")), 4, "Commission (NC)"],
      [broken((f) => (f[15] = "")), 4, "Net Credit (NC)"],
      [broken((f) => (f[13] = "")), 4, "Net Currency"],
      [broken((f) => (f[5] = "2025-13-02 03:04:05")), 4, "Creation Date"],
      [broken((f) => (f[7] = "")), 4, "Type"],
      [broken((f) => (f[9] = "E1")), 4, "Gross Currency"],
      [`${HEADER.replace("Net Debit (NC)", "Net Debit")}\n${ok}`, 1, "Net Debit (NC)"],
      ["", 1, undefined],
    ];
    for (const [csv, line, field] of cases) expect(parseError(() => adyenSettlementParser.parse(enc(csv)))).toMatchObject({ line, field });
    expect(parseError(() => adyenSettlementParser.parse(enc(`${HEADER}\n${ok}\n"unterminated,${ok}`)))).toMatchObject({ line: 3 });
  });

  it("honours maxBytes and maxRecords", () => {
    expect(parseError(() => adyenSettlementParser.parse(bytesOf(BATCH_214), undefined, { maxBytes: 500 })).message).toContain("over the 500-byte limit");
    expect(parseError(() => adyenSettlementParser.parse(bytesOf(BATCH_214), undefined, { maxRecords: 12 })).message).toContain("more than 12 records");
  });

  it("survives 1,000 fuzzed inputs with only ParseErrors", () => {
    const result = fuzzParser((b) => adyenSettlementParser.parse(b), [BATCH_214, BATCH_57].map(bytesOf), 1000);
    expect(result.parsed + result.refused).toBe(1000);
  });
});
