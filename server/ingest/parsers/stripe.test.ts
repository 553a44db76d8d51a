import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzParser } from "@/test/parser-fuzz";
import { money, sum } from "@/server/money";
import { ParseError, type CanonicalRecord } from "./canonical";
import { fromMinorUnits, readCsv, stripeBalanceParser, stripePaymentsParser } from "./stripe";

const dir = path.resolve(import.meta.dirname, "../../../test/fixtures/psp/stripe");
const bytesOf = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const textOf = (name: string) => readFileSync(path.join(dir, name), "utf8");
const enc = (text: string) => new TextEncoder().encode(text);

/** The test's own CSV split (not the parser's): quoted fields with doubled quotes, one row per line. */
function table(text: string): Record<string, string>[] {
  const split = (line: string) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1].replace(/^"|"$/g, "").replace(/""/g, '"'));
  const [header, ...rows] = text.split(/\r?\n/).filter((l) => l !== "");
  const names = split(header);
  return rows.map((r) => Object.fromEntries(split(r).map((v, i) => [names[i], v])));
}

const total = (records: CanonicalRecord[]) => sum(records.map((r) => r.amount));

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error("expected a ParseError");
}

describe("stripe_payments on the csv2ofx Dashboard exports (MIT)", () => {
  const files = ["csv2ofx_stripe-payments-all-columns.csv", "csv2ofx_stripe-payments-default-columns.csv"];

  it.each(files)("%s: 6 lines as SOURCES.md says, 5 paid charges → 5 payments + 5 fees", (name) => {
    expect(textOf(name).split("\n").filter((l) => l !== "")).toHaveLength(6);
    const parsed = stripePaymentsParser.parse(bytesOf(name));
    expect(parsed.records).toHaveLength(10);
    expect(parsed.records.filter((r) => r.type === "payment")).toHaveLength(5);
    expect(parsed.records.filter((r) => r.type === "fee")).toHaveLength(5);
    expect(parsed.statements).toEqual([]);
    expect(parsed.warnings).toEqual([]);
  });

  it.each(files)("%s: totals equal the sums of the raw columns", (name) => {
    const rows = table(textOf(name)).filter((r) => r.status === "Paid");
    const parsed = stripePaymentsParser.parse(bytesOf(name));
    const byType = (t: string) => total(parsed.records.filter((r) => r.type === t));
    expect(byType("payment").eq(sum(rows.map((r) => r.converted_amount)))).toBe(true);
    expect(byType("fee").eq(sum(rows.map((r) => r.fee)).neg())).toBe(true);
    expect(byType("refund").eq(sum(rows.map((r) => r.converted_amount_refunded)).neg())).toBe(true);
    const net = sum(rows.map((r) => money(r.converted_amount).minus(r.fee).minus(r.converted_amount_refunded)));
    expect(total(parsed.records).eq(net)).toBe(true);
    expect(total(parsed.records).toFixed(2)).toBe("107.72");
  });

  it("keeps the fields of the real lines", () => {
    const [first, firstFee] = stripePaymentsParser.parse(bytesOf(files[0])).records;
    expect(first).toMatchObject({
      externalId: "ch_1IGl9SBI9JK85yVZtjcU9OLJ",
      bookedDate: "2021-02-03",
      amount: "25",
      currency: "CAD",
      type: "payment",
      description: "Entry ID: 316, Product: Big Event 2021",
      counterpartyName: "Charles Darwin",
      originalAmount: null,
    });
    expect(first.raw.payment_intent_id).toBe("pi_1IGl9PBI9JK85yVZ1xLwlWQW");
    expect(firstFee).toMatchObject({ externalId: "ch_1IGl9SBI9JK85yVZtjcU9OLJ:fee", amount: "-1.03", type: "fee", currency: "CAD" });
    const last = stripePaymentsParser.parse(bytesOf(files[0])).records.at(-2)!;
    expect(last).toMatchObject({ externalId: "ch_1IVbR2BI9JK85yVZUofVdX4R", bookedDate: "2021-03-16", amount: "10", counterpartyName: "Big Customer", reference: "396BEA86-0001" });
  });

  it("skips failed and uncaptured charges with a count, books refunds and foreign charges", () => {
    const csv = [
      "id,created,amount,amount_refunded,currency,converted_amount,converted_amount_refunded,fee,converted_currency,status,captured",
      "ch_a,2024-05-01 10:00,10.00,0.00,eur,10.00,0.00,0.45,eur,Failed,false",
      "ch_b,2024-05-01 11:00,12.00,0.00,eur,12.00,0.00,0.47,eur,Failed,false",
      "ch_c,2024-05-01 12:00,30.00,0.00,eur,30.00,0.00,0.00,eur,Paid,false",
      "ch_d,2024-05-02 09:30,100.00,40.00,usd,91.20,36.48,3.01,eur,Partially refunded,true",
      "ch_e,2024-05-03 09:30,5000,0,jpy,30.45,0.00,1.16,eur,Paid,true",
    ].join("\n");
    const parsed = stripePaymentsParser.parse(enc(csv));
    expect(parsed.warnings).toEqual(["2 failed charges skipped: no money moved", "1 uncaptured charge skipped: no money moved"]);
    expect(parsed.records.map((r) => [r.externalId, r.type, r.amount, r.currency, r.originalAmount, r.originalCurrency])).toEqual([
      ["ch_d", "payment", "91.2", "EUR", "100", "USD"],
      ["ch_d:fee", "fee", "-3.01", "EUR", null, null],
      ["ch_d:refund", "refund", "-36.48", "EUR", "-40", "USD"],
      ["ch_e", "payment", "30.45", "EUR", "5000", "JPY"],
      ["ch_e:fee", "fee", "-1.16", "EUR", null, null],
    ]);
  });

  it("detects the payments export and not the balance reports", () => {
    for (const name of files) expect([stripePaymentsParser.detect(textOf(name)), stripeBalanceParser.detect(textOf(name))]).toEqual([true, false]);
  });

  it("refuses an unknown status, a bad amount, a bad date, naming line and field", () => {
    const header = "id,created,amount,amount_refunded,currency,fee,status";
    const cases: [string, number, string][] = [
      [`${header}\nch_a,2024-05-01,10.00,0,eur,0.3,Paid\nch_b,2024-05-01,10.00,0,eur,0.3,Mystery`, 3, "status"],
      [`${header}\nch_a,2024-05-01,ten,0,eur,0.3,Paid`, 2, "amount"],
      [`${header}\nch_a,2024-02-30,10.00,0,eur,0.3,Paid`, 2, "created"],
      [`${header}\nch_a,2024-05-01,10.00,0,eur,0.3,Paid\n\nch_b,2024-05-01,10.00,0,euro,0.3,Paid`, 4, "currency"],
    ];
    for (const [csv, line, field] of cases) expect(parseError(() => stripePaymentsParser.parse(enc(csv)))).toMatchObject({ line, field });
    expect(parseError(() => stripePaymentsParser.parse(enc("id,amount,currency\nch_a,1,eur"))).message).toContain("no created, fee, status column");
  });

  it("survives 1,000 fuzzed inputs with only ParseErrors", () => {
    const result = fuzzParser((b) => stripePaymentsParser.parse(b), files.map(bytesOf), 1000);
    expect(result.parsed + result.refused).toBe(1000);
  });
});

describe("stripe_balance (written from Stripe's report docs, see ATTRIBUTION.md)", () => {
  const files = ["balance_change_from_activity_itemized_3.csv", "payout_reconciliation_itemized_5.csv", "dashboard_balance_history.csv"];

  it.each([
    ["balance_change_from_activity_itemized_3.csv", 8, 6],
    ["payout_reconciliation_itemized_5.csv", 8, 6],
    ["dashboard_balance_history.csv", 5, 2],
  ])("%s: one gross record per balance transaction plus a fee record per non-zero fee, Σ records = Σ net", (name, transactions, fees) => {
    const rows = table(textOf(name));
    expect(rows).toHaveLength(transactions);
    const parsed = stripeBalanceParser.parse(bytesOf(name));
    expect(parsed.records).toHaveLength(transactions + fees);
    expect(parsed.records.filter((r) => r.externalId?.endsWith(":fee"))).toHaveLength(fees);
    for (const currency of new Set(parsed.records.map((r) => r.currency))) {
      const net = sum(rows.filter((r) => (r.currency ?? r.Currency).toUpperCase() === currency).map((r) => r.net ?? r.Net));
      expect(total(parsed.records.filter((r) => r.currency === currency)).eq(net)).toBe(true);
    }
  });

  it("maps reporting categories, signs fees and keeps the customer-facing currency", () => {
    const records = stripeBalanceParser.parse(bytesOf(files[0])).records;
    const byId = (id: string) => records.find((r) => r.externalId === id)!;
    expect(byId("txn_1PqT9uLk8Xw3aB4cJ1kL2mN3")).toMatchObject({
      bookedDate: "2025-03-03",
      valueDate: "2025-03-10",
      amount: "92.31",
      currency: "EUR",
      type: "payment",
      bankTransactionCode: "charge",
      description: "Order #10232, gift wrap",
      counterpartyName: "j.okafor@example.com",
      originalAmount: "100",
      originalCurrency: "USD",
    });
    expect(byId("txn_1PqT9uLk8Xw3aB4cJ1kL2mN3:fee")).toMatchObject({ amount: "-2.94", type: "fee", currency: "EUR" });
    expect(byId("txn_1PqW4vLk8Xw3aB4cP4qR5sT6")).toMatchObject({ amount: "-20", type: "refund" });
    expect(records.find((r) => r.externalId === "txn_1PqW4vLk8Xw3aB4cP4qR5sT6:fee")).toBeUndefined();
    expect(byId("txn_1PqZ7wLk8Xw3aB4cV7wX8yZ9")).toMatchObject({ amount: "-49.9", type: "chargeback" });
    expect(byId("txn_1PqZ7wLk8Xw3aB4cV7wX8yZ9:fee")).toMatchObject({ amount: "-20", type: "fee" });
    // A won dispute returns the dispute fee: a negative fee is money in.
    expect(byId("txn_1PrJ7zLk8Xw3aB4cN7oP8qR9:fee")).toMatchObject({ amount: "20", type: "fee" });
    expect(byId("txn_1PrC1xLk8Xw3aB4cB1cD2eF3")).toMatchObject({ amount: "-3.5", type: "fee" });
    expect(byId("txn_1PrF4yLk8Xw3aB4cH4iJ5kL6")).toMatchObject({ currency: "GBP", originalAmount: null });
    expect(byId("txn_1PrM0aLk8Xw3aB4cT0uV1wX2").description).toBe('Invoice 2025-031 "annual plan"');
  });

  it("payout reconciliation: the records grouped by automatic_payout_id add up to each payout", () => {
    const rows = table(textOf(files[1]));
    const records = stripeBalanceParser.parse(bytesOf(files[1])).records;
    const payouts = [...new Set(rows.map((r) => r.automatic_payout_id))];
    expect(payouts).toHaveLength(2);
    const totals = payouts.map((p) => total(records.filter((r) => r.reference === p)).toFixed(2));
    expect(totals).toEqual(payouts.map((p) => sum(rows.filter((r) => r.automatic_payout_id === p).map((r) => r.net)).toFixed(2)));
    expect(totals).toEqual(["125.43", "208.53"]);
  });

  it("Dashboard balance history: the payout is money out and the file nets to zero", () => {
    const records = stripeBalanceParser.parse(bytesOf(files[2])).records;
    expect(records.find((r) => r.type === "payout")).toMatchObject({ amount: "-112.61", externalId: "txn_1QcD3eMn4Op5Qr6sZ0aB1cD2", reference: "po_1QcD3eMn4Op5Qr6sYz0Ab1Cd", bookedDate: "2024-11-08" });
    expect(records.find((r) => r.bankTransactionCode === "stripe_fee" && !r.externalId?.endsWith(":fee"))).toMatchObject({ type: "fee", amount: "-2" });
    expect(total(records).isZero()).toBe(true);
  });

  it("reads a decimal-comma report (decimal_separator=,)", () => {
    const csv = 'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\ntxn_1,2025-01-02 03:04:05,eur,"10,50","0,40","10,10",charge';
    expect(stripeBalanceParser.parse(enc(csv)).records.map((r) => r.amount)).toEqual(["10.5", "-0.4"]);
  });

  it("detects the balance reports and not the payments export", () => {
    for (const name of files) expect([stripeBalanceParser.detect(textOf(name)), stripePaymentsParser.detect(textOf(name))]).toEqual([true, false]);
    expect(stripeBalanceParser.detect("Company Account,Merchant Account,Psp Reference")).toBe(false);
  });

  it("refuses broken files, naming line and field", () => {
    const header = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category";
    const ok = "txn_1,2025-01-02 03:04:05,eur,10.00,0.40,9.60,charge";
    const cases: [string, number | undefined, string | undefined][] = [
      [`${header}\n${ok}\ntxn_2,2025-01-02 03:04:05,eur,10.00,0.40,9.50,charge`, 3, "net"],
      [`${header}\n${ok}\ntxn_2,02/01/2025,eur,10.00,0.40,9.60,charge`, 3, "created_utc"],
      [`${header}\n${ok}\n,2025-01-02 03:04:05,eur,10.00,0.40,9.60,charge`, 3, "balance_transaction_id"],
      [`${header}\n${ok}\ntxn_2,2025-01-02 03:04:05,eur,1O.00,0.40,9.60,charge`, 3, "gross"],
      [`${header}\n${ok}\ntxn_2,2025-01-02 03:04:05,eur,10.00,0.40,9.60,"charge`, 3, undefined],
      [`${header}\n${ok},extra,extra`, 2, undefined],
      ["balance_transaction_id,created_utc,currency,gross,net\ntxn_1,2025-01-02,eur,10,10", 1, "fee"],
      ["", 1, undefined],
    ];
    for (const [csv, line, field] of cases) expect(parseError(() => stripeBalanceParser.parse(enc(csv)))).toMatchObject({ line, field });
  });

  it("honours maxBytes and maxRecords", () => {
    expect(parseError(() => stripeBalanceParser.parse(bytesOf(files[0]), undefined, { maxBytes: 100 })).message).toContain("over the 100-byte limit");
    expect(parseError(() => stripeBalanceParser.parse(bytesOf(files[0]), undefined, { maxRecords: 5 })).message).toMatch(/more than \d+ (rows|records)/);
    expect(parseError(() => stripeBalanceParser.parse(bytesOf(files[0]), undefined, { maxRecords: 10 })).message).toContain("more than 10 records");
  });

  it("survives 1,000 fuzzed inputs with only ParseErrors", () => {
    const result = fuzzParser((b) => stripeBalanceParser.parse(b), files.map(bytesOf), 1000);
    expect(result.parsed + result.refused).toBe(1000);
  });
});

describe("shared PSP helpers", () => {
  it("readCsv keeps quoted delimiters, doubled quotes and line breaks, and numbers rows by their first line", () => {
    const rows = readCsv('a,"b,1","say ""hi"""\r\n\r\n"multi\nline",x\rlast,', "t");
    expect(rows).toEqual([
      { line: 1, fields: ["a", "b,1", 'say "hi"'] },
      { line: 3, fields: ["multi\nline", "x"] },
      { line: 5, fields: ["last", ""] },
    ]);
    expect(readCsv("RH\tA\nSB\t1", "t", "\t").map((r) => r.fields)).toEqual([["RH", "A"], ["SB", "1"]]);
    expect(() => readCsv('a\n"open,\n', "t")).toThrow(/line 2/);
    expect(() => readCsv(`a,b\nc${",".repeat(5000)}`, "t")).toThrow(/more than 2000 fields.*line 2/);
  });

  it("fromMinorUnits converts exactly", () => {
    expect([fromMinorUnits("12345", 2), fromMinorUnits("5", 2), fromMinorUnits("-100", 2), fromMinorUnits("0", 2), fromMinorUnits("500", 0), fromMinorUnits("1230", 3), fromMinorUnits("00042", 2)])
      .toEqual(["123.45", "0.05", "-1", "0", "500", "1.23", "0.42"]);
    expect([fromMinorUnits("1.5", 2), fromMinorUnits("", 2), fromMinorUnits("-", 2)]).toEqual([null, null, null]);
    expect(fromMinorUnits("90071992547409931", 2)).toBe("900719925474099.31");
  });
});
