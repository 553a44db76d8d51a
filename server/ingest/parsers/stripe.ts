import { DEFAULT_LIMITS, ParseError, type CanonicalRecord, type ParseLimits, type Parser, type TransactionType } from "./canonical";
import { clip, isoDate, negate, normaliseAmount } from "./decimal-text";
import { decodeText } from "./text";
import { money } from "../../money";

/*
 * Stripe exports, seen from the merchant (the account holder): a customer's payment is money in at
 * its gross amount, Stripe's fee is a separate line out, refunds and payouts (balance → bank) are out.
 *
 * Two exports:
 * - stripe_balance: one row per balance transaction — the "Balance change from activity" itemized
 *   report (balance_change_from_activity.itemized.*), the payout reconciliation itemized report
 *   (payout_reconciliation.itemized.*) and the Dashboard's balance-history export (id, Type, Amount,
 *   Fee, Net…). Stripe documents gross/fee/net in these reports in MAJOR units of the currency
 *   ("Expressed in major units of the currency (e.g. dollars for USD, yen for JPY)"), with an optional
 *   decimal comma (run parameter decimal_separator). Minor-unit amounts belong to the API, not here.
 * - stripe_payments: the Dashboard payments (charges) export (id, created, amount, amount_refunded,
 *   converted_amount, fee, status…), amounts in major units too.
 *
 * The CSV reader and the minor-unit conversion at the bottom are shared by the other PSP parsers and
 * the webhook mapping (they live here because this was the first PSP module).
 */

const BALANCE = "stripe_balance";
const PAYMENTS = "stripe_payments";

// ---------------------------------------------------------------------------------------------
// stripe_balance
// ---------------------------------------------------------------------------------------------

/** Column aliases: report API names first, then the Dashboard balance-history export's names. */
const BALANCE_COLUMNS = {
  id: ["balance_transaction_id", "id"],
  created: ["created_utc", "created"],
  availableOn: ["available_on_utc", "available_on"],
  currency: ["currency"],
  gross: ["gross", "amount"],
  fee: ["fee"],
  net: ["net"],
  category: ["reporting_category", "type"],
  description: ["description"],
  payout: ["automatic_payout_id", "transfer"],
  customerFacingAmount: ["customer_facing_amount"],
  customerFacingCurrency: ["customer_facing_currency"],
  customerName: ["customer_name", "customer_description", "customer_email"],
} as const;

/**
 * reporting_category (and the older balance-transaction `type`) → canonical type. Categories not
 * listed (topups, Connect reserves, issuing, climate contributions…) become "other" and keep their
 * code in bankTransactionCode.
 */
const STRIPE_CATEGORY_TYPES: Record<string, TransactionType> = {
  charge: "payment",
  payment: "payment",
  partial_capture_reversal: "payment",
  payment_failure_refund: "refund",
  refund: "refund",
  payment_refund: "refund",
  refund_failure: "refund",
  payment_reversal: "refund",
  dispute: "chargeback",
  dispute_reversal: "chargeback",
  adjustment: "other",
  payout: "payout",
  payout_reversal: "payout",
  payout_cancel: "payout",
  payout_failure: "payout",
  fee: "fee",
  stripe_fee: "fee",
  application_fee: "fee",
  application_fee_refund: "fee",
  network_cost: "fee",
  tax: "fee",
  transfer: "transfer",
  transfer_reversal: "transfer",
  transfer_cancel: "transfer",
  transfer_failure: "transfer",
  transfer_refund: "transfer",
  connect_collection_transfer: "transfer",
  topup: "transfer",
  topup_reversal: "transfer",
  other_adjustment: "other",
};

export const stripeBalanceParser: Parser = {
  name: BALANCE,
  version: "1",
  detect(head) {
    const header = headerNames(head);
    const has = (n: string) => header.includes(n);
    return has("net") && has("fee") && has("currency") && (has("balance_transaction_id") || (has("id") && has("type") && has("amount")));
  },
  parse(bytes, _options, limits) {
    const { rows, limit } = readTable(bytes, BALANCE, limits);
    const columns = resolveColumns(rows.header, BALANCE_COLUMNS);
    requireColumns(columns, ["id", "created", "currency", "gross", "fee", "net"], BALANCE, rows.headerLine);
    const records: CanonicalRecord[] = [];
    for (const row of rows.body) {
      for (const record of balanceTransactionRecords(row, columns)) {
        if (records.length >= limit) throw tooManyRecords(BALANCE, limit, row.line);
        records.push(record);
      }
    }
    return { format: BALANCE, parserVersion: "1", statements: [], records, warnings: [] };
  },
};

type Columns<K extends string> = Partial<Record<K, number>>;
type Cell = (key: keyof typeof BALANCE_COLUMNS) => string;

function balanceTransactionRecords(row: CsvRow, columns: Columns<keyof typeof BALANCE_COLUMNS>): CanonicalRecord[] {
  const cell: Cell = (key) => cellOf(row, columns[key]);
  const id = requireText(BALANCE, cell("id"), row.line, "balance_transaction_id");
  const currency = requireCurrency(BALANCE, cell("currency"), row.line, "currency");
  const gross = requireStripeAmount(BALANCE, cell("gross"), row.line, "gross");
  const fee = requireStripeAmount(BALANCE, cell("fee"), row.line, "fee");
  const net = requireStripeAmount(BALANCE, cell("net"), row.line, "net");
  // gross − fee = net is how Stripe defines the three; a row that breaks it was edited or mis-read.
  if (!money(gross).minus(fee).eq(net)) {
    throw new ParseError(BALANCE, `net ${net} is not gross ${gross} minus fee ${fee}`, row.line, "net");
  }
  const bookedDate = requireDate(BALANCE, cell("created"), row.line, "created_utc");
  const available = cell("availableOn");
  const valueDate = available ? requireDate(BALANCE, available, row.line, "available_on_utc") : null;
  const category = cell("category").toLowerCase();
  const base = {
    bookedDate,
    valueDate,
    currency,
    counterpartyName: cell("customerName") || null,
    counterpartyAccount: null,
    reference: cell("payout") || null,
    statementIndex: null,
    raw: rawOf(row),
  };
  const records: CanonicalRecord[] = [
    {
      ...base,
      externalId: id,
      amount: gross,
      description: cell("description") || null,
      bankTransactionCode: category || null,
      type: STRIPE_CATEGORY_TYPES[category] ?? "other",
      ...customerFacing(cell, currency, gross, row.line),
    },
  ];
  if (fee !== "0") records.push({ ...base, ...feeOf(id, fee) });
  return records;
}

/** The amount the customer saw, when it was in another currency than the balance. */
function customerFacing(cell: Cell, currency: string, gross: string, line: number): { originalAmount: string | null; originalCurrency: string | null } {
  const text = cell("customerFacingAmount");
  const cfCurrency = cell("customerFacingCurrency").toUpperCase();
  if (!text || !cfCurrency || cfCurrency === currency) return { originalAmount: null, originalCurrency: null };
  const amount = requireStripeAmount(BALANCE, text, line, "customer_facing_amount");
  // Stripe does not promise a sign here; the direction is the balance transaction's.
  const magnitude = amount.replace(/^-/, "");
  return { originalAmount: gross.startsWith("-") ? negate(magnitude) : magnitude, originalCurrency: requireCurrency(BALANCE, cfCurrency, line, "customer_facing_currency") };
}

function feeOf(parentId: string, fee: string) {
  return {
    externalId: `${parentId}:fee`,
    amount: negate(fee),
    description: `Stripe fee for ${parentId}`,
    bankTransactionCode: "stripe_fee",
    type: "fee" as const,
    originalAmount: null,
    originalCurrency: null,
  };
}

// ---------------------------------------------------------------------------------------------
// stripe_payments
// ---------------------------------------------------------------------------------------------

const PAYMENT_COLUMNS = {
  id: ["id"],
  created: ["created_utc", "created", "created_date_utc"],
  amount: ["amount"],
  amountRefunded: ["amount_refunded"],
  currency: ["currency"],
  convertedAmount: ["converted_amount"],
  convertedAmountRefunded: ["converted_amount_refunded"],
  convertedCurrency: ["converted_currency"],
  fee: ["fee"],
  status: ["status"],
  captured: ["captured"],
  description: ["description"],
  customerDescription: ["customer_description"],
  cardName: ["card_name"],
  customerEmail: ["customer_email"],
  invoiceNumber: ["invoice_number"],
  invoiceId: ["invoice_id"],
  disputedAmount: ["disputed_amount"],
} as const;
type PaymentKey = keyof typeof PAYMENT_COLUMNS;

/** Dashboard statuses that moved money into the balance, and those that never did. */
const SETTLED_STATUSES = new Set(["paid", "succeeded", "refunded", "partially refunded", "partially_refunded", "disputed", "pending"]);
const NO_MONEY_STATUSES = new Set(["failed", "blocked", "canceled", "cancelled", "incomplete", "uncaptured", "expired", "requires_payment_method"]);

export const stripePaymentsParser: Parser = {
  name: PAYMENTS,
  version: "1",
  detect(head) {
    const header = headerNames(head);
    const has = (n: string) => header.includes(n);
    return has("id") && has("amount") && has("amount_refunded") && has("fee") && has("status") && !has("net");
  },
  parse(bytes, _options, limits) {
    const { rows, limit } = readTable(bytes, PAYMENTS, limits);
    const columns = resolveColumns(rows.header, PAYMENT_COLUMNS);
    requireColumns(columns, ["id", "created", "amount", "currency", "fee", "status"], PAYMENTS, rows.headerLine);
    const records: CanonicalRecord[] = [];
    const skipped = new Map<string, number>();
    let disputed = 0;
    for (const row of rows.body) {
      const cell = (key: PaymentKey) => cellOf(row, columns[key]);
      const status = cell("status").trim().toLowerCase();
      const uncaptured = cell("captured").toLowerCase() === "false";
      if (NO_MONEY_STATUSES.has(status) || uncaptured) {
        const why = NO_MONEY_STATUSES.has(status) ? status : "uncaptured";
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        continue;
      }
      if (!SETTLED_STATUSES.has(status)) {
        throw new ParseError(PAYMENTS, `status "${clip(cell("status"))}" is not a Stripe payment status this parser knows`, row.line, "status");
      }
      if (cell("disputedAmount") && normaliseAmount(cell("disputedAmount")) !== "0") disputed++;
      for (const record of chargeRecords(row, cell)) {
        if (records.length >= limit) throw tooManyRecords(PAYMENTS, limit, row.line);
        records.push(record);
      }
    }
    return { format: PAYMENTS, parserVersion: "1", statements: [], records, warnings: paymentWarnings(skipped, disputed) };
  },
};

function paymentWarnings(skipped: Map<string, number>, disputed: number): string[] {
  const warnings = [...skipped].map(([status, n]) => `${n} ${status} charge${n === 1 ? "" : "s"} skipped: no money moved`);
  if (disputed > 0) {
    warnings.push(`${disputed} disputed charge${disputed === 1 ? "" : "s"}: this export has no dispute withdrawals; import the balance report for them`);
  }
  return warnings;
}

/**
 * One settled charge → the gross payment, Stripe's fee, and the refunded part if any. Amounts are
 * taken in the converted (settlement) currency when the export has it, because the fee is only
 * given in that currency; the charge's own currency goes to originalAmount when it differs.
 */
function chargeRecords(row: CsvRow, cell: (key: PaymentKey) => string): CanonicalRecord[] {
  const id = requireText(PAYMENTS, cell("id"), row.line, "id");
  const chargeCurrency = requireCurrency(PAYMENTS, cell("currency"), row.line, "currency");
  const chargeAmount = requireStripeAmount(PAYMENTS, cell("amount"), row.line, "amount");
  const converted = cell("convertedCurrency") !== "" && cell("convertedAmount") !== "";
  const currency = converted ? requireCurrency(PAYMENTS, cell("convertedCurrency"), row.line, "converted_currency") : chargeCurrency;
  const amount = converted ? requireStripeAmount(PAYMENTS, cell("convertedAmount"), row.line, "converted_amount") : chargeAmount;
  const fee = requireStripeAmount(PAYMENTS, cell("fee"), row.line, "fee");
  const foreign = currency !== chargeCurrency;
  const base = {
    bookedDate: requireDate(PAYMENTS, cell("created"), row.line, "created"),
    valueDate: null,
    currency,
    counterpartyName: cell("customerDescription") || cell("cardName") || cell("customerEmail") || null,
    counterpartyAccount: null,
    reference: cell("invoiceNumber") || cell("invoiceId") || null,
    statementIndex: null,
    raw: rawOf(row),
  };
  const records: CanonicalRecord[] = [
    {
      ...base,
      externalId: id,
      amount,
      description: cell("description") || null,
      bankTransactionCode: "charge",
      type: "payment",
      originalAmount: foreign ? chargeAmount : null,
      originalCurrency: foreign ? chargeCurrency : null,
    },
  ];
  if (fee !== "0") records.push({ ...base, ...feeOf(id, fee) });
  const refund = refundOf(row, cell, converted, foreign, chargeCurrency);
  if (refund) records.push({ ...base, ...refund, externalId: `${id}:refund`, description: cell("description") || null });
  return records;
}

/** The refunded part of a charge (the export gives one cumulative amount and no refund date). */
function refundOf(row: CsvRow, cell: (key: PaymentKey) => string, converted: boolean, foreign: boolean, chargeCurrency: string) {
  const refundedText = converted && cell("convertedAmountRefunded") !== "" ? cell("convertedAmountRefunded") : cell("amountRefunded");
  const refunded = refundedText === "" ? "0" : requireStripeAmount(PAYMENTS, refundedText, row.line, converted ? "converted_amount_refunded" : "amount_refunded");
  if (refunded === "0") return null;
  const original = cell("amountRefunded") === "" ? null : requireStripeAmount(PAYMENTS, cell("amountRefunded"), row.line, "amount_refunded");
  return {
    amount: negate(refunded),
    bankTransactionCode: "refund",
    type: "refund" as const,
    originalAmount: foreign && original ? negate(original) : null,
    originalCurrency: foreign && original ? chargeCurrency : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------

/** A Stripe report amount: major units, "." or (decimal_separator=",") "," as the decimal mark. */
function requireStripeAmount(format: string, text: string, line: number, field: string): string {
  const amount = normaliseAmount(text, ".") ?? normaliseAmount(text, ",");
  if (amount === null) throw new ParseError(format, `"${clip(text)}" is not an amount`, line, field);
  return amount;
}

/** A date-time written as yyyy-mm-dd… (Stripe writes "2021-02-03 13:12", "2021-02-03 13:12:45" or ISO 8601). */
export function requireDate(format: string, text: string, line: number, field: string): string {
  const m = /^\s*(\d{4})[-/](\d{2})[-/](\d{2})(?:$|[ T])/.exec(text);
  const date = m ? isoDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (!date) throw new ParseError(format, `"${clip(text)}" is not a date (yyyy-mm-dd)`, line, field);
  return date;
}

export function requireCurrency(format: string, text: string, line: number, field: string): string {
  const code = text.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new ParseError(format, `"${clip(text)}" is not a currency code`, line, field);
  return code;
}

export function requireText(format: string, text: string, line: number, field: string): string {
  const value = text.trim();
  if (!value) throw new ParseError(format, `${field} is empty`, line, field);
  return value;
}

export function tooManyRecords(format: string, limit: number, line: number): ParseError {
  return new ParseError(format, `more than ${limit} records; the file is refused rather than imported in part`, line);
}

// ---------------------------------------------------------------------------------------------
// CSV shared by the PSP parsers
// ---------------------------------------------------------------------------------------------

/** Far more columns than any provider export has (Stripe's widest, with metadata columns, has a few hundred). */
const MAX_FIELDS = 2000;

export type CsvRow = { /** 1-based line where the row starts. */ line: number; fields: string[]; header?: readonly string[] };

/**
 * RFC 4180 rows with the line each starts on. Quoted fields may hold delimiters, doubled quotes and
 * line breaks; blank lines are skipped. One pass, no backtracking. An unterminated quote is refused
 * at the line where it opened (a truncated file must not pass as a shorter one), and so is a row of
 * more than MAX_FIELDS fields (it would make every record's raw copy huge).
 */
export function readCsv(text: string, format: string, delimiter = ",", maxRows = Number.MAX_SAFE_INTEGER): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let rowLine = 1;
  let quoteLine = 0;
  let inQuotes = false;
  let rowHasContent = false;
  const endRow = () => {
    if (rowHasContent) {
      fields.push(field);
      if (rows.length >= maxRows) throw new ParseError(format, `more than ${maxRows} rows; the file is refused rather than imported in part`, rowLine);
      rows.push({ line: rowLine, fields });
    }
    fields = [];
    field = "";
    rowHasContent = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else if (c === "\n" || c === "\r") {
        if (c === "\n" || text[i + 1] !== "\n") line++;
        field += c;
      } else {
        // Copy the run up to the next quote or line break in one slice (fields can be huge).
        let end = i + 1;
        while (end < text.length && text[end] !== '"' && text[end] !== "\n" && text[end] !== "\r") end++;
        field += text.slice(i, end);
        i = end - 1;
      }
      continue;
    }
    if (c === '"' && field === "") {
      inQuotes = true;
      quoteLine = line;
      rowHasContent = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = "";
      rowHasContent = true;
      if (fields.length >= MAX_FIELDS) throw new ParseError(format, `a row with more than ${MAX_FIELDS} fields is no provider report`, rowLine);
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      let end = i + 1;
      while (end < text.length && text[end] !== delimiter && text[end] !== "\n" && text[end] !== "\r") end++;
      field += text.slice(i, end);
      i = end - 1;
      rowHasContent = true;
    }
  }
  if (inQuotes) throw new ParseError(format, "a quoted field is never closed (the file may be truncated)", quoteLine);
  endRow();
  return rows;
}

/** A repeated id within one file gets "#2", "#3"… so that the importer's de-duplication keeps both lines. */
export function uniqueId(id: string | null, seen: Map<string, number>): string | null {
  if (id === null) return null;
  const n = (seen.get(id) ?? 0) + 1;
  seen.set(id, n);
  return n === 1 ? id : `${id}#${n}`;
}

/** Exact conversion of an integer amount in minor units ("12345", exponent 2) to "123.45"; null if not an integer. */
export function fromMinorUnits(digits: string, exponent: number): string | null {
  const negative = digits.startsWith("-");
  const abs = (negative ? digits.slice(1) : digits).replace(/^0+(?=\d)/, "");
  if (!/^\d+$/.test(abs)) return null;
  const padded = abs.padStart(exponent + 1, "0");
  const whole = exponent === 0 ? padded : padded.slice(0, -exponent);
  const fraction = exponent === 0 ? "" : padded.slice(-exponent).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}

// ---------------------------------------------------------------------------------------------
// Table plumbing for the two Stripe exports
// ---------------------------------------------------------------------------------------------

type Table = { header: string[]; headerLine: number; body: CsvRow[] };

function readTable(bytes: Uint8Array, format: string, partial?: Partial<ParseLimits>): { rows: Table; limit: number } {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  if (bytes.length > limits.maxBytes) throw new ParseError(format, `the file is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
  const { text } = decodeText(bytes, format);
  const rows = readCsv(text, format, ",", limits.maxRecords + 1);
  if (rows.length === 0) throw new ParseError(format, "the file is empty", 1);
  const [first, ...body] = rows;
  const header = first.fields.map(normaliseHeader);
  for (const row of body) {
    if (row.fields.length > header.length) {
      throw new ParseError(format, `the row has ${row.fields.length} fields but the header names ${header.length}`, row.line);
    }
    row.header = first.fields;
  }
  return { rows: { header, headerLine: first.line, body }, limit: limits.maxRecords };
}

/** "Created (UTC)" → "created_utc", "Amount Refunded" → "amount_refunded": one spelling for API and Dashboard headers. */
function normaliseHeader(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9[\]]+/g, "_").replace(/^_+|_+$/g, "");
}

function headerNames(head: string): string[] {
  const firstLine = head.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/, 1)[0] ?? "";
  return firstLine.split(",").map((n) => normaliseHeader(n.replace(/"/g, "")));
}

function resolveColumns<K extends string>(header: string[], aliases: Record<K, readonly string[]>): Columns<K> {
  const columns: Columns<K> = {};
  for (const key of Object.keys(aliases) as K[]) {
    const index = aliases[key].map((name) => header.indexOf(name)).find((i) => i >= 0);
    if (index !== undefined) columns[key] = index;
  }
  return columns;
}

function requireColumns<K extends string>(columns: Columns<K>, keys: K[], format: string, line: number): void {
  const missing = keys.filter((k) => columns[k] === undefined);
  if (missing.length) throw new ParseError(format, `the header has no ${missing.join(", ")} column`, line, missing[0]);
}

function cellOf(row: CsvRow, index: number | undefined): string {
  return index === undefined ? "" : (row.fields[index] ?? "").trim();
}

/** The row as named by its header; fromEntries so that any header text stays an own property. */
export function rawOf(row: CsvRow): Record<string, string> {
  return Object.fromEntries((row.header ?? []).map((name, i) => [name, row.fields[i] ?? ""]));
}
