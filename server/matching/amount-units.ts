import { AppError } from "@/server/errors";

/**
 * Money inside the engine: exact integers of 1/10,000 of the currency unit (the scale of every
 * money column). A JS number holds every integer up to Number.MAX_SAFE_INTEGER (2^53 − 1) exactly,
 * and sums and differences of such integers are exact while they stay in that range, so the hot
 * loops compare and add plain numbers — no Decimal per pair, no floats with fractions. Amounts
 * beyond ±900,719,925,474.0991 are refused with a clear error rather than silently rounded; the
 * caller can split such a run or match those records by hand.
 */
export const UNIT_SCALE = 10_000;

/** Sums of a group stay exact while every member is below this: a group never has 2^10 members. */
const MAX_RECORD_UNITS = Math.floor(Number.MAX_SAFE_INTEGER / 1024);

/** "-1234.5" → -12345000. Returns null for anything that is not a plain signed decimal with ≤ 4 places. */
export function parseUnits(s: string): number | null {
  const n = s.length;
  let i = 0;
  let negative = false;
  if (n === 0) return null;
  const first = s.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = 1;
  }
  let value = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
    digits++;
  }
  let places = 0;
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      if (++places > 4) return null;
      value = value * 10 + c;
    }
  }
  if (i !== n || (digits === 0 && places === 0)) return null;
  // Checked after the loop: every intermediate is ≤ the final value, so it was exact if this is.
  if (value > MAX_RECORD_UNITS) return null;
  for (; places < 4; places++) value *= 10;
  if (value > MAX_RECORD_UNITS) return null;
  return negative && value !== 0 ? -value : value;
}

/** Parses a record's amount or throws a validation error naming the record. */
export function unitsOf(amount: string, where: string): number {
  const units = typeof amount === "string" ? parseUnits(amount.trim()) : null;
  if (units === null) {
    throw new AppError("validation", `${where}: amount "${String(amount)}" is not a decimal with at most 4 places and at most ±${formatUnits(MAX_RECORD_UNITS)}`);
  }
  return units;
}

/** Units back to the canonical decimal string ("12345000" → "1234.5", 0 → "0"). */
export function formatUnits(units: number): string {
  const negative = units < 0;
  const abs = negative ? -units : units;
  const int = Math.floor(abs / UNIT_SCALE);
  let frac = abs - int * UNIT_SCALE;
  let text = String(int);
  if (frac !== 0) {
    let places = 4;
    while (frac % 10 === 0) {
      frac /= 10;
      places--;
    }
    text += "." + String(frac).padStart(places, "0");
  }
  return negative ? "-" + text : text;
}

/** A tolerance in exact terms: absolute units, and a percent held as millionths (1 = 0.0001 %). */
export type Tolerance = { absoluteUnits: number; percentMillionths: number };

/** Parses {absolute: "0.50", percent: "1.5"} (decimal strings, ≥ 0). */
export function parseTolerance(t: { absolute?: string; percent?: string }, where: string): Tolerance {
  const absoluteUnits = t.absolute === undefined ? 0 : unitsOf(t.absolute, `${where} tolerance`);
  const percentUnits = t.percent === undefined ? 0 : unitsOf(t.percent, `${where} tolerance percent`);
  if (absoluteUnits < 0 || percentUnits < 0) throw new AppError("validation", `${where}: a tolerance cannot be negative`);
  // percent × 10,000 units per percent-point = millionths of the whole.
  return { absoluteUnits, percentMillionths: percentUnits };
}

/**
 * The allowed difference for two amounts: the larger of the absolute tolerance and the percent of
 * the larger side, rounded down to a unit. Exact: larger × p / 10^6 is split so no product leaves
 * the safe-integer range (larger < 2^43, p ≤ 10^8 for 10,000 %).
 */
export function allowedDifference(t: Tolerance, a: number, b: number): number {
  if (t.percentMillionths === 0) return t.absoluteUnits;
  const larger = Math.max(Math.abs(a), Math.abs(b));
  const high = Math.floor(larger / 1_000_000);
  const low = larger - high * 1_000_000;
  const pct = high * t.percentMillionths + Math.floor((low * t.percentMillionths) / 1_000_000);
  return Math.max(t.absoluteUnits, pct);
}

export function widerTolerance(a: Tolerance, b: Tolerance): Tolerance {
  return { absoluteUnits: Math.max(a.absoluteUnits, b.absoluteUnits), percentMillionths: Math.max(a.percentMillionths, b.percentMillionths) };
}
