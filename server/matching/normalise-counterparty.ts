/**
 * Counterparty names as both sides can compare them. Banks upper-case names, drop punctuation and
 * cut them at a fixed width (16, 18 or 35 characters are common), ledgers keep the legal name:
 * "ACME TRADING INTERNATIONAL G" and "Acme Trading International GmbH" are the same company.
 * Normalising lower-cases, folds accents, turns punctuation into spaces and drops legal-form
 * words (GmbH, Ltd, Inc, LLC, SA, BV, AG, plc, …) and their fragments at a cut end.
 */

const LEGAL_FORMS = new Set([
  "gmbh", "mbh", "ag", "kg", "ohg", "ug", "ev", "ltd", "limited", "plc", "llp", "lp", "llc", "inc", "incorporated", "corp", "corporation",
  "co", "company", "cie", "sa", "sas", "sarl", "sl", "slu", "spa", "srl", "bv", "nv", "vof", "oy", "oyj", "ab", "as", "asa", "aps", "a/s",
  "pty", "pte", "kk", "se", "sp", "zoo", "kft", "doo", "sro", "the",
]);

const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c > 127;

/**
 * The words of a name: lower-case letters and digits, accents folded (only when there are any:
 * NFD is slow and most names are ASCII), single-letter dotted abbreviations glued ("B.V." → "bv").
 */
function words(name: string): string[] {
  let s = name;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) {
      s = s.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      break;
    }
  }
  s = s.toLowerCase();
  const n = s.length;
  const out: string[] = [];
  let pending = "";
  let start = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isWordChar(c)) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    const w = pending + s.slice(start, i);
    start = -1;
    if (c === 46 && w.length - pending.length === 1 && i + 1 < n && isWordChar(s.charCodeAt(i + 1)) && (i + 2 >= n || !isWordChar(s.charCodeAt(i + 2)))) {
      pending = w;
      continue;
    }
    out.push(w);
    pending = "";
  }
  if (start >= 0) out.push(pending + s.slice(start));
  else if (pending) out.push(pending);
  return out;
}

/**
 * The comparable core of a name: cleaned, legal-form words removed (anywhere after the first
 * word, since "Acme GmbH & Co. KG" has them in the middle), and, when the name was cut, a trailing
 * fragment of a legal form removed too ("acme trading gm").
 */
export function normaliseCounterparty(name: string | null | undefined): string {
  if (!name) return "";
  const all = words(name);
  const kept: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const w = all[i];
    if (LEGAL_FORMS.has(w) && (i > 0 || all.length > 1)) continue;
    kept.push(w);
  }
  if (kept.length > 1 && isLegalFormFragment(kept[kept.length - 1])) kept.pop();
  return kept.join(" ");
}

/** "gm", "gmb", "lt", "limi", "inc" …: a legal form cut short by a bank's field width. */
function isLegalFormFragment(word: string): boolean {
  if (word.length < 2) return true;
  for (const form of LONG_FORMS) if (form.length > word.length && form.startsWith(word)) return true;
  return false;
}
const LONG_FORMS = ["gmbh", "limited", "incorporated", "corporation", "company", "sarl"];

/** Character trigrams of " name " as numbers (three 16-bit codes packed into a float-safe integer), sorted. */
export function trigrams(s: string): number[] {
  const padded = ` ${s} `;
  const out: number[] = [];
  for (let i = 0; i + 3 <= padded.length; i++) {
    out.push(padded.charCodeAt(i) * 4294967296 + padded.charCodeAt(i + 1) * 65536 + padded.charCodeAt(i + 2));
  }
  out.sort((a, b) => a - b);
  return out;
}

/** Sørensen–Dice over trigram multisets, in [0, 1]. */
export function trigramSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  return diceOf(trigrams(a), trigrams(b));
}

/** Sørensen–Dice over two sorted trigram lists. */
function diceOf(x: number[], y: number[]): number {
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < x.length && j < y.length) {
    if (x[i] === y[j]) {
      common++;
      i++;
      j++;
    } else if (x[i] < y[j]) i++;
    else j++;
  }
  return (2 * common) / (x.length + y.length);
}

/** Share of the shorter name's words found in the longer one, in [0, 1] (word order and extra words do not matter). */
export function tokenSimilarity(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return 0;
  return wordOverlap(a.split(" "), b.split(" "));
}

function wordOverlap(wa: string[], wb: string[]): number {
  const [short, long] = wa.length <= wb.length ? [wa, wb] : [wb, wa];
  let found = 0;
  for (const w of short) if (long.includes(w)) found++;
  return found / short.length;
}

/**
 * How alike two normalised names are, in [0, 1]. Equal names score 1; a name that is the other cut
 * at a bank's width scores 0.95 (it could be a longer, different name, so not quite 1); otherwise
 * the better of word overlap (discounted, since "acme" ⊂ "acme logistics" is not proof) and
 * trigram similarity (which forgives typos and spacing).
 */
export function counterpartySimilarity(a: string, b: string): number {
  if (a === b) return a.length > 0 ? 1 : 0;
  if (a.length === 0 || b.length === 0) return 0;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length >= 8 && long.startsWith(short)) return 0.95;
  return Math.max(0.9 * tokenSimilarity(a, b), trigramSimilarity(a, b));
}

/** A blocking key for grouping by counterparty that survives truncation: the first 8 characters of the core name. */
export function counterpartyBlock(normalised: string): string {
  return normalised.length <= 8 ? normalised : normalised.slice(0, 8);
}

/** A normalised name with its words and trigrams, computed once per record and run. */
export type NameParts = { name: string; words: string[]; trigrams: number[] };

export const nameParts = (name: string): NameParts => ({ name, words: name.split(" "), trigrams: trigrams(name) });

/** counterpartySimilarity(a.name, b.name), from parts computed once per record instead of per pair. */
export function partsSimilarity(a: NameParts, b: NameParts): number {
  const x = a.name;
  const y = b.name;
  if (x === y) return x.length > 0 ? 1 : 0;
  if (x.length === 0 || y.length === 0) return 0;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (short.length >= 8 && long.startsWith(short)) return 0.95;
  return Math.max(0.9 * wordOverlap(a.words, b.words), diceOf(a.trigrams, b.trigrams));
}

/**
 * A counterparty name as written, with its normal form and its words and trigrams worked out on
 * first use. Names repeat (a customer pays every month, a supplier bills every week), so each
 * spelling is normalised once per run, not once per record.
 */
export type CounterpartyName = { readonly raw: string | null; normal: string | null; parts: NameParts | null };

/** One CounterpartyName per distinct spelling in a run. */
export class NameBook {
  private readonly bySpelling = new Map<string, CounterpartyName>();
  private readonly none: CounterpartyName = { raw: null, normal: "", parts: null };

  of(raw: string | null | undefined): CounterpartyName {
    if (!raw) return this.none;
    let name = this.bySpelling.get(raw);
    if (!name) this.bySpelling.set(raw, (name = { raw, normal: null, parts: null }));
    return name;
  }
}

/** The name's normal form ("" when there is none), worked out on first use. */
export function normalOf(name: CounterpartyName): string {
  return (name.normal ??= normaliseCounterparty(name.raw));
}

/** The name's words and trigrams, worked out on first use. */
export function partsOf(name: CounterpartyName): NameParts {
  return (name.parts ??= nameParts(normalOf(name)));
}
