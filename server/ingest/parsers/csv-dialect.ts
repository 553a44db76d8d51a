import { ParseError } from "./canonical";
import { isoDate, normaliseAmount } from "./decimal-text";

/**
 * The reading side of tabular imports: an RFC 4180 tokenizer, the cell readers (dates, amounts)
 * and the sniffing that tells how a file is written (delimiter, header row, decimal and date
 * conventions). Nothing here knows about banks; csv-presets.ts and csv.ts do.
 */

export const DELIMITERS = [",", ";", "\t", "|"] as const;
export type Delimiter = (typeof DELIMITERS)[number];
export type DecimalSeparator = "." | ",";
export type ThousandsSeparator = "" | "," | "." | " " | "'";

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits CSV text into records, one call to next() per record. Hand-written so that it is linear
 * in the input whatever the input is: quoted fields are found with indexOf, everything else with
 * a char-code loop. Quoted fields may hold delimiters, doubled quotes and line breaks; line ends
 * are CRLF, LF or a lone CR. Real exports are not always valid RFC 4180, so a quote inside an
 * unquoted field is kept as a character, and text after a closing quote is kept too; only a
 * quoted field that never closes is an error, because everything after it would be swallowed.
 */
export class CsvTokenizer {
  private pos = 0;
  private line = 1;
  /** The 1-based line on which the record last returned by next() starts. */
  recordLine = 1;
  private readonly delimiter: number;
  private quotedEnd = 0;

  constructor(
    private readonly text: string,
    delimiter: Delimiter,
    private readonly format = "csv",
  ) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  next(): string[] | null {
    const text = this.text;
    const n = text.length;
    const d = this.delimiter;
    let i = this.pos;
    if (i >= n) return null;
    this.recordLine = this.line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        value = this.quoted(i);
        i = this.quotedEnd;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === LF || c === CR) break;
          j++;
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i >= n) {
        this.pos = n;
        return fields;
      }
      const c = text.charCodeAt(i);
      if (c === d) {
        i++;
        continue;
      }
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      this.line++;
      this.pos = i;
      return fields;
    }
  }

  /** Reads the quoted field opening at `at`; returns its value and leaves the position after it in quotedEnd. */
  private quoted(at: number): string {
    const text = this.text;
    const n = text.length;
    const startLine = this.line;
    let value = "";
    let from = at + 1;
    for (;;) {
      const q = text.indexOf('"', from);
      if (q < 0) throw new ParseError(this.format, "a quoted field opens here but is never closed", startLine);
      this.line += lineBreaks(text, from, q);
      value += text.slice(from, q);
      if (text.charCodeAt(q + 1) === QUOTE) {
        value += '"';
        from = q + 2;
        continue;
      }
      let j = q + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === this.delimiter || c === LF || c === CR) break;
        j++;
      }
      this.quotedEnd = j;
      return j > q + 1 ? value + text.slice(q + 1, j) : value;
    }
  }
}

function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}

/** A row of a table as read from the file: its 1-based line (or spreadsheet row) and its cells. */
export type TableRow = { line: number; cells: string[] };

export function isBlankRow(cells: string[]): boolean {
  for (const c of cells) if (c.trim() !== "") return false;
  return true;
}

/** The first non-blank records of a text, for sniffing. A quote left open ends the sample. */
export function sampleRows(text: string, delimiter: Delimiter, max: number): TableRow[] {
  const tokenizer = new CsvTokenizer(text, delimiter);
  const rows: TableRow[] = [];
  try {
    for (let cells = tokenizer.next(); cells && rows.length < max; cells = tokenizer.next()) {
      if (!isBlankRow(cells)) rows.push({ line: tokenizer.recordLine, cells });
    }
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Dates

/**
 * The date layouts a bank export may use. Day and month accept one or two digits ("4/1/2008"),
 * two-digit years are 2000–2069 or 1970–1999, and a time after the date ("2018-02-25 12:34:56
 * +0000", "20091224120000[0:GMT]") is ignored: the booking date is the calendar day.
 */
export const DATE_FORMATS = [
  "yyyy-mm-dd",
  "yyyy/mm/dd",
  "yyyy.mm.dd",
  "yyyymmdd",
  "dd.mm.yyyy",
  "dd.mm.yy",
  "dd/mm/yyyy",
  "mm/dd/yyyy",
  "d/m/yy",
  "m/d/yy",
  "dd-mm-yyyy",
  "mm-dd-yyyy",
  "dd-mm-yy",
  "dd mmm yyyy",
  "dd mmm yy",
] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

type DateLayout = { re: RegExp; order: "ymd" | "dmy" | "mdy"; monthName?: true };

// Each pattern is anchored and has no nested quantifiers, so matching is linear; the optional
// tail (a time) is one `.*` that can only be tried once.
const DMY = (sep: string, yearDigits: number) => new RegExp(`^(\\d{1,2})${sep}(\\d{1,2})${sep}(\\d{${yearDigits}})(?: .*)?$`);
const LAYOUTS: Record<DateFormat, DateLayout> = {
  "yyyy-mm-dd": { re: /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/, order: "ymd" },
  "yyyy/mm/dd": { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:[T ].*)?$/, order: "ymd" },
  "yyyy.mm.dd": { re: /^(\d{4})\.(\d{1,2})\.(\d{1,2})\.?(?: .*)?$/, order: "ymd" },
  yyyymmdd: { re: /^(\d{4})(\d{2})(\d{2})(?:\d{4}(?:\d{2})?(?:\D.*)?|[T ].*)?$/, order: "ymd" },
  "dd.mm.yyyy": { re: DMY("\\.", 4), order: "dmy" },
  "dd.mm.yy": { re: DMY("\\.", 2), order: "dmy" },
  "dd/mm/yyyy": { re: DMY("/", 4), order: "dmy" },
  "mm/dd/yyyy": { re: DMY("/", 4), order: "mdy" },
  "d/m/yy": { re: DMY("/", 2), order: "dmy" },
  "m/d/yy": { re: DMY("/", 2), order: "mdy" },
  "dd-mm-yyyy": { re: DMY("-", 4), order: "dmy" },
  "mm-dd-yyyy": { re: DMY("-", 4), order: "mdy" },
  "dd-mm-yy": { re: DMY("-", 2), order: "dmy" },
  "dd mmm yyyy": { re: /^(\d{1,2})[ -]([A-Za-zäéû]{3,9})\.?[ -](\d{4})(?: .*)?$/, order: "dmy", monthName: true },
  "dd mmm yy": { re: /^(\d{1,2})[ -]([A-Za-zäéû]{3,9})\.?[ -](\d{2})(?: .*)?$/, order: "dmy", monthName: true },
};

/** English month names, plus the German, Dutch and French abbreviations that differ. */
const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  mär: 3, mrt: 3, mai: 5, mei: 5, okt: 10, dez: 12, fév: 2, avr: 4, jui: 6, aoû: 8, déc: 12, sept: 9, janv: 1, févr: 2,
};

/** The ISO date a cell holds in the given layout, or null when it is not such a (real) date. */
export function parseDate(text: string, format: DateFormat): string | null {
  // Most files are already ISO: check those digit by digit and hand back the very same string.
  if (format === "yyyy-mm-dd" && text.length === 10 && isIsoShape(text)) {
    return validDay(+text.slice(0, 4), +text.slice(5, 7), +text.slice(8, 10)) ? text : null;
  }
  const layout = LAYOUTS[format];
  const m = layout.re.exec(text.trim());
  if (!m) return null;
  let year: number;
  let month: number;
  let day: number;
  if (layout.order === "ymd") [year, month, day] = [+m[1], +m[2], +m[3]];
  else if (layout.order === "mdy") [month, day, year] = [+m[1], +m[2], +m[3]];
  else {
    day = +m[1];
    year = +m[3];
    const name = m[2].toLowerCase();
    month = layout.monthName ? (MONTHS[name] ?? MONTHS[name.slice(0, 4)] ?? MONTHS[name.slice(0, 3)] ?? 0) : +m[2];
  }
  if (m[3].length === 2 && layout.order !== "ymd") year += year < 70 ? 2000 : 1900;
  return isoDate(year, month, day);
}

function isIsoShape(s: string): boolean {
  for (let i = 0; i < 10; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7 ? c !== 0x2d : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The same calendar rule as isoDate(), without building a string. */
function validDay(year: number, month: number, day: number): boolean {
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0);
}

/** The layouts in which every given (non-empty) value is a real date. */
export function dateFormatsFitting(values: string[], candidates: readonly DateFormat[] = DATE_FORMATS): DateFormat[] {
  let fitting = [...candidates];
  for (const v of values) {
    if (fitting.length === 0) break;
    fitting = fitting.filter((f) => parseDate(v, f) !== null);
  }
  return values.length ? fitting : [];
}

/** True when all fitting layouts read every value as the same day, so choosing among them is safe. */
function agree(values: string[], formats: DateFormat[]): boolean {
  return values.every((v) => formats.every((f) => parseDate(v, f) === parseDate(v, formats[0])));
}

// ---------------------------------------------------------------------------------------------
// Amounts

const CURRENCY_SYMBOLS = new Set(["$", "£", "€", "¥", "₹", "₩", "₺", "₽", "₪", "₫", "₱", "₦", "₴", "฿", "₡", "₲"]);
/** Longer than any amount a bank writes; refusing earlier keeps every later step cheap. */
const MAX_AMOUNT_LENGTH = 40;

/**
 * Reads a written amount with the given separators into a canonical decimal string, or null.
 * Accepts what exports write around the number: a sign before or after, parentheses, a currency
 * symbol ("-$76.00", "£500.00", "+5257,28"). Thousands separators must group exactly three digits,
 * so a wrong separator guess ("1.5" read with decimal comma) is refused instead of becoming 15.
 */
export function parseAmount(text: string, decimal: DecimalSeparator, thousands: ThousandsSeparator): string | null {
  let s = text.trim();
  if (s === "" || s.length > MAX_AMOUNT_LENGTH) return null;
  const plain = plainAmount(s, decimal);
  if (plain !== null) return plain;
  s = s.replace(/[\u00a0\u202f]/g, " ");
  // Peel sign characters and one currency symbol off both ends, keeping the signs for normaliseAmount.
  let head = "";
  let tail = "";
  let start = 0;
  let end = s.length;
  let symbol = false;
  for (; start < end; start++) {
    const c = s[start];
    if (c === "(" || c === "-" || c === "+" || c === " ") head += c;
    else if (!symbol && CURRENCY_SYMBOLS.has(c)) symbol = true;
    else break;
  }
  for (; end > start; end--) {
    const c = s[end - 1];
    if (c === ")" || c === "-" || c === " ") tail = c + tail;
    else if (!symbol && CURRENCY_SYMBOLS.has(c)) symbol = true;
    else break;
  }
  const digits = ungroup(s.slice(start, end), decimal, thousands);
  if (digits === null) return null;
  return normaliseAmount(`${head}${digits}${tail}`, decimal, "");
}

/**
 * The common case without building intermediate strings: an optional minus, digits, and at most
 * one decimal separator with digits after it ("-1234.50"). Null means "take the general path".
 */
function plainAmount(s: string, decimal: DecimalSeparator): string | null {
  const n = s.length;
  let i = s.charCodeAt(0) === 0x2d ? 1 : 0;
  const negative = i === 1;
  const intStart = i;
  while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  const intEnd = i;
  if (intEnd === intStart) return null;
  let fracEnd = intEnd;
  if (i < n) {
    if (s[i] !== decimal) return null;
    i++;
    while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i !== n || i === intEnd + 1) return null;
    fracEnd = n;
    while (fracEnd > intEnd + 1 && s.charCodeAt(fracEnd - 1) === 0x30) fracEnd--;
    if (fracEnd === intEnd + 1) fracEnd = intEnd;
  }
  let intFrom = intStart;
  while (intFrom < intEnd - 1 && s.charCodeAt(intFrom) === 0x30) intFrom++;
  // Already canonical ("-12.5", "300"): hand back the same string rather than a copy.
  if (intFrom === intStart && ((fracEnd === n && decimal === ".") || (fracEnd === intEnd && intEnd === n)) && !(intEnd - intStart === 1 && s.charCodeAt(intStart) === 0x30)) return s;
  const digits = fracEnd > intEnd ? `${s.slice(intFrom, intEnd)}.${s.slice(intEnd + 1, fracEnd)}` : s.slice(intFrom, intEnd);
  if (digits === "0") return "0";
  return negative ? `-${digits}` : digits;
}

/** Removes thousands separators after checking they group by three; null when the text is not a number. */
function ungroup(body: string, decimal: DecimalSeparator, thousands: ThousandsSeparator): string | null {
  let out = "";
  let groupDigits = -1; // digits since the last thousands separator; -1 before the first one
  let leadDigits = 0;
  let inFraction = false;
  for (const c of body) {
    if (c >= "0" && c <= "9") {
      out += c;
      if (inFraction) continue;
      if (groupDigits >= 0) groupDigits++;
      else leadDigits++;
    } else if (c === decimal && !inFraction) {
      if (groupDigits >= 0 && groupDigits !== 3) return null;
      inFraction = true;
      out += c;
    } else if (thousands !== "" && c === thousands && !inFraction) {
      if (groupDigits === -1 ? leadDigits < 1 || leadDigits > 3 : groupDigits !== 3) return null;
      groupDigits = 0;
    } else return null;
  }
  if (!inFraction && groupDigits >= 0 && groupDigits !== 3) return null;
  return out;
}

/** Loose shape test before the separators are known: digits and separators, perhaps signed. */
function looksNumeric(text: string): boolean {
  const s = text.trim();
  if (s === "" || s.length > MAX_AMOUNT_LENGTH) return false;
  let digit = false;
  for (const c of s) {
    if (c >= "0" && c <= "9") digit = true;
    else if (!".,' ()+-\u00a0".includes(c) && !CURRENCY_SYMBOLS.has(c)) return false;
  }
  return digit;
}

type SeparatorVote = { decimal?: DecimalSeparator; thousands?: ThousandsSeparator; weight: number };

/** What one written number says about the separators ("1.234,56" says decimal ",", thousands "."). */
function separatorVote(text: string): SeparatorVote | null {
  const s = text.replace(/[^0-9.,']/g, "");
  const lastDot = s.lastIndexOf(".");
  const lastComma = s.lastIndexOf(",");
  if (s.includes("'")) return { thousands: "'", decimal: lastComma > lastDot ? "," : ".", weight: 3 };
  if (lastDot >= 0 && lastComma >= 0) {
    return lastDot > lastComma ? { decimal: ".", thousands: ",", weight: 3 } : { decimal: ",", thousands: ".", weight: 3 };
  }
  const at = Math.max(lastDot, lastComma);
  if (at < 0) return null;
  const sep = s[at] as DecimalSeparator;
  const other: DecimalSeparator = sep === "." ? "," : ".";
  if (s.indexOf(sep) !== at) return { thousands: sep, decimal: other, weight: 3 };
  const fraction = s.length - at - 1;
  // Three digits after a lone separator could be either ("1.234"): no evidence, unless it is "0.123".
  if (fraction === 3 && !/^0?$/.test(s.slice(0, at))) return null;
  // Money has two decimals: such a value outweighs an id or a rate that happens to have a dot.
  return { decimal: sep, weight: fraction === 2 ? 3 : 1 };
}

// ---------------------------------------------------------------------------------------------
// Direction columns: a column saying whether the (unsigned) amount is money in or out

/** Cell values that mean "money out" / "money in" in direction columns (D/K, Af/Bij, S/H, debit/credit). */
export const DEBIT_WORDS = ["d", "dr", "debit", "debet", "af", "s", "soll", "out", "outflow", "withdrawal", "kiadás", "-"];
export const CREDIT_WORDS = ["k", "c", "cr", "credit", "bij", "h", "haben", "in", "inflow", "deposit", "bevétel", "+"];
const DIRECTION_WORDS = new Set([...DEBIT_WORDS, ...CREDIT_WORDS]);

// ---------------------------------------------------------------------------------------------
// Sniffing

/** What the sniffing learnt about one column, from the data rows it sampled. */
export type ColumnProfile = {
  index: number;
  /** The header cell, or null for a headerless file. */
  header: string | null;
  nonEmpty: number;
  /** Date layouts that read every non-empty value; empty for a column that is not all dates. */
  dateFormats: DateFormat[];
  /** The non-empty values are amounts with the detected separators (nine in ten at least). */
  numeric: boolean;
  /** Some value has a decimal part (money rather than an id or a count). */
  hasDecimals: boolean;
  hasNegative: boolean;
  /** Every non-empty value is a three-letter upper-case code. */
  currencyCodes: boolean;
  /** Every non-empty value is a debit/credit word (D, K, Af, Bij, debit, credit…). */
  direction: boolean;
  /** Mean length of the non-empty values (long text is a description). */
  meanLength: number;
};

export type TableProfile = {
  /** Line (row) of the header; null when the table has none. Rows above it are a preamble. */
  headerRow: number | null;
  /** Header cells, [] when headerless. */
  headers: string[];
  decimalSeparator: DecimalSeparator;
  thousandsSeparator: ThousandsSeparator;
  /** The date layout that reads every date in the sample, or null when none or more than one does. */
  dateFormat: DateFormat | null;
  /** When more than one layout reads every date differently (05/03/2021): the person must choose. */
  dateFormatCandidates: DateFormat[];
  dateFormatAmbiguous: boolean;
  columns: ColumnProfile[];
};

export type CsvDialect = TableProfile & { delimiter: Delimiter };

/** Rows sniffed; enough for any preamble and for the date layouts to show themselves. */
const SAMPLE_ROWS = 1000;

/** How a CSV text is written: delimiter, header row, separators and date layout (from its first 1,000 rows). */
export function detectDialect(text: string): CsvDialect {
  const delimiter = detectDelimiter(text);
  return { delimiter, ...profileTable(sampleRows(text, delimiter, SAMPLE_ROWS)) };
}

/**
 * The delimiter among , ; TAB | that splits the first records into the same number of fields
 * (two or more) most often, counting only what is outside quotes.
 */
export function detectDelimiter(text: string): Delimiter {
  let best: Delimiter = ",";
  let bestRows = 0;
  let bestWidth = 1;
  for (const delimiter of DELIMITERS) {
    const widths = sampleRows(text, delimiter, 40).map((r) => r.cells.length);
    const [width, rows] = mode(widths);
    if (width < 2) continue;
    if (rows > bestRows || (rows === bestRows && width > bestWidth)) [best, bestRows, bestWidth] = [delimiter, rows, width];
  }
  return best;
}

function mode(values: number[]): [value: number, count: number] {
  const counts = new Map<number, number>();
  let best: [number, number] = [0, 0];
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > best[1] || (c === best[1] && v > best[0])) best = [v, c];
  }
  return best;
}

function anyDate(text: string): boolean {
  return text.trim() !== "" && DATE_FORMATS.some((f) => parseDate(text, f) !== null);
}

/** No bank export is wider; wider rows are profiled on their first columns only, to keep sniffing cheap. */
const MAX_PROFILED_COLUMNS = 500;

/** A transaction row has a date and, in another cell, a number. */
function looksLikeTransaction(cells: string[]): boolean {
  const width = Math.min(cells.length, MAX_PROFILED_COLUMNS);
  let date = -1;
  for (let i = 0; i < width && date < 0; i++) if (anyDate(cells[i])) date = i;
  for (let i = 0; i < width && date >= 0; i++) if (i !== date && looksNumeric(cells[i])) return true;
  return false;
}

/**
 * Finds the table in sampled rows and profiles its columns. The table starts at the first row
 * that looks like a transaction and is about as wide as most such rows (banks put account name,
 * period and balances above the table); the row just above it is the header, unless the caller
 * knows it (JSON keys).
 */
export function profileTable(rows: TableRow[], knownHeaderIndex?: number): TableProfile {
  const transactionRows = rows.map((r) => looksLikeTransaction(r.cells));
  const [width] = mode(rows.filter((_, i) => transactionRows[i]).map((r) => r.cells.length));
  // Tolerate a few trailing cells less (Swedbank's balance rows) but not a short preamble line.
  const first = rows.findIndex((r, i) => transactionRows[i] && r.cells.length >= width * 0.75);
  const headerIndex = knownHeaderIndex ?? (first < 0 ? (rows.length ? 0 : -1) : first - 1);
  const header = headerIndex >= 0 ? rows[headerIndex] : null;
  const data = rows.filter((_, i) => i > headerIndex && transactionRows[i]);
  const columnCount = Math.min(MAX_PROFILED_COLUMNS, Math.max(header?.cells.length ?? 0, ...data.map((r) => r.cells.length)));

  const columnValues: string[][] = [];
  for (let c = 0; c < columnCount; c++) columnValues.push(data.map((r) => (r.cells[c] ?? "").trim()).filter((v) => v !== ""));
  const dateFormats = columnValues.map((values) => dateFormatsFitting(values));
  const { decimal, thousands } = detectSeparators(columnValues.filter((_, c) => dateFormats[c].length === 0));
  const columns = columnValues.map((values, index) => profileColumn(index, header ? (header.cells[index] ?? "") : null, values, dateFormats[index], decimal, thousands));
  return {
    headerRow: header ? header.line : null,
    headers: header ? header.cells.map((h) => h.trim()) : [],
    decimalSeparator: decimal,
    thousandsSeparator: thousands,
    ...chooseDateFormat(columns, columnValues),
    columns,
  };
}

function profileColumn(index: number, header: string | null, values: string[], dateFormats: DateFormat[], decimal: DecimalSeparator, thousands: ThousandsSeparator): ColumnProfile {
  const amounts = values.map((v) => parseAmount(v, decimal, thousands));
  // A stray bad value should not hide the amount column: the parse then names its line instead.
  const numeric = values.length > 0 && dateFormats.length === 0 && amounts.filter((a) => a !== null).length >= values.length * 0.9;
  return {
    index,
    header: header === null ? null : header.trim(),
    nonEmpty: values.length,
    dateFormats,
    numeric,
    hasDecimals: numeric && values.some((v) => v.includes(decimal)),
    hasNegative: numeric && amounts.some((a) => a?.startsWith("-")),
    currencyCodes: values.length > 0 && values.every((v) => /^[A-Z]{3}$/.test(v)),
    direction: values.length > 0 && values.every((v) => DIRECTION_WORDS.has(v.toLowerCase())),
    meanLength: values.length ? values.reduce((n, v) => n + v.length, 0) / values.length : 0,
  };
}

/** Majority vote of the number-looking cells; the thousands separator defaults to the other mark. */
function detectSeparators(columns: string[][]): { decimal: DecimalSeparator; thousands: ThousandsSeparator } {
  const decimalVotes = { ".": 0, ",": 0 };
  const thousandsVotes = new Map<ThousandsSeparator, number>();
  for (const values of columns) {
    if (!values.every(looksNumeric)) continue;
    for (const v of values) {
      const vote = separatorVote(v);
      if (!vote) continue;
      if (vote.decimal) decimalVotes[vote.decimal] += vote.weight;
      if (vote.thousands) thousandsVotes.set(vote.thousands, (thousandsVotes.get(vote.thousands) ?? 0) + vote.weight);
    }
  }
  const decimal: DecimalSeparator = decimalVotes[","] > decimalVotes["."] ? "," : ".";
  let thousands: ThousandsSeparator = decimal === "." ? "," : ".";
  let most = 0;
  for (const [sep, votes] of thousandsVotes) if (sep !== decimal && votes > most) [thousands, most] = [sep, votes];
  return { decimal, thousands };
}

/** One layout for all date columns: the one every date fits; ambiguous when several read them differently. */
function chooseDateFormat(columns: ColumnProfile[], values: string[][]): Pick<TableProfile, "dateFormat" | "dateFormatCandidates" | "dateFormatAmbiguous"> {
  const dateColumns = columns.filter((c) => c.dateFormats.length > 0);
  if (dateColumns.length === 0) return { dateFormat: null, dateFormatCandidates: [], dateFormatAmbiguous: false };
  const shared = dateColumns.slice(1).reduce((acc, c) => acc.filter((f) => c.dateFormats.includes(f)), dateColumns[0].dateFormats);
  const candidates = shared.length ? shared : dateColumns[0].dateFormats;
  const all = (shared.length ? dateColumns : [dateColumns[0]]).flatMap((c) => values[c.index]);
  if (candidates.length === 1 || agree(all, candidates)) return { dateFormat: candidates[0], dateFormatCandidates: candidates, dateFormatAmbiguous: false };
  return { dateFormat: null, dateFormatCandidates: candidates, dateFormatAmbiguous: true };
}
