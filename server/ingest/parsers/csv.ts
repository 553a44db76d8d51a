import { z } from "zod";
import { money, sum } from "../../money";
import {
  BATCH_SIZE,
  type CanonicalRecord,
  collectBatches,
  DEFAULT_LIMITS,
  ParseError,
  type ParsedFile,
  type ParsedStatement,
  type Parser,
  type ParseLimits,
  type RecordBatches,
  type StatementBalance,
} from "./canonical";
import {
  type CsvDialect,
  CsvTokenizer,
  DATE_FORMATS,
  type DateFormat,
  DELIMITERS,
  type Delimiter,
  detectDelimiter,
  detectDialect,
  isBlankRow,
  parseAmount,
  parseDate,
  profileTable,
  sampleRows,
  type TableProfile,
  type TableRow,
} from "./csv-dialect";
import { headerKey, matchPreset, type MappingSuggestion, suggestFromProfile } from "./csv-presets";
import { clip, negate } from "./decimal-text";
import { decodeText, fixCp1252 } from "./text";

/**
 * Bank statement CSV: any bank's export, read through a mapping that says which column holds
 * what. A mapping comes from the person (a saved "mapping profile"), from a preset recognised by
 * the header, or from suggestMapping() when the header speaks plainly enough. The same mapping
 * engine reads spreadsheet rows (xlsx.ts).
 */

const FORMAT = "csv";
const VERSION = "1";

// ---------------------------------------------------------------------------------------------
// The mapping

/** A column named by its header (matched case- and space-insensitively) and/or by 0-based index, used when the header does not have the name. */
const columnRefSchema = z
  .object({ header: z.string().min(1).max(200).optional(), index: z.number().int().min(0).max(10_000).optional() })
  .refine((c) => c.header !== undefined || c.index !== undefined, { message: "name the column by its header or its index" });
export type ColumnRef = z.infer<typeof columnRefSchema>;

/** Encodings a person may force when the automatic choice (UTF-8, else Windows-1252) is wrong, e.g. Czech Windows-1250. */
export const TEXT_ENCODINGS = ["utf-8", "windows-1252", "windows-1250", "iso-8859-1", "iso-8859-2", "iso-8859-15", "utf-16le", "utf-16be"] as const;

const amountSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("signed"),
    column: columnRefSchema,
    /** "inverted" for exports that write money out as positive (credit-card statements). */
    sign: z.enum(["normal", "inverted"]),
    /** For unsigned amounts with a debit/credit marker column (Swedbank D/K, ING Af/Bij, Mint debit/credit). */
    direction: z
      .object({ column: columnRefSchema, debitValues: z.array(z.string().min(1)).min(1), creditValues: z.array(z.string().min(1)).min(1) })
      .optional(),
  }),
  /** Money out and money in in two columns; debits may be written with or without a minus. */
  z.object({ kind: z.literal("debitCredit"), debit: columnRefSchema, credit: columnRefSchema }),
]);

export const csvMappingSchema = z
  .object({
    /** Detected when absent. */
    delimiter: z.enum(DELIMITERS).optional(),
    /** Overrides the automatic decoding. */
    encoding: z.enum(TEXT_ENCODINGS).optional(),
    /** 1-based line (spreadsheet row) of the header; rows above it are skipped. null: no header. Absent: detected. */
    headerRow: z.number().int().min(1).nullable().optional(),
    dateFormat: z.enum(DATE_FORMATS),
    decimalSeparator: z.enum([".", ","]),
    thousandsSeparator: z.enum(["", ",", ".", " ", "'"]),
    bookedDate: columnRefSchema,
    valueDate: columnRefSchema.optional(),
    amount: amountSchema,
    /** A currency column or one currency for the whole file; absent: the parse option `currency`. */
    currency: z.union([z.object({ column: columnRefSchema }), z.object({ fixed: z.string().regex(/^[A-Z]{3}$/) })]).optional(),
    counterpartyName: columnRefSchema.optional(),
    counterpartyAccount: columnRefSchema.optional(),
    reference: columnRefSchema.optional(),
    /** Joined with a space, empty cells left out. */
    description: z.array(columnRefSchema).max(30).optional(),
    externalId: columnRefSchema.optional(),
    /** Running balance after each line: gives the statement's opening and closing balances. */
    balance: columnRefSchema.optional(),
    bankTransactionCode: columnRefSchema.optional(),
    originalAmount: columnRefSchema.optional(),
    originalCurrency: columnRefSchema.optional(),
    /** The own account (IBAN) column, reported on the statement. */
    account: columnRefSchema.optional(),
    /** Rows that are balances, not transactions, told by a marker column (Swedbank: 10 opening, 86 closing, 82 turnover). */
    balanceRows: z
      .object({ column: columnRefSchema, opening: z.array(z.string()), closing: z.array(z.string()), skip: z.array(z.string()) })
      .optional(),
  })
  .refine((m) => m.decimalSeparator !== m.thousandsSeparator, { message: "the decimal and thousands separators must differ", path: ["thousandsSeparator"] });
export type CsvMapping = z.infer<typeof csvMappingSchema>;

export type CsvParseOptions = {
  mapping?: CsvMapping;
  /** The account's currency, used when the mapping names no currency column or fixed currency. */
  currency?: string;
};

export { DATE_FORMATS, detectDialect, type CsvDialect, type DateFormat, type Delimiter };
export { CSV_PRESETS, type CsvPreset } from "./csv-presets";

/** What the import UI shows before the person confirms: the detected dialect and a proposed mapping. */
export function suggestMapping(text: string): MappingSuggestion & { dialect: CsvDialect } {
  const dialect = detectDialect(text);
  const suggestion = suggestFromProfile(dialect);
  return { ...suggestion, mapping: { ...suggestion.mapping, delimiter: dialect.delimiter }, dialect };
}

// ---------------------------------------------------------------------------------------------
// Choosing a mapping when none is given

/**
 * A preset recognised by the header wins; otherwise the suggestion, if it found the date, the
 * amount and an unambiguous date layout. Anything less is the person's call.
 */
export function chooseMapping(format: string, profile: TableProfile): { mapping: CsvMapping; note: string } {
  const ambiguousDates = profile.dateFormatAmbiguous ? ` (the dates could be ${profile.dateFormatCandidates.join(" or ")})` : "";
  const preset = matchPreset(profile.headers);
  if (preset) {
    const dateFormat = preset.mapping.dateFormat ?? profile.dateFormat;
    if (!dateFormat) throw new ParseError(format, `recognised a ${preset.name} export but not its date format${ambiguousDates}: choose a mapping`, profile.headerRow ?? undefined);
    const mapping: CsvMapping = {
      ...preset.mapping,
      dateFormat,
      decimalSeparator: preset.mapping.decimalSeparator ?? profile.decimalSeparator,
      thousandsSeparator: preset.mapping.thousandsSeparator ?? profile.thousandsSeparator,
    };
    if (mapping.thousandsSeparator === mapping.decimalSeparator) mapping.thousandsSeparator = "";
    return { mapping, note: `no mapping was chosen: read with the ${preset.name} preset` };
  }
  const suggestion = suggestFromProfile(profile);
  const parsed = csvMappingSchema.safeParse(suggestion.mapping);
  if (suggestion.missing.length || !parsed.success) {
    const missing = suggestion.missing.map((f) => (f === "dateFormat" ? "the date format" : f === "bookedDate" ? "the date" : "the amount"));
    throw new ParseError(format, `could not tell ${missing.join(", ") || "the layout"}${ambiguousDates}: choose a mapping for this file`, profile.headerRow ?? undefined);
  }
  return { mapping: parsed.data, note: `no mapping was chosen: columns were guessed (${suggestion.summary}); check them before importing` };
}

// ---------------------------------------------------------------------------------------------
// Reading rows through a mapping

/** Where rows come from: the CSV tokenizer, or a spreadsheet's rows. */
export type RowCursor = { next(): string[] | null; readonly recordLine: number };

/** A cursor over rows already in memory (spreadsheet rows, flattened JSON objects). */
export function cursorOverRows(rows: TableRow[]): RowCursor {
  let next = 0;
  let line = 0;
  return {
    get recordLine() {
      return line;
    },
    next() {
      const row = rows[next++];
      if (!row) return null;
      line = row.line;
      return row.cells;
    },
  };
}

type Column = { index: number; name: string };
type Plan = {
  mapping: CsvMapping;
  dateFormat: DateFormat;
  booked: Column;
  value: Column | null;
  amount: Column | null;
  debit: Column | null;
  credit: Column | null;
  direction: { column: Column; debit: Set<string>; credit: Set<string> } | null;
  currencyColumn: Column | null;
  fixedCurrency: string | null;
  text: Record<"counterpartyName" | "counterpartyAccount" | "reference" | "externalId" | "bankTransactionCode" | "account" | "originalCurrency", Column | null>;
  description: Column[];
  balance: Column | null;
  originalAmount: Column | null;
  balanceRows: { column: Column; opening: Set<string>; closing: Set<string>; skip: Set<string> } | null;
  rawKeys: string[];
  /** Spreadsheet date cells arrive as yyyy-mm-dd whatever layout the mapping names for text cells. */
  spreadsheet: boolean;
};

/** Wider rows are damage or a wrong delimiter, and would make every record's `raw` huge. */
const MAX_ROW_CELLS = 1000;

/** Rows starting with these words under the date are totals lines a bank adds at the end; they are skipped with a warning. */
const FOOTER = /^(total|totals|totaal|summe|gesamt|somme|totalt|summa|subtotal|sum)\b/i;

/**
 * Reads every row after the header through the mapping. Used by the CSV and XLSX parsers alike;
 * `headerRow` is the line of the header (null when the table has none); `spreadsheet` accepts
 * yyyy-mm-dd dates whatever the mapping's layout, since spreadsheet date cells arrive so.
 */
export function readRows(
  format: string,
  cursor: RowCursor,
  mapping: CsvMapping,
  headerRow: number | null,
  options: CsvParseOptions,
  limits: ParseLimits,
  warnings: string[],
  spreadsheet = false,
): ParsedFile {
  return collectBatches(readRowBatches(format, cursor, mapping, headerRow, options, limits, warnings, spreadsheet));
}

/**
 * readRows in batches. The last record read is held back until the next row is seen, because a
 * continuation row (no date, no amount) still adds to its description. Only a file with a running
 * balance column keeps something per line to the end (date and amount, to derive its balances).
 */
export function* readRowBatches(
  format: string,
  cursor: RowCursor,
  mapping: CsvMapping,
  headerRow: number | null,
  options: CsvParseOptions,
  limits: ParseLimits,
  warnings: string[],
  spreadsheet = false,
  batchSize = BATCH_SIZE,
): RecordBatches {
  const plan0 = (header: string[], line: number | null) => ({ ...makePlan(format, mapping, header, line, options), spreadsheet });
  let plan: Plan | null = headerRow === null ? plan0([], null) : null;
  let preamble = 0;
  let batch: CanonicalRecord[] = [];
  let previous: CanonicalRecord | null = null;
  const lines: LineSummary = { count: 0, first: null, currencies: new Set(), ledger: [] };
  const ids = new DuplicateIds();
  const balances: (string | null)[] = [];
  const joined: number[] = [];
  const footers: number[] = [];
  const skipped: number[] = [];
  let opening: StatementBalance | null = null;
  let closing: StatementBalance | null = null;

  for (let cells = cursor.next(); cells; cells = cursor.next()) {
    const line = cursor.recordLine;
    if (cells.length > MAX_ROW_CELLS) throw new ParseError(format, `this row has ${cells.length} fields, more than any statement has (is the delimiter right?)`, line);
    if (isBlankRow(cells)) continue;
    if (!plan) {
      if (line < (headerRow ?? 0)) {
        preamble++;
        continue;
      }
      if (line > (headerRow ?? 0)) throw new ParseError(format, `the header row (line ${headerRow}) is not the start of a row`, headerRow ?? undefined);
      plan = plan0(cells, line);
      continue;
    }
    if (plan.balanceRows) {
      const marker = cell(cells, plan.balanceRows.column).toLowerCase();
      if (plan.balanceRows.opening.has(marker) || plan.balanceRows.closing.has(marker)) {
        const balance = { date: readDate(format, plan, plan.booked, cell(cells, plan.booked), line), amount: readAmount(format, plan, cells, line) };
        if (plan.balanceRows.opening.has(marker)) opening ??= balance;
        else closing = balance;
        continue;
      }
      if (plan.balanceRows.skip.has(marker)) {
        skipped.push(line);
        continue;
      }
    }

    const dateText = cell(cells, plan.booked);
    if (dateText === "" && amountCellsEmpty(plan, cells)) {
      // A row with text but no date and no amount continues the description of the line above.
      if (!previous) throw new ParseError(format, "this row has no date and no amount, and no transaction above it to belong to", line, plan.booked.name);
      const text = cells.map((c) => c.trim()).filter((c) => c !== "").join(" ");
      previous.description = previous.description ? `${previous.description} ${text}` : text;
      ((previous.raw["(continuation lines)"] ??= []) as string[]).push(text);
      joined.push(line);
      continue;
    }
    const booked = dateOf(plan, dateText);
    if (booked === null && FOOTER.test(cells.find((c) => c.trim() !== "")?.trim() ?? "")) {
      footers.push(line);
      continue;
    }

    const record = toRecord(format, plan, cells, booked ?? readDate(format, plan, plan.booked, dateText, line), line, options);
    lines.count++;
    if (lines.count > limits.maxRecords) throw new ParseError(format, `the file has more than ${limits.maxRecords} transactions, the most one import takes`, line);
    lines.first ??= record;
    lines.currencies.add(record.currency);
    ids.add(record.externalId);
    if (plan.balance) {
      const text = cell(cells, plan.balance);
      balances.push(text === "" ? null : amountOrError(format, plan, plan.balance, text, line));
      lines.ledger.push({ bookedDate: record.bookedDate, amount: record.amount });
    }
    if (previous) {
      batch.push(previous);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    previous = record;
  }
  if (previous) batch.push(previous);
  if (batch.length) yield batch;

  if (!plan) throw new ParseError(format, headerRow === null ? "the file has no rows" : `the file ends before its header row (line ${headerRow})`);
  if (preamble) warnings.push(`${preamble} line${preamble === 1 ? "" : "s"} above the header row (account details, balances) were not read as transactions`);
  if (joined.length) warnings.push(`${joined.length} row${joined.length === 1 ? " has" : "s have"} no date and no amount (${lineList(joined)}): their text was added to the description of the transaction above`);
  if (footers.length) warnings.push(`${footers.length} totals row${footers.length === 1 ? "" : "s"} skipped (${lineList(footers)})`);
  if (skipped.length) warnings.push(`${skipped.length} turnover/summary row${skipped.length === 1 ? "" : "s"} skipped (${lineList(skipped)})`);
  ids.warn(warnings);

  const statements = buildStatements(plan, lines, balances, opening, closing, warnings);
  return { format, parserVersion: VERSION, statements, warnings, unassignedStatement: statements.length ? 0 : null };
}

/** What the statement needs of the lines once they have been handed on. */
type LineSummary = {
  count: number;
  first: CanonicalRecord | null;
  currencies: Set<string>;
  /** Date and amount of every line, kept only when a running balance column is mapped. */
  ledger: { bookedDate: string; amount: string }[];
};

function lineList(lines: number[]): string {
  return `line${lines.length === 1 ? "" : "s"} ${lines.slice(0, 5).join(", ")}${lines.length > 5 ? ", …" : ""}`;
}

/** A mapped cell, trimmed; "" for an unmapped column or a short row. */
function cell(cells: string[], column: Column | null): string {
  return column && column.index < cells.length ? cells[column.index].trim() : "";
}

function amountCellsEmpty(plan: Plan, cells: string[]): boolean {
  return plan.amount ? cell(cells, plan.amount) === "" : cell(cells, plan.debit) === "" && cell(cells, plan.credit) === "";
}

function makePlan(format: string, mapping: CsvMapping, header: string[], headerLine: number | null, options: CsvParseOptions): Omit<Plan, "spreadsheet"> {
  const names = new Map<string, number>();
  header.forEach((h, i) => {
    const key = headerKey(h);
    if (key !== "" && !names.has(key)) names.set(key, i);
  });
  const resolve = (ref: ColumnRef): Column => {
    const byName = ref.header !== undefined ? names.get(headerKey(ref.header)) : undefined;
    const index = byName ?? ref.index;
    if (index === undefined) {
      const known = header.length ? `; the header has ${header.map((h) => `"${clip(h.trim(), 30)}"`).slice(0, 30).join(", ")}` : "; the file has no header row, so name the column by its position";
      throw new ParseError(format, `the mapping's column "${ref.header}" is not in the file${known}`, headerLine ?? undefined, ref.header);
    }
    const name = header[index]?.trim() || ref.header || `column ${index + 1}`;
    return { index, name };
  };
  const optional = (ref: ColumnRef | undefined) => (ref ? resolve(ref) : null);
  const words = (values: string[]) => new Set(values.map((v) => v.trim().toLowerCase()));
  const amount = mapping.amount;
  const fixedCurrency = mapping.currency && "fixed" in mapping.currency ? mapping.currency.fixed : null;
  const currencyColumn = mapping.currency && "column" in mapping.currency ? resolve(mapping.currency.column) : null;
  const fallbackCurrency = options.currency?.trim().toUpperCase();
  if (!fixedCurrency && !currencyColumn && !/^[A-Z]{3}$/.test(fallbackCurrency ?? "")) {
    throw new ParseError(format, "the file does not say which currency its amounts are in: choose the currency (a column or one currency for the file)", headerLine ?? undefined);
  }
  return {
    mapping,
    dateFormat: mapping.dateFormat,
    booked: resolve(mapping.bookedDate),
    value: optional(mapping.valueDate),
    amount: amount.kind === "signed" ? resolve(amount.column) : null,
    debit: amount.kind === "debitCredit" ? resolve(amount.debit) : null,
    credit: amount.kind === "debitCredit" ? resolve(amount.credit) : null,
    direction:
      amount.kind === "signed" && amount.direction
        ? { column: resolve(amount.direction.column), debit: words(amount.direction.debitValues), credit: words(amount.direction.creditValues) }
        : null,
    currencyColumn,
    fixedCurrency: fixedCurrency ?? (currencyColumn ? null : (fallbackCurrency ?? null)),
    text: {
      counterpartyName: optional(mapping.counterpartyName),
      counterpartyAccount: optional(mapping.counterpartyAccount),
      reference: optional(mapping.reference),
      externalId: optional(mapping.externalId),
      bankTransactionCode: optional(mapping.bankTransactionCode),
      account: optional(mapping.account),
      originalCurrency: optional(mapping.originalCurrency),
    },
    description: (mapping.description ?? []).map(resolve),
    balance: optional(mapping.balance),
    originalAmount: optional(mapping.originalAmount),
    balanceRows: mapping.balanceRows
      ? { column: resolve(mapping.balanceRows.column), opening: words(mapping.balanceRows.opening), closing: words(mapping.balanceRows.closing), skip: words(mapping.balanceRows.skip) }
      : null,
    rawKeys: rawKeys(header),
  };
}

/** Keys for `raw`: the header cells, made unique; "column N" where the header has no name. */
function rawKeys(header: string[]): string[] {
  const seen = new Set<string>();
  return header.map((h, i) => {
    let key = h.trim() || `column ${i + 1}`;
    if (seen.has(key)) key = `${key} (column ${i + 1})`;
    seen.add(key);
    return key;
  });
}

const rawKey = (plan: Plan, index: number) => plan.rawKeys[index] ?? `column ${index + 1}`;

function toRecord(format: string, plan: Plan, cells: string[], bookedDate: string, line: number, options: CsvParseOptions): CanonicalRecord {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < cells.length; i++) raw[rawKey(plan, i)] = cells[i];
  const originalAmount = cell(cells, plan.originalAmount);
  const originalCurrency = cell(cells, plan.text.originalCurrency).toUpperCase();
  const valueDate = cell(cells, plan.value);
  return {
    externalId: cell(cells, plan.text.externalId) || null,
    bookedDate,
    valueDate: plan.value && valueDate !== "" ? readDate(format, plan, plan.value, valueDate, line) : null,
    amount: readAmount(format, plan, cells, line),
    currency: readCurrency(format, plan, cells, line, options),
    counterpartyName: cell(cells, plan.text.counterpartyName) || null,
    counterpartyAccount: cell(cells, plan.text.counterpartyAccount) || null,
    reference: cell(cells, plan.text.reference) || null,
    description: describe(plan, cells),
    bankTransactionCode: cell(cells, plan.text.bankTransactionCode) || null,
    type: "other",
    originalAmount: plan.originalAmount && originalAmount !== "" ? amountOrError(format, plan, plan.originalAmount, originalAmount, line) : null,
    originalCurrency: /^[A-Z]{3}$/.test(originalCurrency) ? originalCurrency : null,
    statementIndex: null,
    raw,
  };
}

/** The description columns joined by a space, empty ones left out. */
function describe(plan: Plan, cells: string[]): string | null {
  let description = "";
  for (const column of plan.description) {
    const text = cell(cells, column);
    if (text !== "") description = description ? `${description} ${text}` : text;
  }
  return description || null;
}

function dateOf(plan: Plan, text: string): string | null {
  return parseDate(text, plan.dateFormat) ?? (plan.spreadsheet ? parseDate(text, "yyyy-mm-dd") : null);
}

function readDate(format: string, plan: Plan, column: Column, text: string, line: number): string {
  if (text === "") throw new ParseError(format, `column ${column.name}: the date is empty`, line, column.name);
  const date = dateOf(plan, text);
  if (date === null) throw new ParseError(format, `column ${column.name}: "${clip(text)}" is not a date written ${plan.dateFormat}`, line, column.name);
  return date;
}

function amountOrError(format: string, plan: Plan, column: Column, text: string, line: number): string {
  const amount = parseAmount(text, plan.mapping.decimalSeparator, plan.mapping.thousandsSeparator);
  if (amount === null) {
    const thousands = plan.mapping.thousandsSeparator ? ` and thousands "${plan.mapping.thousandsSeparator}"` : "";
    throw new ParseError(format, `column ${column.name}: "${clip(text)}" is not an amount (decimal "${plan.mapping.decimalSeparator}"${thousands})`, line, column.name);
  }
  return amount;
}

const abs = (a: string) => (a.startsWith("-") ? a.slice(1) : a);
const isZero = (a: string) => a === "0";

/** The signed amount of a row: money in positive, money out negative. */
function readAmount(format: string, plan: Plan, cells: string[], line: number): string {
  if (plan.amount) {
    const text = cell(cells, plan.amount);
    if (text === "") throw new ParseError(format, `column ${plan.amount.name}: the amount is empty`, line, plan.amount.name);
    let amount = amountOrError(format, plan, plan.amount, text, line);
    if (plan.mapping.amount.kind === "signed" && plan.mapping.amount.sign === "inverted") amount = negate(amount);
    if (!plan.direction) return amount;
    const marker = cell(cells, plan.direction.column);
    if (plan.direction.debit.has(marker.toLowerCase())) return isZero(amount) ? amount : `-${abs(amount)}`;
    if (plan.direction.credit.has(marker.toLowerCase())) return abs(amount);
    const expected = `${[...plan.direction.debit].join("/")} or ${[...plan.direction.credit].join("/")}`;
    throw new ParseError(format, `column ${plan.direction.column.name}: "${clip(marker)}" says neither debit nor credit (expected ${expected})`, line, plan.direction.column.name);
  }
  const debit = plan.debit as Column;
  const credit = plan.credit as Column;
  const debitText = cell(cells, debit);
  const creditText = cell(cells, credit);
  const out = debitText === "" ? "0" : amountOrError(format, plan, debit, debitText, line);
  const into = creditText === "" ? "0" : amountOrError(format, plan, credit, creditText, line);
  if (debitText === "" && creditText === "") throw new ParseError(format, `neither ${debit.name} nor ${credit.name} has an amount`, line, debit.name);
  if (!isZero(out) && !isZero(into)) throw new ParseError(format, `both ${debit.name} (${clip(debitText)}) and ${credit.name} (${clip(creditText)}) have an amount`, line, debit.name);
  return isZero(out) ? into : `-${abs(out)}`;
}

const CURRENCY_CODE = /^[A-Z]{3}$/;

function readCurrency(format: string, plan: Plan, cells: string[], line: number, options: CsvParseOptions): string {
  if (!plan.currencyColumn) return plan.fixedCurrency ?? (options.currency as string);
  const text = cell(cells, plan.currencyColumn);
  const code = CURRENCY_CODE.test(text) ? text : text.toUpperCase();
  if (!CURRENCY_CODE.test(code)) throw new ParseError(format, `column ${plan.currencyColumn.name}: "${clip(code)}" is not a currency code`, line, plan.currencyColumn.name);
  return code;
}

class DuplicateIds {
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private first: string | null = null;

  add(externalId: string | null): void {
    if (externalId === null) return;
    if (this.seen.has(externalId)) {
      this.duplicates++;
      this.first ??= externalId;
    } else this.seen.add(externalId);
  }

  warn(warnings: string[]): void {
    const { duplicates, first } = this;
    if (duplicates) warnings.push(`${duplicates} line${duplicates === 1 ? "" : "s"} repeat an id already used in the file (first: "${clip(first ?? "")}"): ids do not identify lines here`);
  }
}

// ---------------------------------------------------------------------------------------------
// Statements: balance rows, or balances derived from a running balance column

function buildStatements(plan: Plan, lines: LineSummary, balances: (string | null)[], opening: StatementBalance | null, closing: StatementBalance | null, warnings: string[]): ParsedStatement[] {
  const currencies = lines.currencies;
  const currency = lines.first?.currency ?? plan.fixedCurrency;
  const accountColumn = plan.text.account;
  const account = lines.first && accountColumn ? String(lines.first.raw[rawKey(plan, accountColumn.index)] ?? "").trim() || null : null;
  const statement = (o: StatementBalance | null, c: StatementBalance | null): ParsedStatement[] => [
    { statementId: null, account, currency: currency ?? "XXX", opening: o, closing: c, lines: lines.count },
  ];
  if (opening || closing) return statement(opening, closing);
  if (!plan.balance || !balances.some((b) => b !== null)) return [];
  if (currencies.size > 1) {
    warnings.push(`the running balance was not used: the file mixes ${[...currencies].join(", ")}`);
    return [];
  }
  const records = lines.ledger;
  const newestFirst = readsNewestFirst(records, balances);
  const order = records.map((_, i) => (newestFirst ? records.length - 1 - i : i));
  const first = order.findIndex((i) => balances[i] !== null);
  const last = order.findLastIndex((i) => balances[i] !== null);
  // The balance before the first line, and after the last, from the nearest lines that show one.
  const openingAmount = money(balances[order[first]] as string).minus(sum(order.slice(0, first + 1).map((i) => records[i].amount)));
  const closingAmount = money(balances[order[last]] as string).plus(sum(order.slice(last + 1).map((i) => records[i].amount)));
  warnings.push(`opening and closing balances derived from the running balance column ${plan.balance?.name} (file read ${newestFirst ? "newest" : "oldest"} first)`);
  return statement(
    { date: records[order[0]].bookedDate, amount: openingAmount.toFixed() },
    { date: records[order[order.length - 1]].bookedDate, amount: closingAmount.toFixed() },
  );
}

/**
 * Whether the file lists the newest line first. Dates decide when they run one way; when they do
 * not (all one day, or unsorted), the direction in which the running balances chain decides, and
 * file order is the default.
 */
function readsNewestFirst(records: { bookedDate: string; amount: string }[], balances: (string | null)[]): boolean {
  let up = false;
  let down = false;
  for (let i = 1; i < records.length; i++) {
    if (records[i].bookedDate > records[i - 1].bookedDate) up = true;
    else if (records[i].bookedDate < records[i - 1].bookedDate) down = true;
  }
  if (up !== down) return down;
  let forward = 0;
  let backward = 0;
  for (let i = 1; i < records.length; i++) {
    const [before, after] = [balances[i - 1], balances[i]];
    if (before === null || after === null) continue;
    if (money(before).plus(records[i].amount).eq(after)) forward++;
    if (money(after).plus(records[i - 1].amount).eq(before)) backward++;
  }
  return backward > forward;
}

// ---------------------------------------------------------------------------------------------
// The CSV parser


function decode(bytes: Uint8Array, encoding: CsvMapping["encoding"], warnings: string[]): string {
  if (encoding) {
    try {
      let text = new TextDecoder(encoding, { fatal: encoding === "utf-8" }).decode(bytes);
      if (encoding === "windows-1252") text = fixCp1252(text);
      if (encoding !== "utf-8") warnings.push(`the file was read as ${encoding}, as the mapping says`);
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    } catch {
      throw new ParseError(FORMAT, "the file is not valid UTF-8, as the mapping says it is: choose its encoding");
    }
  }
  const decoded = decodeText(bytes, FORMAT);
  if (decoded.encoding !== "utf-8") warnings.push(`the file was read as ${decoded.encoding}${decoded.encoding === "windows-1252" ? " because it is not valid UTF-8" : ""}`);
  return decoded.text;
}

export function parseCsv(bytes: Uint8Array, options: CsvParseOptions = {}, limits: Partial<ParseLimits> = {}): ParsedFile {
  return collectBatches(parseCsvBatches(bytes, options, limits));
}

export function* parseCsvBatches(bytes: Uint8Array, options: CsvParseOptions = {}, limits: Partial<ParseLimits> = {}, batchSize = BATCH_SIZE): RecordBatches {
  const effective: ParseLimits = { ...DEFAULT_LIMITS, ...limits };
  if (bytes.length > effective.maxBytes) throw new ParseError(FORMAT, `the file is ${bytes.length} bytes, more than the ${effective.maxBytes} one import takes`);
  const warnings: string[] = [];
  let mapping: CsvMapping;
  let dialect: CsvDialect | null = null;
  let text: string;
  if (options.mapping) {
    const checked = csvMappingSchema.safeParse(options.mapping);
    if (!checked.success) throw new ParseError(FORMAT, `the mapping is not valid: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    mapping = checked.data;
    text = decode(bytes, mapping.encoding, warnings);
  } else {
    const decodeWarnings: string[] = [];
    text = decode(bytes, undefined, decodeWarnings);
    dialect = detectDialect(text);
    const chosen = chooseMapping(FORMAT, dialect);
    mapping = chosen.mapping;
    // A preset may know the bank's encoding better than the UTF-8/Windows-1252 guess (Czech Windows-1250).
    if (mapping.encoding) text = decode(bytes, mapping.encoding, warnings);
    else warnings.push(...decodeWarnings);
    warnings.push(chosen.note);
  }
  const delimiter = mapping.delimiter ?? dialect?.delimiter ?? detectDelimiter(text);
  const headerRow = mapping.headerRow !== undefined ? mapping.headerRow : (dialect?.headerRow ?? profileTable(sampleRows(text, delimiter, 1000)).headerRow);
  return yield* readRowBatches(FORMAT, new CsvTokenizer(text, delimiter, FORMAT), mapping, headerRow, options, effective, warnings, false, batchSize);
}

/** Formats that are comma- or line-structured but not CSV tables, so that sniffing leaves them to their parsers. */
const OTHER_FORMATS = /^(?:01,|:20:|\{1:|OFXHEADER|<|\{|\[|PK)/;

export const csvParser: Parser<CsvParseOptions> = {
  name: FORMAT,
  version: VERSION,
  detect(head: string): boolean {
    const text = head.trimStart();
    if (text === "" || text.includes("\u0000") || OTHER_FORMATS.test(text)) return false;
    const rows = sampleRows(text, detectDelimiter(text), 10);
    const widths = rows.map((r) => r.cells.length);
    return widths.length > 0 && widths.filter((w) => w >= 2).length >= Math.min(2, widths.length);
  },
  parse: parseCsv,
  parseBatches: parseCsvBatches,
};

export type { TableRow };
