import { DECIMAL_PATTERN } from "../../money";
import {
  DEFAULT_LIMITS,
  ParseError,
  type CanonicalRecord,
  type ParsedFile,
  type ParsedStatement,
  type ParseLimits,
  type Parser,
  type TransactionType,
} from "./canonical";
import { clip, isoDate, negate, normaliseAmount } from "./decimal-text";
import { decodeText, splitLines } from "./text";

/**
 * SWIFT MT940 (customer statement) and MT942 (interim transaction report).
 *
 * The text is read as SWIFT fields (":61:" etc. at the start of a line, continuation lines
 * appended), optionally wrapped in the {1:}{2:}{4: … -} envelope. Every ":20:" starts a
 * statement. A file is reported as "mt942" when all its statements are interim reports: they
 * carry MT942-only fields (:34F: floor limit, :13D: date/time, :90D:/:90C: entry totals) and no
 * :60F:/:62F: balances. MT940 statements must have an opening and a closing balance.
 */

const FORMAT = "mt940";

/** A SWIFT field: its tag without colons (e.g. "61", "60F", "NS") and its content lines. */
type Field = { tag: string; lines: string[]; line: number };
/** The "-" line that ends a SWIFT message block. */
type MessageEnd = { end: true; line: number };

type Balance = { date: string; currency: string; amount: string; line: number };

type TransactionDraft = { entry: Field; information: Field[]; extra: Field[] };

type StatementDraft = {
  reference: string | null;
  sequence: string | null;
  account: string | null;
  line: number;
  opening: Balance | null;
  closing: Balance | null;
  /** Currency of an MT942 report, from :34F:, :90D: or :90C: (it has no balances). */
  reportCurrency: string | null;
  interim: boolean;
  /** Lines that followed a closed statement without a new :20: (see openFragment). */
  fragmentOf: StatementDraft | null;
  transactions: TransactionDraft[];
};

/** A field tag at the start of a line: two digits and an optional letter, or the ":NS:" bank field. */
const TAG = /^:(\d{2}[A-Z]?|NS):/;
/** Transmission control characters (SOH, ETX, …) some banks leave around the message. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const INTERIM_TAGS = new Set(["34F", "13D", "90D", "90C"]);

export const mt940Parser: Parser = {
  name: FORMAT,
  version: "1",
  detect(head) {
    return /^:20:/m.test(head) && /^:(25|28C?|60F|61):/m.test(head);
  },
  parse(bytes, _options, limits) {
    const { maxBytes, maxRecords } = { ...DEFAULT_LIMITS, ...limits } satisfies ParseLimits;
    if (bytes.length > maxBytes) throw new ParseError(FORMAT, `the file is larger than the ${maxBytes}-byte limit`);
    const { text } = decodeText(bytes, FORMAT);
    const reader = new StatementReader(maxRecords);
    for (const token of readFields(splitLines(text))) reader.accept(token);
    return reader.finish();
  },
};

/** Splits the text into SWIFT fields and message ends, dropping envelope and bank header lines. */
function readFields(lines: string[]): (Field | MessageEnd)[] {
  const tokens: (Field | MessageEnd)[] = [];
  let current: Field | null = null;
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    let line = raw.replace(CONTROL_CHARACTERS, "");
    if (line.startsWith("{")) {
      // Envelope blocks {1:}{2:}{3:}{5:}; the message text starts after "{4:".
      const body = line.indexOf("{4:");
      current = null;
      if (body < 0) return;
      line = line.slice(body + 3);
      if (line.trim() === "") return;
    }
    // SWIFT forbids field lines starting with "-", so such a line always ends the message ("-", "-}", "-}{5:}").
    if (line.startsWith("-")) {
      tokens.push({ end: true, line: lineNumber });
      current = null;
      return;
    }
    const tag = TAG.exec(line);
    if (tag) {
      current = { tag: tag[1], lines: [line.slice(tag[0].length)], line: lineNumber };
      tokens.push(current);
    } else if (current) {
      current.lines.push(line);
    }
    // Text outside any field ("ABNANL2A", "940", ":940:") is a bank's transmission header.
  });
  return tokens;
}

/** Builds statements from the fields in file order. */
class StatementReader {
  private readonly statements: StatementDraft[] = [];
  private current: StatementDraft | null = null;
  /** The transaction a following :86: belongs to; any other field in between ends it. */
  private transaction: TransactionDraft | null = null;
  private transactionCount = 0;
  private readonly warnings: string[] = [];

  constructor(private readonly maxRecords: number) {}

  accept(token: Field | MessageEnd): void {
    if ("end" in token) {
      this.current = null;
      this.transaction = null;
      return;
    }
    const field = token;
    if (field.tag === "20") {
      this.current = newStatement(field.lines[0].trim() || null, field.line, null);
      this.statements.push(this.current);
      this.transaction = null;
      return;
    }
    const statement = this.current ?? this.openFragment(field);
    this.acceptInStatement(statement, field);
  }

  /**
   * Some exports append transactions after a message's "-" without a new :20: header. They are
   * kept as a statement of their own (same account and currency as the one before, no balances)
   * with a warning, rather than silently added to a statement whose balances do not include them.
   */
  private openFragment(field: Field): StatementDraft {
    const previous = this.statements.at(-1);
    if (field.tag !== "61" || !previous) {
      throw new ParseError(FORMAT, `field :${field.tag}: is outside a statement (no :20: before it)`, field.line, `:${field.tag}:`);
    }
    const fragment = newStatement(null, field.line, previous);
    fragment.account = previous.account;
    this.statements.push(fragment);
    this.current = fragment;
    this.warnings.push(`line ${field.line}: transactions after the end of a statement without a new :20: were kept as a separate statement without balances`);
    return fragment;
  }

  private acceptInStatement(statement: StatementDraft, field: Field): void {
    const tag = field.tag;
    if (tag === "86" && this.transaction) {
      this.transaction.information.push(field);
      return;
    }
    if (tag === "NS" && this.transaction) {
      this.transaction.extra.push(field);
      return;
    }
    this.transaction = null;
    if (INTERIM_TAGS.has(tag)) {
      statement.interim = true;
      statement.reportCurrency ??= /^\d*([A-Z]{3})/.exec(field.lines[0].trim())?.[1] ?? null;
    }
    switch (tag) {
      case "25":
        statement.account = field.lines[0].trim() || null;
        return;
      case "28":
      case "28C":
        statement.sequence = field.lines[0].trim() || null;
        return;
      case "60F":
      case "60M":
        if (statement.opening) throw new ParseError(FORMAT, "the statement has a second opening balance", field.line, `:${tag}:`);
        statement.opening = readBalance(field);
        return;
      case "62F":
      case "62M":
        if (statement.closing) throw new ParseError(FORMAT, "the statement has a second closing balance", field.line, `:${tag}:`);
        statement.closing = readBalance(field);
        return;
      case "61":
        if (statement.closing) {
          throw new ParseError(FORMAT, "transaction after the closing balance :62F: of its statement", field.line, ":61:");
        }
        if (++this.transactionCount > this.maxRecords) {
          throw new ParseError(FORMAT, `the file has more than ${this.maxRecords} transactions`, field.line, ":61:");
        }
        this.transaction = { entry: field, information: [], extra: [] };
        statement.transactions.push(this.transaction);
        return;
      default:
      // :21:, :64:, :65:, :13D:, statement-level :86: and bank fields carry nothing the canonical record holds.
    }
  }

  finish(): ParsedFile {
    if (this.statements.length === 0) throw new ParseError(FORMAT, "no statement found: the file has no :20: field");
    const statements: ParsedStatement[] = [];
    const records: CanonicalRecord[] = [];
    for (const draft of this.statements) {
      const statement = finishStatement(draft);
      const index = statements.length;
      statements.push(statement);
      for (const transaction of draft.transactions) records.push(toRecord(transaction, statement.currency, index));
    }
    const headed = this.statements.filter((s) => !s.fragmentOf);
    const format = headed.every((s) => s.interim && !s.opening && !s.closing) ? "mt942" : "mt940";
    return { format, parserVersion: mt940Parser.version, statements, records, warnings: this.warnings };
  }
}

function newStatement(reference: string | null, line: number, fragmentOf: StatementDraft | null): StatementDraft {
  return {
    reference,
    sequence: null,
    account: null,
    line,
    opening: null,
    closing: null,
    reportCurrency: null,
    interim: false,
    fragmentOf,
    transactions: [],
  };
}

function finishStatement(draft: StatementDraft): ParsedStatement {
  const name = draft.reference ? `statement "${clip(draft.reference)}"` : "the statement";
  if (!draft.interim && !draft.fragmentOf) {
    if (!draft.opening) throw new ParseError(FORMAT, `${name} has no opening balance :60F:`, draft.line, ":60F:");
    if (!draft.closing) throw new ParseError(FORMAT, `${name} has no closing balance :62F:`, draft.line, ":62F:");
  }
  if (draft.opening && draft.closing && draft.opening.currency !== draft.closing.currency) {
    throw new ParseError(FORMAT, `${name} opens in ${draft.opening.currency} but closes in ${draft.closing.currency}`, draft.closing.line, ":62F:");
  }
  const currency = draft.opening?.currency ?? draft.closing?.currency ?? draft.reportCurrency ?? currencyOf(draft.fragmentOf);
  if (!currency) throw new ParseError(FORMAT, `${name} has no currency (no :60F:, :62F: or :34F:)`, draft.line, ":60F:");
  return {
    statementId: draft.reference === null ? null : draft.sequence ? `${draft.reference}/${draft.sequence}` : draft.reference,
    account: draft.account === null ? null : withoutCurrencySuffix(draft.account, currency),
    currency,
    opening: draft.opening && { date: draft.opening.date, amount: draft.opening.amount },
    closing: draft.closing && { date: draft.closing.date, amount: draft.closing.amount },
    lines: draft.transactions.length,
  };
}

function currencyOf(draft: StatementDraft | null): string | null {
  if (!draft) return null;
  return draft.opening?.currency ?? draft.closing?.currency ?? draft.reportCurrency ?? currencyOf(draft.fragmentOf);
}

/** ":25:NL10BUNQ2290325473 EUR", "1017.490.554EUR", "BIC/ACCOUNT/HUF": the account without the statement's currency. */
function withoutCurrencySuffix(account: string, currency: string): string {
  if (account.length > currency.length && account.endsWith(currency)) {
    const stripped = trimEnd(account.slice(0, -currency.length), " /");
    if (/[0-9A-Za-z]$/.test(stripped)) return stripped;
  }
  return account;
}

/**
 * Drops the given characters from the end. A loop, not /[…]+$/: that regex backtracks
 * quadratically over a long run of those characters in the middle of the text.
 */
function trimEnd(text: string, characters: string): string {
  let end = text.length;
  while (end > 0 && characters.includes(text[end - 1])) end--;
  return text.slice(0, end);
}

const BALANCE = /^([CD])(\d{6})([A-Z]{3})(\d+(?:[,.]\d*)?)$/;

/** ":60F:C131130CHF0," — mark, date, currency, amount. */
function readBalance(field: Field): Balance {
  const tag = `:${field.tag}:`;
  const text = field.lines[0].trim();
  const match = BALANCE.exec(text);
  if (!match) throw new ParseError(FORMAT, `balance "${clip(text)}" is not C/D, date YYMMDD, currency and amount`, field.line, tag);
  const amount = swiftAmount(match[4], field.line, tag);
  return {
    date: swiftDate(match[2], field.line, tag),
    currency: match[3],
    amount: match[1] === "D" ? negate(amount) : amount,
    line: field.line,
  };
}

/** SWIFT writes "1234,56", "203," or (some banks) "000000002145.00". */
function swiftAmount(text: string, line: number, field: string): string {
  const separator = text.includes(",") ? "," : ".";
  const trimmed = text.endsWith(separator) ? text.slice(0, -1) : text;
  const amount = normaliseAmount(trimmed, separator);
  if (amount === null || !DECIMAL_PATTERN.test(amount)) throw new ParseError(FORMAT, `amount "${clip(text)}" is not a valid amount`, line, field);
  return amount;
}

function centuryOf(yy: number): number {
  return yy < 80 ? 2000 + yy : 1900 + yy;
}

function swiftDate(yymmdd: string, line: number, field: string): string {
  const date = isoDate(centuryOf(Number(yymmdd.slice(0, 2))), Number(yymmdd.slice(2, 4)), Number(yymmdd.slice(4, 6)));
  if (!date) throw new ParseError(FORMAT, `"${yymmdd}" is not a date (YYMMDD)`, line, field);
  return date;
}

/**
 * The entry date has no year: it is the MMDD closest to the value date, so an entry on 0102 for a
 * value date of 2012-12-31 is 2013-01-02, and 1231 for a value date of 2013-01-02 is 2012-12-31.
 */
function entryDate(valueDate: string, mmdd: string, line: number): string {
  const year = Number(valueDate.slice(0, 4));
  const value = Date.parse(valueDate);
  let best: string | null = null;
  for (const candidateYear of [year - 1, year, year + 1]) {
    const candidate = isoDate(candidateYear, Number(mmdd.slice(0, 2)), Number(mmdd.slice(2, 4)));
    if (candidate && (best === null || Math.abs(Date.parse(candidate) - value) < Math.abs(Date.parse(best) - value))) best = candidate;
  }
  if (!best) throw new ParseError(FORMAT, `entry date "${mmdd}" is not a date (MMDD)`, line, ":61:");
  return best;
}

/**
 * :61: subfields: value date YYMMDD, optional entry date MMDD (blank-padded by some banks),
 * D/C/RD/RC mark, optional funds code (third letter of the currency), amount.
 */
const ENTRY = /^(\d{6})(\d{4}| {4})?(RC|RD|C|D)([A-Z])?(\d+(?:[,.]\d*)?)/;
/** Transaction type: N/F/S and three characters (NTRF, N192, "NIT "). Some banks omit it. */
const TRANSACTION_TYPE = /^[A-Z][A-Z0-9 ]{3}/;

type Entry = {
  valueDate: string;
  bookedDate: string;
  mark: string;
  fundsCode: string | null;
  amount: string;
  transactionType: string | null;
  customerReference: string | null;
  bankReference: string | null;
  supplementaryDetails: string | null;
};

function readEntry(field: Field): Entry {
  const text = field.lines[0];
  const match = ENTRY.exec(text);
  if (!match) {
    throw new ParseError(FORMAT, `transaction "${clip(text)}" does not start with value date, D/C mark and amount`, field.line, ":61:");
  }
  const valueDate = swiftDate(match[1], field.line, ":61:");
  const entry = match[2] && match[2].trim() !== "" ? entryDate(valueDate, match[2], field.line) : null;
  const mark = match[3];
  const amount = swiftAmount(match[5], field.line, ":61:");
  let rest = text.slice(match[0].length);
  // Penta writes "D20,00NONREF" without a type code; "NONR" is not one.
  const type = rest.startsWith("NONREF") ? null : (TRANSACTION_TYPE.exec(rest)?.[0] ?? null);
  if (type) rest = rest.slice(type.length);
  else if (rest !== "" && !rest.startsWith("NONREF") && !rest.startsWith("//")) {
    throw new ParseError(FORMAT, `"${clip(rest)}" after the amount is not a transaction type code (N, F or S and three characters)`, field.line, ":61:");
  }
  const slashes = rest.indexOf("//");
  const customerReference = (slashes < 0 ? rest : rest.slice(0, slashes)).trim();
  const bankReference = slashes < 0 ? "" : rest.slice(slashes + 2).trim();
  const supplementary = field.lines.slice(1).map((l) => l.trim()).filter((l) => l !== "").join(" ");
  return {
    valueDate,
    bookedDate: entry ?? valueDate,
    mark,
    fundsCode: match[4] ?? null,
    // C and RD (reversal of a debit) bring money in; D and RC take it out.
    amount: mark === "D" || mark === "RC" ? negate(amount) : amount,
    transactionType: type,
    customerReference: customerReference || null,
    bankReference: bankReference || null,
    supplementaryDetails: supplementary || null,
  };
}

function toRecord(transaction: TransactionDraft, currency: string, statementIndex: number): CanonicalRecord {
  const entry = readEntry(transaction.entry);
  const informationLines = transaction.information.flatMap((f) => f.lines);
  const information = readInformation(informationLines);
  const original = originalAmount([entry.supplementaryDetails ?? "", informationLines.join("")].join(" "), entry.amount);
  const raw: Record<string, unknown> = {
    "61": transaction.entry.lines.join("\n"),
    valueDate: entry.valueDate,
    bookedDate: entry.bookedDate,
    mark: entry.mark,
    fundsCode: entry.fundsCode,
    transactionType: entry.transactionType,
    customerReference: entry.customerReference,
    bankReference: entry.bankReference,
    supplementaryDetails: entry.supplementaryDetails,
  };
  if (informationLines.length > 0) raw["86"] = informationLines.join("\n");
  if (information.subfields) raw.subfields = information.subfields;
  for (const extra of transaction.extra) raw[extra.tag] = extra.lines.join("\n");
  return {
    externalId: meaningful(entry.bankReference),
    bookedDate: entry.bookedDate,
    valueDate: entry.valueDate,
    amount: entry.amount,
    currency,
    counterpartyName: information.counterpartyName,
    counterpartyAccount: information.counterpartyAccount ?? ibanIn(entry.supplementaryDetails),
    reference: information.reference ?? meaningful(entry.customerReference),
    description: information.description ?? entry.supplementaryDetails,
    bankTransactionCode: entry.transactionType?.trim() || null,
    type: transactionTypeOf(entry.transactionType),
    originalAmount: original?.amount ?? null,
    originalCurrency: original?.currency ?? null,
    statementIndex,
    raw,
  };
}

/** "NONREF" (and its variants) means the bank has no reference for the line. */
function meaningful(reference: string | null): string | null {
  if (reference === null || /^(NONREF|NOTPROVIDED)$/i.test(reference)) return null;
  return reference;
}

/** Rabobank puts the counterparty IBAN in the :61: supplementary details. */
function ibanIn(text: string | null): string | null {
  return text !== null && /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(text) ? text : null;
}

/** "/OCMT/USD2853,12/": the original ordered amount, signed like the booked amount. */
function originalAmount(text: string, bookedAmount: string): { amount: string; currency: string } | null {
  const match = /\/OCMT\/([A-Z]{3})(\d{1,15}(?:,\d*)?)\//.exec(text);
  if (!match) return null;
  const separatorless = match[2].endsWith(",") ? match[2].slice(0, -1) : match[2];
  const amount = normaliseAmount(separatorless, ",");
  if (amount === null || !DECIMAL_PATTERN.test(amount)) return null;
  return { amount: bookedAmount.startsWith("-") ? negate(amount) : amount, currency: match[1] };
}

/**
 * Only codes whose meaning is unambiguous get a type; "NMSC", bank-specific numeric codes
 * ("N192") and anything else stay "other". A reversal keeps the type of what it reverses.
 */
function transactionTypeOf(code: string | null): TransactionType {
  switch (code?.slice(1).trim()) {
    case "INT":
      return "interest";
    case "CHG":
    case "COM":
    case "BRF":
      return "fee";
    case "TRF":
      return "transfer";
    case "DDT":
    case "STO":
    case "CHK":
    case "ECK":
    case "TCK":
    case "BOE":
      return "payment";
    case "RTI":
      return "refund";
    default:
      return "other";
  }
}

type Information = {
  counterpartyName: string | null;
  counterpartyAccount: string | null;
  reference: string | null;
  description: string | null;
  subfields: Record<string, string> | null;
};

/**
 * :86: "information to account owner". Three shapes occur: German/ZKA subfields
 * ("166?00GUTSCHRIFT?20…?32NAME", Triodos uses ">" for "?"), Dutch keyword pairs
 * ("/TRTP/…/IBAN/…/NAME/…/REMI/…") and free text. Structured text is wrapped at a fixed width,
 * even mid-word, so its lines are joined without a separator; free text lines with a space.
 */
function readInformation(lines: string[]): Information {
  const freeText = collapse(lines.join(" "));
  const joined = lines.join("").trim();
  const structured = readGermanSubfields(joined) ?? readDutchKeywords(joined);
  if (!structured) return { counterpartyName: null, counterpartyAccount: null, reference: null, description: freeText, subfields: null };
  return { ...structured, description: structured.description ?? freeText };
}

function collapse(text: string): string | null {
  const collapsed = text.replace(/\s+/g, " ").trim();
  return collapsed === "" ? null : collapsed;
}

const GERMAN_START = /^(\d{3})?([?>])\d{2}/;
/** SEPA keywords inside German remittance subfields: EREF+ end-to-end id, SVWZ+ purpose, … */
const SEPA_KEYWORD = /(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|IBAN|BIC)\+/g;

function readGermanSubfields(text: string): Information | null {
  const start = GERMAN_START.exec(text);
  if (!start) return null;
  const separator = start[2];
  const subfields: Record<string, string> = {};
  if (start[1]) subfields.transactionCode = start[1];
  let last: string | null = null;
  for (const part of text.split(separator).slice(1)) {
    const code = part.slice(0, 2);
    if (/^\d{2}$/.test(code)) {
      subfields[code] = (subfields[code] ?? "") + part.slice(2);
      last = code;
    } else if (last !== null) {
      // A literal "?" inside a subfield's text.
      subfields[last] += separator + part;
    }
  }
  const remittance = joinSubfields(
    Object.keys(subfields)
      .filter((code) => /^(2\d|6[0-3])$/.test(code))
      .sort()
      .map((code) => subfields[code]),
  );
  const keyed = sepaKeywords(remittance);
  return {
    counterpartyName: collapse(joinSubfields([subfields["32"] ?? "", subfields["33"] ?? ""])),
    counterpartyAccount: collapse(subfields["31"] ?? "") ?? collapse(subfields["38"] ?? ""),
    reference: keyed ? (meaningful(keyed.EREF ?? null) ?? keyed.KREF ?? null) : null,
    description: (keyed?.SVWZ ?? collapse(remittance)) ?? collapse(subfields["00"] ?? ""),
    subfields,
  };
}

/**
 * Subfields hold 27 characters. A full one usually continues mid-word in the next ("TEGENREKENIN"
 * + "G"), a shorter one ended a line of its own, so only the latter gets a space.
 */
function joinSubfields(parts: string[]): string {
  let text = "";
  parts.forEach((part, i) => {
    text += i > 0 && parts[i - 1].length !== 27 ? ` ${part}` : part;
  });
  return text.trim();
}

/** "EREF+abc SVWZ+Invoice 12": the keyword values, or null when the text does not start with one. */
function sepaKeywords(text: string): Record<string, string> | null {
  const matches = [...text.matchAll(SEPA_KEYWORD)];
  if (matches.length === 0 || matches[0].index !== 0) return null;
  const values: Record<string, string> = {};
  matches.forEach((match, i) => {
    const end = i + 1 < matches.length ? matches[i + 1].index : text.length;
    const value = collapse(text.slice(match.index + match[0].length, end));
    if (value !== null) values[match[1]] ??= value;
  });
  return values;
}

const DUTCH_KEYWORDS = [
  "TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "MARF", "CSID", "ORDP", "BENM", "ADDR", "ISDT", "ACCW",
  "OCMT", "PREF", "RTRN", "BUSP", "ULTC", "ULTD", "PURP", "SVCL", "CDTRREFTP", "CDTRREF", "CNTP", "CHGS", "EXCH", "IREF",
];
const DUTCH_KEYWORD = new RegExp(`/(${DUTCH_KEYWORDS.join("|")})/`, "g");

function readDutchKeywords(text: string): Information | null {
  const matches = [...text.matchAll(DUTCH_KEYWORD)];
  if (matches.length === 0 || matches[0].index !== 0) return null;
  const subfields: Record<string, string> = {};
  matches.forEach((match, i) => {
    const end = i + 1 < matches.length ? matches[i + 1].index : text.length;
    const value = trimEnd(text.slice(match.index + match[0].length, end), "/").trim();
    // A keyword can repeat (BENM//NAME/… and ORDP//NAME/…): the first non-empty value counts.
    if (!subfields[match[1]]) subfields[match[1]] = value;
  });
  const remittance = subfields.REMI ?? "";
  // "/REMI/STRD/CUR/1234…": a structured creditor reference; "/REMI/USTD//text": unstructured text.
  const structuredReference = /^STRD\/(?:CUR|ISO)\/([^/]+)/.exec(remittance)?.[1] ?? null;
  return {
    counterpartyName: collapse(subfields.NAME ?? ""),
    counterpartyAccount: collapse(subfields.IBAN ?? "") ?? collapse((subfields.ACCW ?? "").split(",")[0]),
    reference: meaningful(collapse(subfields.EREF ?? "")) ?? structuredReference,
    description: structuredReference ? null : collapse(remittance.replace(/^USTD\/\/?/, "")),
    subfields,
  };
}
