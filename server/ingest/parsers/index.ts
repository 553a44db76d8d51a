import { BATCH_SIZE, batchesOf, DEFAULT_LIMITS, ParseError, type ParsedFile, type ParseLimits, type Parser, type RecordBatches } from "./canonical";
import { headOf } from "./text";
import { adyenSettlementParser } from "./adyen";
import { bai2Parser } from "./bai2";
import { camtParser } from "./camt";
import { csvParser, type CsvParseOptions } from "./csv";
import { jsonParser } from "./json";
import { mt940Parser } from "./mt940";
import { ofxParser } from "./ofx";
import { paypalSettlementParser, paypalTransactionsParser } from "./paypal";
import { stripeBalanceParser, stripePaymentsParser } from "./stripe";
import { parseXlsx, xlsxParser } from "./xlsx";

/**
 * Every format Tieout reads, most specific first: detection asks each parser in this order, so a
 * provider's CSV report is recognised before the generic CSV parser claims it.
 */
const PARSERS: readonly Parser<any>[] = [
  camtParser,
  ofxParser,
  mt940Parser,
  bai2Parser,
  stripeBalanceParser,
  stripePaymentsParser,
  adyenSettlementParser,
  paypalSettlementParser,
  paypalTransactionsParser,
  jsonParser,
  csvParser,
];

export const FORMATS = [...PARSERS.map((p) => p.name), xlsxParser.name] as const;

/** Format names a parser may report (a parser can emit a sub-format, e.g. camt052 or mt942). */
const FORMAT_ALIASES: Record<string, string> = { camt053: "camt", camt052: "camt", camt054: "camt", mt942: "mt940", qfx: "ofx" };

export type ParseRequest = {
  format?: string;
  fileName?: string;
  options?: CsvParseOptions;
  limits?: Partial<ParseLimits>;
};

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** The parser name for a file: XLSX by its ZIP magic bytes, the rest by their first 4 KB. */
export function detectFormat(bytes: Uint8Array): string | null {
  if (isZip(bytes)) return xlsxParser.name;
  const head = headOf(bytes);
  return PARSERS.find((p) => p.detect(head))?.name ?? null;
}

/** Parses with the named (or detected) parser. Throws ParseError for anything it cannot read. */
export async function parseBytes(bytes: Uint8Array, req: ParseRequest = {}): Promise<ParsedFile> {
  const { parser, limits } = chooseParser(bytes, req);
  if (parser === "xlsx") return parseXlsx(bytes, req.options, limits);
  return parser.parse(bytes, req.options, limits);
}

/**
 * The same parse as parseBytes, in batches of records (see RecordBatches), for the import path:
 * formats with a batched parser never hold all their records at once. A ParseError may arrive
 * with any batch, so nothing written from earlier batches may outlive it.
 */
export async function parseBytesInBatches(bytes: Uint8Array, req: ParseRequest = {}, batchSize = BATCH_SIZE): Promise<RecordBatches> {
  const { parser, limits } = chooseParser(bytes, req);
  if (parser === "xlsx") return batchesOf(await parseXlsx(bytes, req.options, limits), batchSize);
  if (parser.parseBatches) return parser.parseBatches(bytes, req.options, limits, batchSize);
  // Parsed up front, so a bad file is refused before the first batch.
  return batchesOf(parser.parse(bytes, req.options, limits), batchSize);
}

function chooseParser(bytes: Uint8Array, req: ParseRequest): { parser: Parser<any> | "xlsx"; limits: ParseLimits } {
  const limits = { ...DEFAULT_LIMITS, ...req.limits };
  if (bytes.length > limits.maxBytes) throw new ParseError("file", `the file is larger than the ${limits.maxBytes}-byte limit`);
  const name = req.format ? (FORMAT_ALIASES[req.format] ?? req.format) : detectFormat(bytes);
  if (!name) {
    throw new ParseError("file", "the format was not recognised (supported: CSV, XLSX, JSON, OFX/QFX, MT940/MT942, CAMT.052/053/054, BAI2, Stripe, Adyen and PayPal reports)");
  }
  if (name === xlsxParser.name) return { parser: "xlsx", limits };
  const parser = PARSERS.find((p) => p.name === name);
  if (!parser) throw new ParseError("file", `there is no parser named "${req.format}" (choose one of ${FORMATS.join(", ")})`);
  return { parser, limits };
}
