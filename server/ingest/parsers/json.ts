import { Money } from "../../money";
import { DEFAULT_LIMITS, ParseError, type ParsedFile, type Parser, type ParseLimits } from "./canonical";
import { chooseMapping, type CsvMapping, csvMappingSchema, type CsvParseOptions, cursorOverRows, readRows, type TableRow } from "./csv";
import { type DecimalSeparator, profileTable } from "./csv-dialect";
import { clip } from "./decimal-text";
import { decodeText } from "./text";

/**
 * Transactions as JSON: an array of objects, or { "transactions": [...] }. Each object is
 * flattened to dotted paths ("amount", "counterparty.name", "tags.0") and read through the CSV
 * mapping engine, so a JSON mapping is a CsvMapping whose column headers are those paths, and
 * suggestions and errors work the same way (the error's line is the line of the object's "{").
 *
 * The JSON is read by a small hand-written parser rather than JSON.parse: Node 20's JSON.parse
 * gives no position for several errors, and it turns numbers into doubles; here numbers keep their
 * exact text (12345678901234567.89 stays that), and every error names a line and column.
 */

const FORMAT = "json";
const VERSION = "1";
const MAX_DEPTH = 64;
/** Leaves per object and distinct paths per file: far above any transaction export, far below trouble. */
const MAX_LEAVES = 1000;

export type JsonMapping = CsvMapping;
export const jsonMappingSchema = csvMappingSchema;
export type JsonParseOptions = CsvParseOptions & {
  /** Dotted path to the array of transactions when it is neither the root nor "transactions". */
  recordsPath?: string;
};

/** A JSON number, kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}
export type JsonValue = string | boolean | null | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Recursive descent over the text; depth is bounded, so is the recursion. */
class JsonReader {
  private pos = 0;
  private depth = 0;
  /** Line breaks only occur between tokens (a raw one inside a string is an error), so counting them there keeps the line. */
  private line = 1;
  /** The line each object starts on, for error messages about it. */
  readonly lines = new WeakMap<object, number>();

  constructor(private readonly text: string) {}

  document(): JsonValue {
    const value = this.value();
    this.space();
    if (this.pos < this.text.length) this.fail("unexpected text after the end of the JSON");
    return value;
  }

  /** `at` is always on the current line: tokens never span lines. */
  private fail(message: string, at = this.pos): never {
    const column = at - (this.text.lastIndexOf("\n", at - 1) + 1) + 1;
    throw new ParseError(FORMAT, `${message} (column ${column})`, this.line);
  }

  private space(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x0a) this.line++;
      else if (c !== 0x20 && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  private value(): JsonValue {
    this.space();
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    if (c === undefined) this.fail("the JSON ends too early");
    return this.fail(`unexpected "${clip(c, 1)}"`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`the JSON is nested deeper than ${MAX_DEPTH} levels`);
  }

  private object(): JsonValue {
    this.enter();
    this.pos++;
    const object: { [key: string]: JsonValue } = {};
    this.lines.set(object, this.line);
    this.space();
    if (this.text[this.pos] === "}") {
      this.pos++;
      this.depth--;
      return object;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail("expected a key in double quotes");
      const key = this.string();
      this.space();
      if (this.text[this.pos] !== ":") this.fail(`expected ":" after the key "${clip(key)}"`);
      this.pos++;
      // defineProperty, so that a "__proto__" key is data and not the object's prototype.
      Object.defineProperty(object, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.space();
      const c = this.text[this.pos++];
      if (c === "}") break;
      if (c === undefined) this.fail("the JSON ends too early", this.pos - 1);
      if (c !== ",") this.fail('expected "," or "}" after a value', this.pos - 1);
    }
    this.depth--;
    return object;
  }

  private array(): JsonValue {
    this.enter();
    this.pos++;
    const array: JsonValue[] = [];
    this.lines.set(array, this.line);
    this.space();
    if (this.text[this.pos] === "]") {
      this.pos++;
      this.depth--;
      return array;
    }
    for (;;) {
      array.push(this.value());
      this.space();
      const c = this.text[this.pos++];
      if (c === "]") break;
      if (c === undefined) this.fail("the JSON ends too early", this.pos - 1);
      if (c !== ",") this.fail('expected "," or "]" after a value', this.pos - 1);
    }
    this.depth--;
    return array;
  }

  private string(): string {
    const text = this.text;
    let out = "";
    let from = ++this.pos;
    for (;;) {
      let i = from;
      while (i < text.length) {
        const c = text.charCodeAt(i);
        if (c === 0x22 || c === 0x5c) break;
        if (c < 0x20) this.fail("a control character inside a string (write it as an escape)", i);
        i++;
      }
      if (i >= text.length) this.fail("a string is never closed", this.pos - 1);
      out += text.slice(from, i);
      if (text.charCodeAt(i) === 0x22) {
        this.pos = i + 1;
        return out;
      }
      const escape = text[i + 1];
      if (escape === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("a \\u escape needs four hex digits", i);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        from = i + 6;
      } else if (escape !== undefined && escape in ESCAPES) {
        out += ESCAPES[escape];
        from = i + 2;
      } else this.fail(`"\\${clip(escape ?? "", 1)}" is not an escape`, i);
    }
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail("a number is written wrongly");
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }
}

/** Parses JSON text keeping numbers exact; ParseError with line and column on any error. */
export function readJson(text: string): { value: JsonValue; lineOf: (value: object) => number } {
  const reader = new JsonReader(text);
  const value = reader.document();
  return { value, lineOf: (v) => reader.lines.get(v) ?? 1 };
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

function recordsOf(root: JsonValue, recordsPath: string | undefined): JsonValue[] {
  if (recordsPath !== undefined) {
    let at: JsonValue | undefined = root;
    for (const key of recordsPath.split(".")) at = Array.isArray(at) ? at[Number(key)] : isObject(at) && Object.hasOwn(at, key) ? at[key] : undefined;
    if (!Array.isArray(at)) throw new ParseError(FORMAT, `"${clip(recordsPath)}" is not an array of transactions in this file`);
    return at;
  }
  if (Array.isArray(root)) return root;
  if (isObject(root) && Array.isArray(root.transactions)) return root.transactions;
  throw new ParseError(FORMAT, 'expected an array of transactions, or an object with a "transactions" array', 1);
}

/** A number's exact text as a cell, with the mapping's decimal mark; exponents written out. */
function numberCell(value: JsonNumber, decimal: DecimalSeparator): string {
  const text = /[eE]/.test(value.text) ? new Money(value.text).toFixed() : value.text;
  return decimal === "," ? text.replace(".", ",") : text;
}

/** The object's leaves by dotted path, in the order they are written. */
function flatten(value: JsonValue, prefix: string, out: Map<string, string>, decimal: DecimalSeparator, line: number): void {
  if (out.size > MAX_LEAVES) throw new ParseError(FORMAT, `a transaction has more than ${MAX_LEAVES} fields`, line);
  if (value instanceof JsonNumber) out.set(prefix, numberCell(value, decimal));
  else if (typeof value === "string") out.set(prefix, value);
  else if (typeof value === "boolean") out.set(prefix, String(value));
  else if (value === null) out.set(prefix, "");
  else if (Array.isArray(value)) value.forEach((v, i) => flatten(v, prefix ? `${prefix}.${i}` : String(i), out, decimal, line));
  else for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, out, decimal, line);
}

/** The records as a table: a header of every path seen (first-seen order), one row per object. */
function toTable(records: JsonValue[], lineOf: (v: object) => number, decimal: DecimalSeparator, limits: ParseLimits): { header: string[]; rows: TableRow[] } {
  if (records.length > limits.maxRecords) throw new ParseError(FORMAT, `the file has ${records.length} transactions, more than the ${limits.maxRecords} one import takes`);
  const columns = new Map<string, number>();
  const flat: { line: number; leaves: Map<string, string> }[] = [];
  records.forEach((record, i) => {
    if (!isObject(record)) throw new ParseError(FORMAT, `transaction ${i + 1} is not an object`, Array.isArray(record) ? lineOf(record) : undefined);
    const line = lineOf(record);
    const leaves = new Map<string, string>();
    flatten(record, "", leaves, decimal, line);
    for (const path of leaves.keys()) {
      if (!columns.has(path)) columns.set(path, columns.size);
      if (columns.size > MAX_LEAVES) throw new ParseError(FORMAT, `the transactions have more than ${MAX_LEAVES} different fields`, line);
    }
    flat.push({ line, leaves });
  });
  const header = [...columns.keys()];
  const rows = flat.map(({ line, leaves }) => {
    const cells = new Array<string>(header.length).fill("");
    for (const [path, text] of leaves) cells[columns.get(path) as number] = text;
    return { line, cells };
  });
  return { header, rows };
}

export function parseJson(bytes: Uint8Array, options: JsonParseOptions = {}, limits: Partial<ParseLimits> = {}): ParsedFile {
  const effective: ParseLimits = { ...DEFAULT_LIMITS, ...limits };
  if (bytes.length > effective.maxBytes) throw new ParseError(FORMAT, `the file is ${bytes.length} bytes, more than the ${effective.maxBytes} one import takes`);
  const { value, lineOf } = readJson(decodeText(bytes, FORMAT).text);
  const records = recordsOf(value, options.recordsPath);
  if (records.length === 0) return { format: FORMAT, parserVersion: VERSION, statements: [], records: [], warnings: ["the file holds no transactions"] };
  const { header, rows } = toTable(records, lineOf, options.mapping?.decimalSeparator ?? ".", effective);
  // The header is not a line of the file: line 0 keeps it apart from the records' real lines.
  const table: TableRow[] = [{ line: 0, cells: header }, ...rows];
  const warnings: string[] = [];
  let mapping: CsvMapping;
  if (options.mapping) {
    const checked = csvMappingSchema.safeParse(options.mapping);
    if (!checked.success) throw new ParseError(FORMAT, `the mapping is not valid: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    mapping = checked.data;
  } else {
    const chosen = chooseMapping(FORMAT, { ...profileTable(table.slice(0, 1001), 0), headerRow: null });
    mapping = chosen.mapping;
    warnings.push(chosen.note.replace("columns", "fields"));
  }
  return readRows(FORMAT, cursorOverRows(table), mapping, 0, options, effective, warnings, true);
}

export const jsonParser: Parser<JsonParseOptions> = {
  name: FORMAT,
  version: VERSION,
  detect(head: string): boolean {
    const text = head.trimStart();
    return text.startsWith("[") || text.startsWith("{");
  },
  parse: parseJson,
};
