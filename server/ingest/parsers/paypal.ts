import { DEFAULT_LIMITS, ParseError, type CanonicalRecord, type ParsedFile, type ParsedStatement, type ParseLimits, type Parser, type TransactionType } from "./canonical";
import { clip } from "./decimal-text";
import { decodeText } from "./text";
import { fromMinorUnits, rawOf, readCsv, requireCurrency, requireDate, requireText, tooManyRecords, uniqueId, type CsvRow } from "./stripe";

/*
 * PayPal SFTP reports: the Settlement Report (STL, every transaction that moved the balance, with
 * beginning and ending balance per currency) and the Transaction Detail Report (TRR, every
 * transaction whether it moved the balance or not). Both share one framing, one row type per line:
 *
 *   RH report header · FH file header · SH section header (one per account) · CH column names ·
 *   SB section body (a transaction) · SF section footer (per currency) · SC section record count ·
 *   RF report footer (per currency) · RC report record count · FF file footer
 *
 * Amounts: PayPal's specs say money fields are unsigned, without a decimal separator, the direction
 * in a separate CR/DR column, and "100,00 yen and $100.00 USD are both represented as 10000" — i.e.
 * always two implied decimals, whatever ISO 4217 says of the currency. So amounts are divided by 100
 * for every currency (REPORT_DECIMALS), exactly, on the digit string.
 *
 * Footers (positions after the row type), as read from the specs:
 *   SF/RF: currency, total gross credit, total gross debit, total fee credit, total fee debit,
 *          and in STL then beginning balance CR/DR + amount, ending balance CR/DR + amount
 *          (then available and payable balances, not used here).
 *   SC/RC: number of SB rows in the section / report.
 * Every SF, RF, SC and RC present is checked against the SB rows; a mismatch is a ParseError naming
 * the footer line. FF is kept but not checked (the spec's count there is not defined clearly enough).
 *
 * Each SB row → one record of the gross (CR +, DR −) and, when the fee is not zero, a fee record
 * (CR +, DR −), so Σ records = Σ net. STL sections become statements, one per account and currency,
 * with the SF balances as opening and closing. TRR has no balances and no statements; its rows that
 * moved no money (authorisations T13xx, display-only T98xx, pending or denied status) are skipped
 * with a warning — after the footers were checked against all rows.
 */

const STL = "paypal_settlement";
const TRR = "paypal_trr";
const REPORT_DECIMALS = 2;
/** Unsigned minor units, at most 18 digits (more is no real amount, and keeps BigInt work small). */
const MINOR_DIGITS = /^\d{1,18}$/;

/** Columns only the TRR has, to tell the two reports apart from the CH row. */
const TRR_ONLY_COLUMNS = ["transactional status", "transaction subject", "item name", "shipping amount", "insurance amount"];

const FOOTER_TOTALS = ["Total Gross Amount Credit", "Total Gross Amount Debit", "Total Fee Amount Credit", "Total Fee Amount Debit"] as const;

export const paypalSettlementParser: Parser = {
  name: STL,
  version: "1",
  detect: (head) => detectReport(head) === "stl",
  parse: (bytes, _options, limits) => parseReport(bytes, STL, limits),
};

export const paypalTransactionsParser: Parser = {
  name: TRR,
  version: "1",
  detect: (head) => detectReport(head) === "trr",
  parse: (bytes, _options, limits) => parseReport(bytes, TRR, limits),
};

function detectReport(head: string): "stl" | "trr" | null {
  const lines = head.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  if (!/^"?RH"?[,\t]/.test(lines[0] ?? "")) return null;
  const columns = lines.find((l) => /^"?CH"?[,\t]/.test(l))?.toLowerCase().replace(/\s+/g, " ");
  if (!columns || !columns.includes("gross transaction amount") || !columns.includes("transaction event code")) return null;
  return TRR_ONLY_COLUMNS.some((c) => columns.includes(c)) ? "trr" : "stl";
}

/** PayPal T-code groups (first three characters) → canonical type. */
export function typeOfEventCode(code: string): TransactionType {
  if (code === "T1108") return "fee"; // fee reversal
  if (code === "T1105" || code === "T1110" || code === "T1111") return "other"; // holds for investigations, not refunds
  if (code === "T1200") return "other"; // general account adjustment
  switch (code.slice(0, 3)) {
    case "T00":
      return "payment";
    case "T01":
      return "fee";
    case "T02":
    case "T03":
    case "T20":
    case "T22":
      return "transfer";
    case "T04":
      return "payout";
    case "T11":
      return "refund";
    case "T12":
      return "chargeback";
    default:
      return "other";
  }
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

type Totals = { grossCredit: bigint; grossDebit: bigint; feeCredit: bigint; feeDebit: bigint };
const zeroTotals = (): Totals => ({ grossCredit: 0n, grossDebit: 0n, feeCredit: 0n, feeDebit: 0n });

type Section = {
  line: number;
  account: string | null;
  start: string | null;
  end: string | null;
  bodyRows: number;
  totals: Map<string, Totals>;
  footed: Set<string>;
  /** Records of this section by currency, waiting for their SF to get a statement. */
  pending: Map<string, CanonicalRecord[]>;
  closed: boolean;
};

class ReportReader {
  readonly records: CanonicalRecord[] = [];
  readonly statements: ParsedStatement[] = [];
  private readonly skipped = new Map<string, number>();
  private readonly seenIds = new Map<string, number>();
  private readonly reportTotals = new Map<string, Totals>();
  private reportBodyRows = 0;
  private columns: Map<string, number> | null = null;
  private columnNames: string[] = [];
  private section: Section | null = null;
  private seen = { RH: false, RC: false, FF: false };

  constructor(
    private readonly format: typeof STL | typeof TRR,
    private readonly maxRecords: number,
  ) {}

  read(row: CsvRow): void {
    const kind = row.fields[0].trim();
    switch (kind) {
      case "RH":
        if (this.seen.RH) throw this.error("a second RH report header", row.line, "Column Type");
        this.seen.RH = true;
        return;
      case "FH":
        return;
      case "SH":
        return this.openSection(row);
      case "CH":
        return this.readColumnHeader(row);
      case "SB":
        return this.readBody(row);
      case "SF":
        return this.readSectionFooter(row);
      case "SC":
        return this.readSectionCount(row);
      case "RF":
        this.checkTotals(row, this.reportTotals, "report");
        return;
      case "RC":
        this.seen.RC = true;
        this.closeSection(row.line);
        return this.checkCount(row, this.reportBodyRows, "report");
      case "FF":
        this.seen.FF = true;
        return;
      default:
        throw this.error(`"${clip(kind)}" is not a PayPal report row type (RH, FH, SH, CH, SB, SF, SC, RF, RC, FF)`, row.line, "Column Type");
    }
  }

  finish(lastLine: number): ParsedFile {
    if (!this.seen.RH) throw this.error("the file has no RH report header", 1, "Column Type");
    // A report may span several files, but each file ends with its FF footer: without one the file was cut short.
    if (!this.seen.FF) throw this.error("the file has no FF file footer; it may be truncated", lastLine, "Column Type");
    if (this.seen.RC) this.closeSection(lastLine);
    return { format: this.format, parserVersion: "1", statements: this.statements, records: this.records, warnings: this.warnings() };
  }

  private openSection(row: CsvRow): void {
    if (this.section) this.closeSection(row.line);
    const date = (i: number, field: string) => {
      const text = (row.fields[i] ?? "").trim();
      return text ? requireDate(this.format, text, row.line, field) : null;
    };
    this.section = {
      line: row.line,
      start: date(1, "Report Period Start Date"),
      end: date(2, "Report Period End Date"),
      account: (row.fields[3] ?? "").trim() || null,
      bodyRows: 0,
      totals: new Map(),
      footed: new Set(),
      pending: new Map(),
      closed: false,
    };
  }

  /** A section whose transactions are not all footed cannot be trusted: its footer was lost. */
  private closeSection(line: number): void {
    const section = this.section;
    if (!section || section.closed) return;
    section.closed = true;
    const unfooted = [...section.totals.keys()].filter((c) => !section.footed.has(c));
    if (unfooted.length) throw this.error(`the section from line ${section.line} has ${unfooted.join(", ")} transactions but no SF footer for them`, line, "Column Type");
  }

  private readColumnHeader(row: CsvRow): void {
    this.columnNames = row.fields.slice(1).map((n) => n.trim());
    // PayPal's own headers are not consistent about spaces ("Transaction  Debit or Credit").
    this.columns = new Map(this.columnNames.map((n, i) => [n.toLowerCase().replace(/\s+/g, " "), i + 1]));
    const required = ["Transaction ID", "Transaction Event Code", "Transaction Debit or Credit", "Gross Transaction Amount", "Gross Transaction Currency", "Fee Debit or Credit", "Fee Amount", "Fee Currency"];
    const missing = required.filter((n) => !this.columns!.has(n.toLowerCase()));
    if (missing.length) throw this.error(`the CH column header has no ${missing.join(", ")} column`, row.line, missing[0]);
    if (!this.columns.has("transaction completion date") && !this.columns.has("transaction initiation date")) {
      throw this.error("the CH column header has no transaction date column", row.line, "Transaction Completion Date");
    }
  }

  private readBody(row: CsvRow): void {
    const section = this.section;
    if (!this.columns || !section || section.closed) throw this.error("an SB transaction row outside a section (no SH and CH before it)", row.line, "Column Type");
    const tx = this.transaction(row);
    this.reportBodyRows++;
    section.bodyRows++;
    addTotals(section.totals, tx);
    addTotals(this.reportTotals, tx);
    const skip = this.skipReason(tx);
    if (skip) {
      this.skipped.set(skip, (this.skipped.get(skip) ?? 0) + 1);
      return;
    }
    for (const record of this.recordsOf(tx, row)) {
      if (this.records.length >= this.maxRecords) throw tooManyRecords(this.format, this.maxRecords, row.line);
      this.records.push(record);
      const pending = section.pending.get(record.currency) ?? [];
      pending.push(record);
      section.pending.set(record.currency, pending);
    }
  }

  private readSectionFooter(row: CsvRow): void {
    const section = this.section;
    if (!section || section.closed) throw this.error("an SF section footer outside a section", row.line, "Column Type");
    const currency = this.checkTotals(row, section.totals, "section");
    if (section.footed.has(currency)) throw this.error(`a second SF footer for ${currency} in the section`, row.line, "Currency");
    section.footed.add(currency);
    if (this.format !== STL) return;
    const lines = section.pending.get(currency) ?? [];
    const statementIndex = this.statements.length;
    for (const record of lines) record.statementIndex = statementIndex;
    this.statements.push({
      statementId: [section.account, section.start].filter(Boolean).join(" ") || null,
      account: section.account,
      currency,
      opening: this.balance(row, 6, "Beginning Balance", section.start, "Report Period Start Date"),
      closing: this.balance(row, 8, "Ending Balance", section.end, "Report Period End Date"),
      lines: lines.length,
    });
  }

  private readSectionCount(row: CsvRow): void {
    const section = this.section;
    if (!section || section.closed) throw this.error("an SC section count outside a section", row.line, "Column Type");
    this.checkCount(row, section.bodyRows, "section");
    this.closeSection(row.line);
  }

  /** Compares an SF/RF row's four totals with the SB rows read; returns the footer's currency. */
  private checkTotals(row: CsvRow, totals: Map<string, Totals>, scope: string): string {
    const currency = requireCurrency(this.format, row.fields[1] ?? "", row.line, "Currency");
    const read = totals.get(currency) ?? zeroTotals();
    const expected = [read.grossCredit, read.grossDebit, read.feeCredit, read.feeDebit];
    FOOTER_TOTALS.forEach((field, i) => {
      const stated = BigInt(this.digits(row.fields[i + 2] ?? "", row.line, field));
      if (stated !== expected[i]) {
        throw this.error(`${scope} footer says ${field} ${currency} is ${minor(stated)} but the transactions add up to ${minor(expected[i])}`, row.line, field);
      }
    });
    return currency;
  }

  private checkCount(row: CsvRow, actual: number, scope: string): void {
    const text = (row.fields[1] ?? "").trim();
    if (!/^\d{1,15}$/.test(text)) throw this.error(`"${clip(text)}" is not a record count`, row.line, "Record Count");
    if (Number(text) !== actual) throw this.error(`${scope} record count says ${Number(text)} transactions but ${actual} SB rows were read`, row.line, "Record Count");
  }

  /** An STL footer balance: a CR/DR field followed by the unsigned amount. */
  private balance(row: CsvRow, at: number, field: string, date: string | null, dateField: string) {
    if (!date) throw this.error(`the SH section header has no ${dateField}, needed for the ${field.toLowerCase()}`, this.section!.line, dateField);
    const direction = this.direction(row.fields[at] ?? "", row.line, `${field} Debit or Credit`, false);
    const amount = this.major(this.digits(row.fields[at + 1] ?? "", row.line, field));
    return { date, amount: direction === "DR" && amount !== "0" ? `-${amount}` : amount };
  }

  private transaction(row: CsvRow): Transaction {
    const cell = (name: string) => (row.fields[this.columns!.get(name.toLowerCase()) ?? -1] ?? "").trim();
    const line = row.line;
    const grossCurrency = requireCurrency(this.format, cell("Gross Transaction Currency"), line, "Gross Transaction Currency");
    const feeDigits = cell("Fee Amount") === "" ? "0" : this.digits(cell("Fee Amount"), line, "Fee Amount");
    const hasFee = BigInt(feeDigits) !== 0n;
    const dateText = cell("Transaction Completion Date") || cell("Transaction Initiation Date");
    return {
      id: requireText(this.format, cell("Transaction ID"), line, "Transaction ID"),
      eventCode: this.eventCode(cell("Transaction Event Code"), line),
      grossDirection: this.direction(cell("Transaction Debit or Credit"), line, "Transaction Debit or Credit", false),
      grossDigits: this.digits(cell("Gross Transaction Amount"), line, "Gross Transaction Amount"),
      grossCurrency,
      feeDirection: this.direction(cell("Fee Debit or Credit"), line, "Fee Debit or Credit", !hasFee),
      feeDigits,
      feeCurrency: hasFee ? requireCurrency(this.format, cell("Fee Currency") || grossCurrency, line, "Fee Currency") : grossCurrency,
      bookedDate: requireDate(this.format, dateText, line, cell("Transaction Completion Date") ? "Transaction Completion Date" : "Transaction Initiation Date"),
      cell,
    };
  }

  private skipReason(tx: Transaction): string | null {
    if (this.format !== TRR) return null;
    if (tx.eventCode.startsWith("T13")) return "authorisation";
    if (tx.eventCode.startsWith("T98")) return "display-only";
    const status = tx.cell("Transactional Status").toUpperCase();
    if (status === "P") return "pending";
    if (status === "D") return "denied";
    return null;
  }

  private recordsOf(tx: Transaction, row: CsvRow): CanonicalRecord[] {
    const externalId = uniqueId(tx.id, this.seenIds)!;
    const name = [tx.cell("First Name"), tx.cell("Last Name")].filter(Boolean).join(" ") || tx.cell("Consumer Business Name");
    const base = {
      bookedDate: tx.bookedDate,
      valueDate: null,
      counterpartyName: name || null,
      counterpartyAccount: tx.cell("Consumer ID") || tx.cell("Payer's Account ID") || null,
      reference: tx.cell("Invoice ID") || null,
      bankTransactionCode: tx.eventCode,
      originalAmount: null,
      originalCurrency: null,
      statementIndex: null,
      raw: rawOf({ ...row, header: ["Column Type", ...this.columnNames] }),
    };
    const records: CanonicalRecord[] = [
      {
        ...base,
        externalId,
        amount: this.signed(tx.grossDirection, tx.grossDigits),
        currency: tx.grossCurrency,
        description: tx.cell("Transaction Subject") || tx.cell("Custom Field") || null,
        type: typeOfEventCode(tx.eventCode),
      },
    ];
    if (BigInt(tx.feeDigits) !== 0n) {
      records.push({
        ...base,
        externalId: `${externalId}:fee`,
        amount: this.signed(tx.feeDirection, tx.feeDigits),
        currency: tx.feeCurrency,
        description: `PayPal fee for ${tx.id}`,
        type: "fee",
      });
    }
    return records;
  }

  private warnings(): string[] {
    return [...this.skipped].map(([why, n]) => `${n} ${why} transaction${n === 1 ? "" : "s"} skipped: no money moved`);
  }

  private eventCode(text: string, line: number): string {
    if (!/^T\d{4}$/.test(text)) throw this.error(`"${clip(text)}" is not a transaction event code (T followed by four digits)`, line, "Transaction Event Code");
    return text;
  }

  private direction(text: string, line: number, field: string, optional: boolean): "CR" | "DR" {
    const value = text.trim().toUpperCase();
    if (value === "CR" || value === "DR") return value;
    if (optional && value === "") return "CR";
    throw this.error(`"${clip(text)}" is neither CR nor DR`, line, field);
  }

  private digits(text: string, line: number, field: string): string {
    const value = text.trim();
    if (!MINOR_DIGITS.test(value)) throw this.error(`"${clip(text)}" is not an unsigned amount in minor units`, line, field);
    return value;
  }

  private major(digits: string): string {
    return fromMinorUnits(digits, REPORT_DECIMALS)!;
  }

  private signed(direction: "CR" | "DR", digits: string): string {
    const amount = this.major(digits);
    return direction === "DR" && amount !== "0" ? `-${amount}` : amount;
  }

  private error(message: string, line: number, field?: string): ParseError {
    return new ParseError(this.format, message, line, field);
  }
}

type Transaction = {
  id: string;
  eventCode: string;
  grossDirection: "CR" | "DR";
  grossDigits: string;
  grossCurrency: string;
  feeDirection: "CR" | "DR";
  feeDigits: string;
  feeCurrency: string;
  bookedDate: string;
  cell: (name: string) => string;
};

function addTotals(totals: Map<string, Totals>, tx: Transaction): void {
  const gross = totals.get(tx.grossCurrency) ?? zeroTotals();
  totals.set(tx.grossCurrency, gross);
  if (tx.grossDirection === "CR") gross.grossCredit += BigInt(tx.grossDigits);
  else gross.grossDebit += BigInt(tx.grossDigits);
  const fee = totals.get(tx.feeCurrency) ?? zeroTotals();
  totals.set(tx.feeCurrency, fee);
  if (tx.feeDirection === "CR") fee.feeCredit += BigInt(tx.feeDigits);
  else fee.feeDebit += BigInt(tx.feeDigits);
}

/** A footer amount for messages, in the report's own minor units and in major units. */
function minor(value: bigint): string {
  return `${value} (${fromMinorUnits(value.toString(), REPORT_DECIMALS)})`;
}

function parseReport(bytes: Uint8Array, format: typeof STL | typeof TRR, partial?: Partial<ParseLimits>): ParsedFile {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  if (bytes.length > limits.maxBytes) throw new ParseError(format, `the file is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
  const { text } = decodeText(bytes, format);
  // TRR files also come tab-separated; the first row tells which.
  const delimiter = /^\s*"?RH"?\t/.test(text) ? "\t" : ",";
  const rows = readCsv(text, format, delimiter, limits.maxRecords + 10_000);
  if (rows.length === 0) throw new ParseError(format, "the file is empty", 1);
  if (rows[0].fields[0].trim() !== "RH") throw new ParseError(format, "the first row is not an RH report header", rows[0].line, "Column Type");
  const reader = new ReportReader(format, limits.maxRecords);
  for (const row of rows) reader.read(row);
  return reader.finish(rows[rows.length - 1].line);
}
