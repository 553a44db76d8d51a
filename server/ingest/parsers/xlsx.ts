import ExcelJS from "exceljs";
import { Money } from "../../money";
import { DEFAULT_LIMITS, ParseError, type ParsedFile, type Parser, type ParseLimits } from "./canonical";
import { chooseMapping, type CsvMapping, csvMappingSchema, type CsvParseOptions, cursorOverRows, readRows, type TableRow } from "./csv";
import { type DecimalSeparator, profileTable } from "./csv-dialect";
import { clip } from "./decimal-text";
import { scanZip } from "./zip-guard";

/**
 * Bank statements exported as Excel workbooks (.xlsx): the first worksheet is read as a table of
 * text cells and goes through the CSV mapping engine, so mappings, presets and suggestions are the
 * same as for CSV. The ZIP is checked by zip-guard before exceljs sees it.
 *
 * Cells become text exactly: date cells yyyy-mm-dd; numbers as decimals with at most 15
 * significant digits (Excel's own precision: it stores doubles and shows 15 digits), so a cell
 * holding 0.30000000000000004 reads "0.3" and 1234.5599999999999 reads "1234.56". Amounts needing
 * more than 15 significant digits cannot be read exactly from a numeric cell; text cells are exact.
 */

const FORMAT = "xlsx";
const VERSION = "1";

/** A parser whose work is asynchronous (exceljs loads workbooks with promises). */
export type AsyncParser<Options> = Omit<Parser<Options>, "parse"> & {
  parseAsync(bytes: Uint8Array, options?: Options, limits?: Partial<ParseLimits>): Promise<ParsedFile>;
};

export type XlsxParseOptions = CsvParseOptions;

export async function parseXlsx(bytes: Uint8Array, options: XlsxParseOptions = {}, limits: Partial<ParseLimits> = {}): Promise<ParsedFile> {
  const effective: ParseLimits = { ...DEFAULT_LIMITS, ...limits };
  if (bytes.length > effective.maxBytes) throw new ParseError(FORMAT, `the file is ${bytes.length} bytes, more than the ${effective.maxBytes} one import takes`);
  scanZip(bytes, FORMAT);
  const sheet = await firstWorksheet(bytes);
  const warnings: string[] = [];
  const rows = sheetRows(sheet, options.mapping?.decimalSeparator ?? ".", effective);
  let mapping: CsvMapping;
  let headerRow: number | null;
  if (options.mapping) {
    const checked = csvMappingSchema.safeParse(options.mapping);
    if (!checked.success) throw new ParseError(FORMAT, `the mapping is not valid: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    mapping = checked.data;
    headerRow = mapping.headerRow !== undefined ? mapping.headerRow : profileTable(rows.slice(0, 1000)).headerRow;
  } else {
    const profile = profileTable(rows.slice(0, 1000));
    const chosen = chooseMapping(FORMAT, profile);
    mapping = chosen.mapping;
    headerRow = mapping.headerRow !== undefined ? mapping.headerRow : profile.headerRow;
    warnings.push(chosen.note);
  }
  return readRows(FORMAT, cursorOverRows(rows), mapping, headerRow, options, effective, warnings, true);
}

export const xlsxParser: AsyncParser<XlsxParseOptions> = {
  name: FORMAT,
  version: VERSION,
  /** A ZIP whose first entries are a workbook's (Word and PowerPoint files are ZIPs too). */
  detect(head: string): boolean {
    if (!head.startsWith("PK\u0003\u0004")) return false;
    return head.includes("xl/") || (head.includes("[Content_Types].xml") && !head.includes("word/") && !head.includes("ppt/"));
  },
  parseAsync: parseXlsx,
};

async function firstWorksheet(bytes: Uint8Array): Promise<ExcelJS.Worksheet> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs declares its own Buffer type (an ArrayBuffer) but reads Node Buffers.
    await workbook.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ArrayBuffer);
  } catch (e) {
    // exceljs reports damaged archives and XML in its own words; the person needs only to know the workbook is unreadable.
    throw new ParseError(FORMAT, `the workbook could not be read (${clip(e instanceof Error ? e.message : String(e), 120)})`);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new ParseError(FORMAT, "the workbook has no worksheet");
  return sheet;
}

/** The sheet's non-empty rows as text cells, numbered like the spreadsheet's rows. */
function sheetRows(sheet: ExcelJS.Worksheet, decimal: DecimalSeparator, limits: ParseLimits): TableRow[] {
  const rows: TableRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (rows.length > limits.maxRecords) throw new ParseError(FORMAT, `the sheet has more than ${limits.maxRecords} rows, the most one import takes`, rowNumber);
    const values = Array.isArray(row.values) ? row.values : [];
    const cells: string[] = [];
    // row.values is 1-based (index 0 unused) and sparse where cells are empty.
    for (let c = 1; c < values.length; c++) cells.push(cellText(values[c], decimal));
    rows.push({ line: rowNumber, cells });
  });
  return rows;
}

/** A cell's value as the text a CSV export of it would hold. */
export function cellText(value: ExcelJS.CellValue | undefined, decimal: DecimalSeparator = "."): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberText(value, decimal);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) return dateText(value);
  if ("richText" in value && Array.isArray(value.richText)) return value.richText.map((r) => r.text ?? "").join("");
  if ("hyperlink" in value) return cellText(value.text as ExcelJS.CellValue, decimal);
  if ("formula" in value || "sharedFormula" in value) return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue, decimal);
  if ("error" in value) return String(value.error);
  return "";
}

/** A double as a decimal with at most 15 significant digits, no exponent, no trailing zeros. */
export function numberText(value: number, decimal: DecimalSeparator = "."): string {
  if (!Number.isFinite(value)) return "";
  const text = new Money(value.toPrecision(15)).toFixed();
  return decimal === "," ? text.replace(".", ",") : text;
}

/** exceljs builds dates from Excel's serial numbers in UTC; the calendar day is what the bank meant. */
function dateText(value: Date): string {
  if (Number.isNaN(value.getTime())) return "";
  return `${value.getUTCFullYear()}-${String(value.getUTCMonth() + 1).padStart(2, "0")}-${String(value.getUTCDate()).padStart(2, "0")}`;
}
