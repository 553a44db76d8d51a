import Decimal from "decimal.js";

/**
 * Money is exact: numeric in PostgreSQL, decimal strings across boundaries, Decimal here.
 * One rounding mode for the whole product: half-even (banker's rounding), as ledgers expect.
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Money = Decimal;

/** A signed decimal string with at most 4 decimals (the scale of every money column). */
export const DECIMAL_PATTERN = /^-?\d{1,16}(\.\d{1,4})?$/;

/** ISO 4217 minor-unit exponents that differ from 2. */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export const minorUnits = (currency: string): number => EXPONENTS[currency] ?? 2;

export function money(value: string | Decimal): Decimal {
  return new Money(value);
}

/** Rounds to the currency's minor unit. */
export function roundTo(value: Decimal, currency: string): Decimal {
  return value.toDecimalPlaces(minorUnits(currency), Money.ROUND_HALF_EVEN);
}

/**
 * The canonical form `money(s).toFixed()` gives a DECIMAL_PATTERN string (no leading zeros, no
 * trailing fractional zeros, no "-0"), without building a Decimal: posting normalises every
 * amount of every line.
 */
export function normaliseDecimal(s: string): string {
  const negative = s.charCodeAt(0) === 45; // "-"
  const body = negative ? s.slice(1) : s;
  const dot = body.indexOf(".");
  let int = dot < 0 ? body : body.slice(0, dot);
  let frac = dot < 0 ? "" : body.slice(dot + 1);
  let i = 0;
  while (i < int.length - 1 && int.charCodeAt(i) === 48) i++;
  int = int.slice(i);
  let j = frac.length;
  while (j > 0 && frac.charCodeAt(j - 1) === 48) j--;
  frac = frac.slice(0, j);
  const out = frac ? `${int}.${frac}` : int;
  return negative && out !== "0" ? `-${out}` : out;
}

/** A normalised decimal string with at most 4 decimals as an exact integer of 1/10,000 units. */
export function toUnits4(s: string): bigint {
  const dot = s.indexOf(".");
  if (dot < 0) return BigInt(s) * 10000n;
  return BigInt(s.slice(0, dot) + s.slice(dot + 1).padEnd(4, "0"));
}

/** units4 (≥ 0) as a string with `places` (0–4) decimals, as Decimal#toFixed(places) writes a value with no more decimals than that. */
export function fromUnits4(units: bigint, places: number): string {
  const int = units / 10000n;
  const frac = (units % 10000n).toString().padStart(4, "0").slice(0, places);
  return places > 0 ? `${int}.${frac}` : `${int}`;
}

export function decimalPlaces(s: string): number {
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Formats for display with the currency's minor units, e.g. "1,234.50". */
export function formatMoney(value: string | Decimal, currency: string): string {
  const d = money(value);
  const fixed = d.abs().toFixed(minorUnits(currency));
  const [int, frac] = fixed.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  // The sign follows the shown (rounded) value: -0.004 EUR is "0.00", not "-0.00".
  const negative = d.isNeg() && /[1-9]/.test(fixed);
  return `${negative ? "-" : ""}${grouped}${frac ? `.${frac}` : ""}`;
}

export function sum(values: Iterable<string | Decimal>): Decimal {
  let total = new Money(0);
  for (const v of values) total = total.plus(v);
  return total;
}
