import { JsonNumber, readJson, type JsonValue } from "@/server/ingest/parsers/json";

/**
 * Xero's JSON made safe to keep: amounts stay exact decimal strings (the exact-number reader, never
 * JS floats), /Date(ms±hhmm)/ values become ISO strings — calendar fields (Date, DueDate,
 * JournalDate…) as "YYYY-MM-DD" taken from the UTC day, timestamps as full ISO instants.
 */
export type XeroValue = string | boolean | null | XeroValue[] | { [key: string]: XeroValue };
export type XeroObject = { [key: string]: XeroValue };

const MS_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;
const CALENDAR_FIELDS = new Set(["Date", "DueDate", "JournalDate", "FullyPaidOnDate", "ExpectedPaymentDate", "PlannedPaymentDate", "ReportDate"]);

export function parseXeroJson(text: string): XeroValue {
  return plain(readJson(text).value, "");
}

function plain(v: JsonValue, key: string): XeroValue {
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === "string") {
    const m = MS_DATE.exec(v);
    if (!m) return v;
    const iso = new Date(Number(m[1])).toISOString();
    return CALENDAR_FIELDS.has(key) ? iso.slice(0, 10) : iso;
  }
  if (v === null || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map((x) => plain(x, ""));
  const out: XeroObject = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x, k);
  return out;
}

/** A timestamp Xero writes without a zone (connections, webhook eventDateUtc) is UTC. */
export function xeroUtc(s: string): Date {
  return new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`);
}

/** If-Modified-Since in the form the research note recommends: UTC, whole seconds, no zone. */
export function ifModifiedSince(d: Date): string {
  return d.toISOString().slice(0, 19);
}
