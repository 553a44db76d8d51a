/**
 * Dates as whole days since 1970-01-01 (UTC, no time zone: a booked date is a calendar date), and
 * distances in business days (Monday–Friday). Bank holidays are not modelled: a lag over a holiday
 * counts one business day more, which the window absorbs.
 */

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** "2026-03-14" → day number, or null when it is not a real ISO calendar date. */
export function parseDay(s: string): number | null {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  if (y < 0 || m < 1 || m > 12 || d < 1) return null;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const monthLength = m === 2 ? (leap ? 29 : 28) : MONTH_LENGTHS[m - 1];
  if (d > monthLength) return null;
  // Days from civil (proleptic Gregorian), counted from 0000-03-01 so leap days come last.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Day number → "yyyy-mm-dd". */
export function formatDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** 0 = Monday … 6 = Sunday (day 0, 1970-01-01, was a Thursday). */
export function weekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/**
 * The number of business days before `day` since an arbitrary Monday; a Saturday or Sunday counts
 * as the following Monday, so a Friday payment booked on Monday is one business day late and a
 * weekend booking is no business days away from the Monday.
 */
export function businessIndex(day: number): number {
  const m = day + 3;
  const week = Math.floor(m / 7);
  const dow = m - week * 7;
  return week * 5 + (dow < 5 ? dow : 5);
}

/** Business days between two dates (symmetric, ≥ 0). */
export function businessDaysBetween(a: number, b: number): number {
  const d = businessIndex(a) - businessIndex(b);
  return d < 0 ? -d : d;
}
