import { CsvTokenizer } from "@/server/ingest/parsers/csv-dialect";
import { ParseError } from "@/server/ingest/parsers/canonical";
import { parseUnits } from "./amount-units";
import { parseDay } from "./business-days";
import type { MatchRecord } from "./types";

/**
 * The CLI's input: a CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks) with
 * the header id,date,amount,currency,counterparty,reference,description in that order, ISO dates
 * and signed decimal amounts with a dot. Strict on purpose — this is a test harness for the
 * engine, not an import; the app's imports read real bank formats (server/ingest).
 */
export const MATCH_CSV_HEADER = ["id", "date", "amount", "currency", "counterparty", "reference", "description"] as const;

export class MatchCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | null,
    message: string,
  ) {
    super(`${file}, line ${line}${field ? `, field ${field}` : ""}: ${message}`);
    this.name = "MatchCsvError";
  }
}

export function readMatchCsv(text: string, file: string): MatchRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const tokenizer = new CsvTokenizer(body, ",");
  let header: string[] | null;
  try {
    header = tokenizer.next();
  } catch (e) {
    throw new MatchCsvError(file, 1, null, (e as Error).message);
  }
  const got = (header ?? []).map((h) => h.trim().toLowerCase());
  if (got.join(",") !== MATCH_CSV_HEADER.join(",")) {
    throw new MatchCsvError(file, 1, null, `the header must be ${MATCH_CSV_HEADER.join(",")} (got ${got.join(",") || "nothing"})`);
  }
  const records: MatchRecord[] = [];
  const ids = new Set<string>();
  for (;;) {
    let cells: string[] | null;
    try {
      cells = tokenizer.next();
    } catch (e) {
      throw new MatchCsvError(file, e instanceof ParseError && e.line ? e.line : tokenizer.recordLine, null, (e as Error).message);
    }
    if (cells === null) break;
    const line = tokenizer.recordLine;
    if (cells.length === 1 && cells[0].trim() === "") continue;
    if (cells.length !== MATCH_CSV_HEADER.length) throw new MatchCsvError(file, line, null, `expected ${MATCH_CSV_HEADER.length} fields, found ${cells.length}`);
    const [id, date, amount, currency, counterparty, reference, description] = cells.map((c) => c.trim());
    if (id === "") throw new MatchCsvError(file, line, "id", "is empty");
    if (ids.has(id)) throw new MatchCsvError(file, line, "id", `"${id}" appears twice`);
    ids.add(id);
    if (parseDay(date) === null) throw new MatchCsvError(file, line, "date", `"${date}" is not an ISO date (yyyy-mm-dd)`);
    if (!/^[+-]?\d+(\.\d+)?$/.test(amount) || parseUnits(amount) === null) throw new MatchCsvError(file, line, "amount", `"${amount}" is not a signed decimal with at most 4 places (like -1234.56)`);
    if (!/^[A-Z]{3}$/.test(currency)) throw new MatchCsvError(file, line, "currency", `"${currency}" is not an ISO 4217 code (like EUR)`);
    records.push({ id, date, amount, currency, counterparty: counterparty || null, reference: reference || null, description: description || null });
  }
  return records;
}
