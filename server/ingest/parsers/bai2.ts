import { DECIMAL_PATTERN, minorUnits, money, sum, type Money } from "../../money";
import {
  DEFAULT_LIMITS,
  ParseError,
  type CanonicalRecord,
  type ParsedFile,
  type ParsedStatement,
  type ParseLimits,
  type Parser,
  type StatementBalance,
  type TransactionType,
} from "./canonical";
import { clip, isoDate, negate, normaliseAmount } from "./decimal-text";
import { decodeText, splitLines } from "./text";

/**
 * BAI2 cash management balance reports: 01 file header, 02 group header (as-of date), 03 account
 * with summary amounts, 16 transaction details, 88 continuations, 49/98/99 trailers carrying
 * control totals and record counts, which are verified. Each account (03…49) is one statement.
 *
 * Records end with "/" and usually one per line, but a line may hold several records
 * ("…/  49,-1600,11/") and a long record may wrap onto a line that starts without a record code.
 * A record is continued by 88 records from its next field on; the free text of a 16 record runs
 * to the end of the record and takes every 88 that follows.
 */

const FORMAT = "bai2";

/** A record's text after its code, and where it is: a record and each of its 88 continuations. */
type Segment = { text: string; line: number };
/** A record with its 88 continuations folded in. */
type BaiRecord = { code: string; line: number; segments: Segment[] };

const RECORD_CODES = new Set(["01", "02", "03", "16", "49", "88", "98", "99"]);
/** "/" ends a record; a known record code right after it (spaces allowed) starts the next one on the same line. */
const PACKED_RECORD_END = /\/\s*(?=(?:01|02|03|16|49|88|98|99),)/;
const RECORD_START = /^(\d{2}),/;

export const bai2Parser: Parser = {
  name: FORMAT,
  version: "1",
  detect(head) {
    return /^\s*01,[^,\r\n]*,[^,\r\n]*,\d{6},/.test(head);
  },
  parse(bytes, _options, limits) {
    const { maxBytes, maxRecords } = { ...DEFAULT_LIMITS, ...limits } satisfies ParseLimits;
    if (bytes.length > maxBytes) throw new ParseError(FORMAT, `the file is larger than the ${maxBytes}-byte limit`);
    const lines = splitLines(decodeText(bytes, FORMAT).text);
    const reader = new Bai2Reader(maxRecords);
    for (const record of readRecords(lines)) reader.accept(record);
    return reader.finish(lines.length);
  },
};

/** Cuts the lines into records and folds each 88 into the record it continues. */
function readRecords(lines: string[]): BaiRecord[] {
  const physical: (Segment & { code: string })[] = [];
  lines.forEach((text, index) => {
    if (text.trim() === "") return;
    for (const piece of text.split(PACKED_RECORD_END)) {
      const start = RECORD_START.exec(piece);
      if (start) {
        physical.push({ code: start[1], text: piece.slice(start[0].length), line: index + 1 });
      } else if (physical.length > 0) {
        // A record wrapped onto the next line without a continuation record.
        physical[physical.length - 1].text += ` ${piece}`;
      } else {
        throw new ParseError(FORMAT, `"${clip(piece.trim())}" does not start with a record code (01, 02, 03, 16, 49, 88, 98, 99)`, index + 1, "record code");
      }
    }
  });
  const records: BaiRecord[] = [];
  for (const { code, text, line } of physical) {
    if (!RECORD_CODES.has(code)) throw new ParseError(FORMAT, `unknown record code "${code}"`, line, "record code");
    const segment = { text: withoutRecordEnd(text), line };
    if (code !== "88") {
      records.push({ code, line, segments: [segment] });
      continue;
    }
    const continued = records.at(-1);
    if (!continued) throw new ParseError(FORMAT, "continuation record 88 without a record before it", line, "88");
    continued.segments.push(segment);
  }
  return records;
}

function withoutRecordEnd(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.endsWith("/") ? trimmed.slice(0, -1) : trimmed;
}

/** Reads a record's comma-separated fields across its continuation segments. */
class Fields {
  private segment = 0;
  private index = 0;
  private readonly split: string[][];

  constructor(private readonly record: BaiRecord) {
    this.split = record.segments.map((s) => s.text.split(","));
  }

  /** Line of the field read last, for error messages. */
  get line(): number {
    return this.record.segments[Math.min(this.segment, this.record.segments.length - 1)].line;
  }

  /** The next field, or undefined when the record (with its continuations) has no more. */
  next(): string | undefined {
    while (this.segment < this.split.length && this.index >= this.split[this.segment].length) {
      this.segment++;
      this.index = 0;
    }
    if (this.segment >= this.split.length) return undefined;
    return this.split[this.segment][this.index++];
  }

  /** The next field of the current segment only: undefined at its end instead of moving on to the next 88. */
  nextInSegment(): string | undefined {
    const fields = this.split[this.segment];
    return fields !== undefined && this.index < fields.length ? fields[this.index++] : undefined;
  }

  /** The rest of the record as free text, commas included; continuation segments joined with a space. */
  rest(): string {
    const pieces: string[] = [];
    if (this.segment < this.split.length) pieces.push(this.split[this.segment].slice(this.index).join(","));
    for (let s = this.segment + 1; s < this.record.segments.length; s++) pieces.push(this.record.segments[s].text);
    this.segment = this.split.length;
    return pieces
      .map((p) => p.trim())
      .filter((p) => p !== "")
      .join(" ");
  }
}

type Group = { asOfDate: string; currency: string; accounts: number; records: number; total: Money };

type Account = {
  number: string;
  currency: string;
  opening: StatementBalance | null;
  closing: StatementBalance | null;
  /** Records 03 to 49 so far, 88 continuations included. */
  records: number;
  /** Every amount of the 03 summaries and 16 details, in minor units, for the 49 control total. */
  amounts: string[];
  details: number;
};

/** Follows the record structure 01 (02 (03 16* 49)* 98)* 99 and builds statements and records. */
class Bai2Reader {
  private fileId: string | null = null;
  private fileRecords = 0;
  private groups = 0;
  private fileTotal = money("0");
  private group: Group | null = null;
  private account: Account | null = null;
  private ended = false;
  private readonly statements: ParsedStatement[] = [];
  private readonly records: CanonicalRecord[] = [];
  private readonly warnings: string[] = [];

  constructor(private readonly maxRecords: number) {}

  accept(record: BaiRecord): void {
    if (this.ended) throw new ParseError(FORMAT, `record ${record.code} after the 99 file trailer`, record.line, record.code);
    if (this.fileId === null && record.code !== "01") throw new ParseError(FORMAT, "the file does not start with a 01 file header", record.line, record.code);
    const physicalRecords = record.segments.length;
    this.fileRecords += physicalRecords;
    if (this.group) this.group.records += physicalRecords;
    if (this.account) this.account.records += physicalRecords;
    const fields = new Fields(record);
    switch (record.code) {
      case "01":
        return this.fileHeader(record, fields);
      case "02":
        return this.groupHeader(record, fields);
      case "03":
        return this.accountHeader(record, fields);
      case "16":
        return this.detail(record, fields);
      case "49":
        return this.accountTrailer(record, fields);
      case "98":
        return this.groupTrailer(record, fields);
      case "99":
        return this.fileTrailer(record, fields);
    }
  }

  finish(lineCount: number): ParsedFile {
    if (!this.ended) throw new ParseError(FORMAT, "the file ends without its 99 file trailer (truncated?)", lineCount, "99");
    return { format: FORMAT, parserVersion: bai2Parser.version, statements: this.statements, records: this.records, warnings: this.warnings };
  }

  private fileHeader(record: BaiRecord, fields: Fields): void {
    if (this.fileId !== null) throw new ParseError(FORMAT, "a second 01 file header", record.line, "01");
    const [, , creationDate, , fileId, , , version] = readAll(fields, 8);
    baiDate(creationDate, record.line, "01 creation date");
    if (version !== "" && version !== "2") throw new ParseError(FORMAT, `version "${clip(version)}" is not BAI version 2`, record.line, "01 version number");
    this.fileId = fileId;
  }

  private groupHeader(record: BaiRecord, fields: Fields): void {
    if (this.group) throw new ParseError(FORMAT, "02 group header before the 98 trailer of the previous group", record.line, "02");
    const [, , , asOfDate, , currency] = readAll(fields, 6);
    this.group = {
      asOfDate: baiDate(asOfDate, record.line, "02 as-of date"),
      currency: currency === "" ? "USD" : currencyCode(currency, record.line, "02 currency code"),
      accounts: 0,
      records: record.segments.length,
      total: money("0"),
    };
    this.groups++;
  }

  private accountHeader(record: BaiRecord, fields: Fields): void {
    const group = this.group;
    if (!group) throw new ParseError(FORMAT, "03 account record outside a group (no 02 before it)", record.line, "03");
    if (this.account) throw new ParseError(FORMAT, "03 account record before the 49 trailer of the previous account", record.line, "03");
    const number = (fields.next() ?? "").trim();
    if (number === "") throw new ParseError(FORMAT, "the 03 record has no account number", record.line, "03 account number");
    const currencyField = (fields.next() ?? "").trim();
    const currency = currencyField === "" ? group.currency : currencyCode(currencyField, record.line, "03 currency code");
    const account: Account = { number, currency, opening: null, closing: null, records: record.segments.length, amounts: [], details: 0 };
    for (let summary = readSummary(fields); summary; summary = readSummary(fields)) {
      if (summary.amount === "") continue;
      account.amounts.push(summary.amount);
      // 010 opening ledger and 015 closing ledger; the other summaries only count towards the control total.
      if (summary.typeCode !== "010" && summary.typeCode !== "015") continue;
      const balance = { date: group.asOfDate, amount: fromMinorUnits(summary.amount, currency, fields.line, `03 amount of ${summary.typeCode}`) };
      if (summary.typeCode === "010") account.opening = balance;
      else account.closing = balance;
    }
    group.accounts++;
    this.account = account;
  }

  private detail(record: BaiRecord, fields: Fields): void {
    const account = this.account;
    const group = this.group;
    if (!account || !group) throw new ParseError(FORMAT, "16 transaction detail outside an account (no 03 before it)", record.line, "16");
    const detail = readDetail(fields, record.line);
    account.amounts.push(detail.minor);
    const direction = directionOf(detail.typeCode);
    const amount = fromMinorUnits(detail.minor, account.currency, record.line, "16 amount");
    if (direction === null) {
      if (amount !== "0") {
        throw new ParseError(FORMAT, `type code ${detail.typeCode} is neither a credit (100–399) nor a debit (400–699), so the amount cannot be signed`, record.line, "16 type code");
      }
      this.warnings.push(`line ${record.line}: non-monetary detail with type code ${detail.typeCode} skipped`);
      return;
    }
    if (this.records.length >= this.maxRecords) throw new ParseError(FORMAT, `the file has more than ${this.maxRecords} transaction details`, record.line, "16");
    account.details++;
    this.records.push({
      externalId: detail.bankReference || null,
      bookedDate: group.asOfDate,
      valueDate: detail.funds.valueDate,
      amount: direction === "debit" ? negate(amount) : amount,
      currency: account.currency,
      counterpartyName: null,
      counterpartyAccount: null,
      reference: detail.customerReference || null,
      // Fixed-width exports pad the text with runs of spaces; raw.text keeps it as written.
      description: detail.text.replace(/\s+/g, " ") || null,
      bankTransactionCode: detail.typeCode,
      type: transactionTypeOf(detail.typeCode),
      originalAmount: null,
      originalCurrency: null,
      statementIndex: this.statements.length,
      raw: {
        typeCode: detail.typeCode,
        amount: detail.minor,
        fundsType: detail.funds.type,
        ...(detail.funds.detail && { funds: detail.funds.detail }),
        bankReference: detail.bankReference,
        customerReference: detail.customerReference,
        text: detail.text,
        account: account.number,
        asOfDate: group.asOfDate,
      },
    });
  }

  private accountTrailer(record: BaiRecord, fields: Fields): void {
    const account = this.account;
    const group = this.group;
    if (!account || !group) throw new ParseError(FORMAT, "49 account trailer without an account (no 03 before it)", record.line, "49");
    const [controlTotal, recordCount] = readAll(fields, 2);
    const name = `account ${clip(account.number)}`;
    const total = verifyTotal(controlTotal, account.amounts, record.line, `49 control total (${name})`);
    verifyCount(recordCount, account.records, "records", record.line, `49 record count (${name})`);
    group.total = group.total.plus(total);
    this.statements.push({
      statementId: `${this.fileId ? `${this.fileId}/` : ""}${this.groups}/${group.accounts}`,
      account: account.number,
      currency: account.currency,
      opening: account.opening,
      closing: account.closing,
      lines: account.details,
    });
    this.account = null;
  }

  private groupTrailer(record: BaiRecord, fields: Fields): void {
    const group = this.group;
    if (!group) throw new ParseError(FORMAT, "98 group trailer without a group (no 02 before it)", record.line, "98");
    if (this.account) throw new ParseError(FORMAT, `98 group trailer before the 49 trailer of account ${clip(this.account.number)}`, record.line, "98");
    const [controlTotal, accountCount, recordCount] = readAll(fields, 3);
    const total = verifyTotal(controlTotal, [group.total.toFixed()], record.line, "98 group control total");
    verifyCount(accountCount, group.accounts, "accounts", record.line, "98 number of accounts");
    verifyCount(recordCount, group.records, "records", record.line, "98 record count");
    this.fileTotal = this.fileTotal.plus(total);
    this.group = null;
  }

  private fileTrailer(record: BaiRecord, fields: Fields): void {
    if (this.group) throw new ParseError(FORMAT, "99 file trailer before the 98 trailer of the last group", record.line, "99");
    const [controlTotal, groupCount, recordCount] = readAll(fields, 3);
    verifyTotal(controlTotal, [this.fileTotal.toFixed()], record.line, "99 file control total");
    verifyCount(groupCount, this.groups, "groups", record.line, "99 number of groups");
    verifyCount(recordCount, this.fileRecords, "records", record.line, "99 record count");
    this.ended = true;
  }
}

/** The next n fields, trimmed; missing ones are blank. */
function readAll(fields: Fields, n: number): string[] {
  return Array.from({ length: n }, () => (fields.next() ?? "").trim());
}

type Detail = { typeCode: string; minor: string; funds: Funds; bankReference: string; customerReference: string; text: string };

/** A 16 record: type code, amount in minor units, funds type, bank and customer reference, then free text. */
function readDetail(fields: Fields, line: number): Detail {
  const typeCode = (fields.next() ?? "").trim();
  if (!/^\d{3}$/.test(typeCode)) throw new ParseError(FORMAT, `type code "${clip(typeCode)}" is not three digits`, line, "16 type code");
  const minor = (fields.next() ?? "").trim();
  if (!/^\+?\d+$/.test(minor)) throw new ParseError(FORMAT, `amount "${clip(minor)}" is not an unsigned number of minor units`, line, "16 amount");
  const funds = readFunds(fields);
  const bankReference = (fields.next() ?? "").trim();
  const customerReference = (fields.next() ?? "").trim();
  return { typeCode, minor, funds, bankReference, customerReference, text: fields.rest() };
}

type Summary = { typeCode: string; amount: string };

/** One 03 summary: type code, amount, item count, funds type (with its extra fields). Null at the end. */
function readSummary(fields: Fields): Summary | null {
  const typeCode = fields.next()?.trim();
  if (typeCode === undefined) return null;
  const line = fields.line;
  if (typeCode === "") return blankSummary(fields, line);
  const amount = (fields.next() ?? "").trim();
  const itemCount = (fields.next() ?? "").trim();
  readFunds(fields);
  if (!/^\d{3}$/.test(typeCode)) throw new ParseError(FORMAT, `summary type code "${clip(typeCode)}" is not three digits`, line, "03 type code");
  if (amount !== "" && !/^[+-]?\d+$/.test(amount)) throw new ParseError(FORMAT, `amount "${clip(amount)}" of summary ${typeCode} is not a number of minor units`, line, "03 amount");
  if (!/^\d*$/.test(itemCount)) throw new ParseError(FORMAT, `item count "${clip(itemCount)}" of summary ${typeCode} is not a number`, line, "03 item count");
  return { typeCode, amount };
}

/**
 * A summary without type code is either an empty one ("USD,,,,,060,…") or a surplus delimiter
 * before the end of the line ("015,35217175,,,/"). Its blank fields never run on into the next
 * 88, which would shift every summary after it.
 */
function blankSummary(fields: Fields, line: number): Summary {
  for (let i = 0; i < 3; i++) {
    const field = fields.nextInSegment()?.trim();
    if (field) throw new ParseError(FORMAT, `"${clip(field)}" follows a blank summary type code`, line, "03 type code");
  }
  return { typeCode: "", amount: "" };
}

type Funds = { type: string; valueDate: string | null; detail: Record<string, unknown> | null };

/**
 * Funds type and the fields it adds: V value date and time, S immediate / one-day / two-or-more-day
 * amounts, D a count of (days, amount) pairs. 0, 1, 2, Z and blank add none.
 */
function readFunds(fields: Fields): Funds {
  const type = (fields.next() ?? "").trim();
  const line = fields.line;
  switch (type) {
    case "":
    case "0":
    case "1":
    case "2":
    case "Z":
      return { type, valueDate: null, detail: null };
    case "V": {
      const [date, time] = readAll(fields, 2);
      return { type, valueDate: date === "" ? null : baiDate(date, line, "value date"), detail: { valueDate: date, valueTime: time } };
    }
    case "S": {
      const [immediate, oneDay, twoOrMoreDays] = readAll(fields, 3);
      for (const amount of [immediate, oneDay, twoOrMoreDays]) minorUnitsField(amount, line, "funds availability amount");
      return { type, valueDate: null, detail: { immediate, oneDay, twoOrMoreDays } };
    }
    case "D": {
      const count = (fields.next() ?? "").trim();
      if (!/^\d{1,4}$/.test(count)) throw new ParseError(FORMAT, `distribution count "${clip(count)}" is not a number`, line, "funds distribution count");
      const distributions: { days: string; amount: string }[] = [];
      for (let i = 0; i < Number(count); i++) {
        const days = fields.next();
        const amount = fields.next();
        if (days === undefined || amount === undefined) throw new ParseError(FORMAT, `the record ends inside its ${count} funds distributions`, line, "funds distribution");
        if (!/^\d+$/.test(days.trim())) throw new ParseError(FORMAT, `distribution days "${clip(days)}" is not a number`, line, "funds distribution");
        minorUnitsField(amount.trim(), line, "funds distribution amount");
        distributions.push({ days: days.trim(), amount: amount.trim() });
      }
      return { type, valueDate: null, detail: { distributions } };
    }
    default:
      throw new ParseError(FORMAT, `funds type "${clip(type)}" is not 0, 1, 2, S, V, D or Z`, line, "funds type");
  }
}

function minorUnitsField(amount: string, line: number, field: string): void {
  if (amount !== "" && !/^[+-]?\d+$/.test(amount)) throw new ParseError(FORMAT, `"${clip(amount)}" is not a number of minor units`, line, field);
}

/** Checks a trailer's control total against the amounts it covers; blank means the sender gave none. Returns the sum. */
function verifyTotal(controlTotal: string, amounts: string[], line: number, field: string): Money {
  const actual = sum(amounts);
  if (controlTotal === "") return actual;
  if (!/^[+-]?\d+$/.test(controlTotal)) throw new ParseError(FORMAT, `control total "${clip(controlTotal)}" is not a number`, line, field);
  if (!actual.eq(controlTotal)) {
    throw new ParseError(FORMAT, `control total is ${money(controlTotal).toFixed()} but the amounts add up to ${actual.toFixed()}`, line, field);
  }
  return actual;
}

function verifyCount(count: string, actual: number, what: string, line: number, field: string): void {
  if (count === "") return;
  if (!/^\d+$/.test(count)) throw new ParseError(FORMAT, `"${clip(count)}" is not a number of ${what}`, line, field);
  if (Number(count) !== actual) throw new ParseError(FORMAT, `the trailer counts ${Number(count)} ${what} but there are ${actual}`, line, field);
}

/** Minor units ("+000000000208500", "-3500") to a decimal string in the currency's major unit. */
function fromMinorUnits(minor: string, currency: string, line: number, field: string): string {
  const negative = minor.startsWith("-");
  const digits = minor.replace(/^[+-]/, "");
  const exponent = minorUnits(currency);
  const padded = digits.padStart(exponent + 1, "0");
  const decimal = exponent === 0 ? padded : `${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
  const amount = normaliseAmount(`${negative ? "-" : ""}${decimal}`);
  if (amount === null || !DECIMAL_PATTERN.test(amount)) throw new ParseError(FORMAT, `amount "${clip(minor)}" is out of range`, line, field);
  return amount;
}

function baiDate(yymmdd: string, line: number, field: string): string {
  const yy = Number(yymmdd.slice(0, 2));
  const year = yy < 80 ? 2000 + yy : 1900 + yy;
  const date = /^\d{6}$/.test(yymmdd) ? isoDate(year, Number(yymmdd.slice(2, 4)), Number(yymmdd.slice(4, 6))) : null;
  if (!date) throw new ParseError(FORMAT, `"${clip(yymmdd)}" is not a date (YYMMDD)`, line, field);
  return date;
}

function currencyCode(text: string, line: number, field: string): string {
  if (!/^[A-Z]{3}$/.test(text)) throw new ParseError(FORMAT, `currency "${clip(text)}" is not an ISO 4217 code`, line, field);
  return text;
}

/** BAI type codes 100–399 are credits, 400–699 debits; loan (7xx) and custom (9xx) codes have no fixed direction. */
function directionOf(typeCode: string): "credit" | "debit" | null {
  const code = Number(typeCode);
  if (code >= 100 && code <= 399) return "credit";
  if (code >= 400 && code <= 699) return "debit";
  return null;
}

/** Only detail codes whose meaning is unambiguous get a type; the rest stay "other". */
const TYPE_BY_CODE: Record<string, TransactionType> = {
  "354": "interest", // interest credit
  "654": "interest", // interest debit
  "564": "fee", // overdraft fee
  "567": "fee", // return item fee
  "661": "fee", // account analysis fee
  "698": "fee", // miscellaneous fees
  "398": "refund", // miscellaneous fee refund
  "191": "transfer", // incoming internal money transfer
  "195": "transfer", // incoming money transfer
  "201": "transfer", // automatic transfer credit
  "206": "transfer", // book transfer credit
  "208": "transfer", // international money transfer credit
  "491": "transfer", // outgoing internal money transfer
  "495": "transfer", // outgoing money transfer
  "501": "transfer", // automatic transfer debit
  "506": "transfer", // book transfer debit
  "508": "transfer", // international money transfer debit
};

function transactionTypeOf(typeCode: string): TransactionType {
  return TYPE_BY_CODE[typeCode] ?? "other";
}
