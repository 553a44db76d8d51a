import { ParseError } from "./canonical";

/**
 * Turns a written amount into a canonical decimal string without ever passing through a float:
 * "1.234,56" with decimal ",", thousands "." → "1234.56". Returns null when the text is not a number.
 */
export function normaliseAmount(
  text: string,
  decimalSeparator: "." | "," = ".",
  thousandsSeparator: "" | "," | "." | " " | "'" = "",
): string | null {
  let s = text.trim().replace(/\u00a0|\u202f/g, " ");
  if (s === "") return null;
  let negative = false;
  if (s.startsWith("(") && s.endsWith(")")) {
    negative = true;
    s = s.slice(1, -1).trim();
  }
  if (s.endsWith("-")) {
    negative = !negative;
    s = s.slice(0, -1).trim();
  }
  if (s.startsWith("-")) {
    negative = !negative;
    s = s.slice(1).trim();
  } else if (s.startsWith("+")) s = s.slice(1).trim();
  if (thousandsSeparator) s = s.split(thousandsSeparator).join("");
  if (decimalSeparator === ",") {
    if (s.includes(".")) return null;
    s = s.replace(",", ".");
  } else if (s.includes(",")) return null;
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(s)) return null;
  if (s.startsWith(".")) s = `0${s}`;
  s = s.replace(/^0+(?=\d)/, "");
  if (s.includes(".")) {
    // Trailing zeros stripped by hand: a regex anchored at the end is quadratic on long zero runs.
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
    s = s.slice(0, end);
  }
  if (s === "" || s === "0") return "0";
  return negative ? `-${s}` : s;
}

/** Negates a canonical decimal string. */
export function negate(amount: string): string {
  if (amount === "0") return amount;
  return amount.startsWith("-") ? amount.slice(1) : `-${amount}`;
}

/** Like normaliseAmount, but throws a ParseError naming where the bad amount is. */
export function requireAmount(
  format: string,
  text: string,
  line: number | undefined,
  field: string,
  decimalSeparator: "." | "," = ".",
  thousandsSeparator: "" | "," | "." | " " | "'" = "",
): string {
  const amount = normaliseAmount(text, decimalSeparator, thousandsSeparator);
  if (amount === null) throw new ParseError(format, `"${clip(text)}" is not an amount`, line, field);
  return amount;
}

/** A valid calendar date as yyyy-mm-dd, or null. */
export function isoDate(year: number, month: number, day: number): string | null {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return null;
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return null;
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > dim) return null;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Shortens user content quoted in an error message. */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
