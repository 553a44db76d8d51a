import { DEFAULT_LIMITS, ParseError, type CanonicalRecord, type ParsedStatement, type Parser, type TransactionType } from "./canonical";
import { clip, normaliseAmount } from "./decimal-text";
import { decodeText } from "./text";
import { money, sum } from "../../money";
import { rawOf, readCsv, requireCurrency, requireDate, tooManyRecords, uniqueId, type CsvRow } from "./stripe";

/*
 * Adyen "Settlement details report" (settlement_detail_report_batch_N.csv): every line that moved a
 * merchant account's payable balance in one settlement batch, closed by the MerchantPayout line that
 * sends the batch to the bank. Seen from the merchant: Net Credit (NC) − Net Debit (NC) in the net
 * (settlement) currency.
 *
 * Fees: Adyen has already netted the fees into Net Debit/Credit; Commission, Markup, Scheme Fees and
 * Interchange (all NC) say how much. Each line with fees becomes two records — the line before fees
 * (net + fees) and one fee record (−fees) — so the records of a line still add up to exactly its net,
 * and a batch's records add up to zero against its payout. The split uses only NC columns, never
 * Gross × Exchange Rate, so no FX rounding can break the sum. The four fee columns stay in raw.
 *
 * Statements: one per (merchant account, batch, net currency). When that group has a MerchantPayout
 * line its opening and closing balances are 0 (the batch nets to zero against its payout, which the
 * importer then checks like any statement); without one there is nothing to check and both are null.
 */

const FORMAT = "adyen_settlement";

const COLUMNS = {
  merchantAccount: "Merchant Account",
  pspReference: "Psp Reference",
  merchantReference: "Merchant Reference",
  paymentMethod: "Payment Method",
  creationDate: "Creation Date",
  bookingDate: "Booking Date",
  type: "Type",
  modificationReference: "Modification Reference",
  grossCurrency: "Gross Currency",
  grossDebit: "Gross Debit (GC)",
  grossCredit: "Gross Credit (GC)",
  netCurrency: "Net Currency",
  netDebit: "Net Debit (NC)",
  netCredit: "Net Credit (NC)",
  commission: "Commission (NC)",
  markup: "Markup (NC)",
  schemeFees: "Scheme Fees (NC)",
  interchange: "Interchange (NC)",
  paymentMethodVariant: "Payment Method Variant",
  modificationMerchantReference: "Modification Merchant Reference",
  batchNumber: "Batch Number",
} as const;
type Key = keyof typeof COLUMNS;
const REQUIRED: Key[] = ["merchantAccount", "pspReference", "creationDate", "type", "netCurrency", "netDebit", "netCredit"];
const FEE_COLUMNS: Key[] = ["commission", "markup", "schemeFees", "interchange"];

/** Settlement-detail line types (Type column, compared in lower case) → canonical type; others are "other". */
const ADYEN_TYPES: Record<string, TransactionType> = {
  settled: "payment",
  settledbulk: "payment",
  settledininstallments: "payment",
  settledexternally: "payment",
  settledexternallywithinfo: "payment",
  settledreversed: "payment",
  refunded: "refund",
  refundedbulk: "refund",
  refundedininstallments: "refund",
  refundedexternally: "refund",
  refundedexternallywithinfo: "refund",
  refundedreversed: "refund",
  chargeback: "chargeback",
  secondchargeback: "chargeback",
  chargebackreversed: "chargeback",
  chargebackcorrection: "chargeback",
  chargebackreversedcorrection: "chargeback",
  chargebackexternally: "chargeback",
  chargebackexternallywithinfo: "chargeback",
  chargebackreversedexternallywithinfo: "chargeback",
  fee: "fee",
  misccosts: "fee",
  invoicededuction: "fee",
  paymentcost: "fee",
  merchantpayout: "payout",
  balancetransfer: "transfer",
};

export const adyenSettlementParser: Parser = {
  name: FORMAT,
  version: "1",
  detect(head) {
    const header = (head.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/, 1)[0] ?? "").toLowerCase();
    return ["merchant account", "psp reference", "net debit (nc)", "net credit (nc)"].every((name) => header.includes(name));
  },
  parse(bytes, _options, partialLimits) {
    const limits = { ...DEFAULT_LIMITS, ...partialLimits };
    if (bytes.length > limits.maxBytes) throw new ParseError(FORMAT, `the file is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
    const rows = readCsv(decodeText(bytes, FORMAT).text, FORMAT, ",", limits.maxRecords + 1);
    if (rows.length === 0) throw new ParseError(FORMAT, "the file is empty", 1);
    const [headerRow, ...body] = rows;
    const columns = resolveColumns(headerRow);
    const batches = new BatchBook();
    const records: CanonicalRecord[] = [];
    const seenIds = new Map<string, number>();
    for (const row of body) {
      if (row.fields.every((f) => f.trim() === "")) continue;
      checkWidth(row, headerRow.fields.length);
      row.header = headerRow.fields;
      const line = readLine(row, columns);
      const statementIndex = batches.add(line);
      for (const record of lineRecords(line, row, statementIndex, uniqueId(line.externalId, seenIds))) {
        if (records.length >= limits.maxRecords) throw tooManyRecords(FORMAT, limits.maxRecords, row.line);
        records.push(record);
      }
    }
    return { format: FORMAT, parserVersion: "1", statements: batches.statements(), records, warnings: [] };
  },
};

type Columns = Partial<Record<Key, number>>;

function resolveColumns(header: CsvRow): Columns {
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const columns: Columns = {};
  for (const key of Object.keys(COLUMNS) as Key[]) {
    const index = names.indexOf(COLUMNS[key].toLowerCase());
    if (index >= 0) columns[key] = index;
  }
  const missing = REQUIRED.filter((k) => columns[k] === undefined);
  if (missing.length) {
    throw new ParseError(FORMAT, `the header has no ${missing.map((k) => `"${COLUMNS[k]}"`).join(", ")} column`, header.line, COLUMNS[missing[0]]);
  }
  return columns;
}

/** Adyen pads rows with empty Reserved columns; more fields than the header is only wrong when they hold data. */
function checkWidth(row: CsvRow, width: number): void {
  if (row.fields.slice(width).some((f) => f.trim() !== "")) {
    throw new ParseError(FORMAT, `the row has ${row.fields.length} fields but the header names ${width}`, row.line);
  }
}

type SettlementLine = {
  merchantAccount: string;
  batch: string;
  type: string;
  currency: string;
  /** Net credit − net debit: what the line did to the payable balance. */
  net: string;
  fees: string;
  bookedDate: string;
  externalId: string | null;
  original: { amount: string; currency: string } | null;
  cell: (key: Key) => string;
};

function readLine(row: CsvRow, columns: Columns): SettlementLine {
  const cell = (key: Key) => (columns[key] === undefined ? "" : (row.fields[columns[key]!] ?? "").trim());
  const type = cell("type");
  if (!type) throw new ParseError(FORMAT, "Type is empty", row.line, COLUMNS.type);
  const currency = requireCurrency(FORMAT, cell("netCurrency"), row.line, "Net Currency");
  const debit = optionalAmount(cell, "netDebit", row.line);
  const credit = optionalAmount(cell, "netCredit", row.line);
  if (debit === null && credit === null) throw new ParseError(FORMAT, "the line has neither a net debit nor a net credit", row.line, "Net Credit (NC)");
  const fees = sum(FEE_COLUMNS.map((k) => optionalAmount(cell, k, row.line) ?? "0"));
  const bookingDate = cell("bookingDate");
  return {
    merchantAccount: cell("merchantAccount"),
    batch: cell("batchNumber"),
    type,
    currency,
    net: plain(money(credit ?? "0").minus(debit ?? "0")),
    fees: plain(fees),
    bookedDate: bookingDate ? requireDate(FORMAT, bookingDate, row.line, "Booking Date") : requireDate(FORMAT, cell("creationDate"), row.line, "Creation Date"),
    externalId: externalIdOf(cell),
    original: originalOf(cell, currency, row.line),
    cell,
  };
}

/**
 * Psp Reference + Type + Modification Reference: a payment's psp reference recurs on its Settled,
 * Refunded and Chargeback lines. Lines without a psp reference (fees, payouts, corrections) are
 * only unique within their merchant account and batch, so those two are part of their id.
 */
function externalIdOf(cell: (key: Key) => string): string | null {
  const psp = cell("pspReference");
  const modification = cell("modificationReference");
  if (psp) return `${psp}:${cell("type")}:${modification}`;
  if (!modification) return null;
  return `${cell("merchantAccount")}:batch ${cell("batchNumber")}:${cell("type")}:${modification}`;
}

/** The gross in the shopper's currency, when Adyen settled it in another one. */
function originalOf(cell: (key: Key) => string, netCurrency: string, line: number): { amount: string; currency: string } | null {
  const currencyText = cell("grossCurrency");
  if (!currencyText) return null;
  const currency = requireCurrency(FORMAT, currencyText, line, "Gross Currency");
  if (currency === netCurrency) return null;
  const debit = optionalAmount(cell, "grossDebit", line);
  const credit = optionalAmount(cell, "grossCredit", line);
  if (debit === null && credit === null) return null;
  return { amount: plain(money(credit ?? "0").minus(debit ?? "0")), currency };
}

function lineRecords(line: SettlementLine, row: CsvRow, statementIndex: number, externalId: string | null): CanonicalRecord[] {
  const type = ADYEN_TYPES[line.type.toLowerCase()] ?? "other";
  const base = {
    bookedDate: line.bookedDate,
    valueDate: null,
    currency: line.currency,
    counterpartyName: null,
    counterpartyAccount: null,
    reference: line.cell("merchantReference") || line.cell("modificationMerchantReference") || null,
    bankTransactionCode: line.type,
    statementIndex,
    raw: rawOf(row),
  };
  const hasFees = !money(line.fees).isZero();
  const records: CanonicalRecord[] = [
    {
      ...base,
      externalId,
      amount: hasFees ? plain(money(line.net).plus(line.fees)) : line.net,
      description: describe(line),
      type,
      originalAmount: line.original?.amount ?? null,
      originalCurrency: line.original?.currency ?? null,
    },
  ];
  if (hasFees) {
    records.push({
      ...base,
      externalId: externalId === null ? null : `${externalId}:fee`,
      amount: plain(money(line.fees).neg()),
      description: `Adyen fees (commission, markup, scheme fees, interchange) on ${line.type} ${line.cell("pspReference")}`.trim(),
      type: "fee",
      originalAmount: null,
      originalCurrency: null,
    });
  }
  return records;
}

function describe(line: SettlementLine): string {
  const method = line.cell("paymentMethodVariant") || line.cell("paymentMethod");
  const modification = line.cell("pspReference") ? "" : line.cell("modificationReference");
  return [line.type, method && `(${method})`, modification].filter(Boolean).join(" ");
}

function optionalAmount(cell: (key: Key) => string, key: Key, line: number): string | null {
  const text = cell(key);
  if (text === "") return null;
  const amount = normaliseAmount(text);
  if (amount === null) throw new ParseError(FORMAT, `"${clip(text)}" is not an amount`, line, COLUMNS[key]);
  return amount;
}

/** Decimal → canonical string ("-0" is "0"). */
function plain(value: ReturnType<typeof money>): string {
  return value.isZero() ? "0" : value.toFixed();
}

/** Groups lines into one statement per merchant account, batch and currency, in order of first appearance. */
class BatchBook {
  private readonly groups: { key: string; merchantAccount: string; batch: string; currency: string; lines: number; firstDate: string; payoutDate: string | null }[] = [];
  private readonly index = new Map<string, number>();

  add(line: SettlementLine): number {
    const key = `${line.merchantAccount}\u0000${line.batch}\u0000${line.currency}`;
    let at = this.index.get(key);
    if (at === undefined) {
      at = this.groups.length;
      this.index.set(key, at);
      this.groups.push({ key, merchantAccount: line.merchantAccount, batch: line.batch, currency: line.currency, lines: 0, firstDate: line.bookedDate, payoutDate: null });
    }
    const group = this.groups[at];
    group.lines += line.fees !== "0" ? 2 : 1;
    if (line.bookedDate < group.firstDate) group.firstDate = line.bookedDate;
    if (line.type.toLowerCase() === "merchantpayout") group.payoutDate = line.bookedDate;
    return at;
  }

  statements(): ParsedStatement[] {
    return this.groups.map((g) => ({
      statementId: `${g.merchantAccount} batch ${g.batch}`.trim(),
      account: g.merchantAccount || null,
      currency: g.currency,
      opening: g.payoutDate ? { date: g.firstDate, amount: "0" } : null,
      closing: g.payoutDate ? { date: g.payoutDate, amount: "0" } : null,
      lines: g.lines,
    }));
  }
}
