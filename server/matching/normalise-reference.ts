/**
 * Reference keys: the identifiers hidden in references, descriptions and external ids, reduced to
 * a form both sides agree on. "INV-2026-00123", "inv.123" and "Payment inv 2026 00123" all carry
 * the invoice key "inv:123" (the document class and its last number without leading zeros); the
 * two that carry the year also carry the full key "inv:2026-123", which tells two different
 * years' invoice 123 apart when both sides have it.
 *
 * A hand-written scan over char codes, no regular expressions: it runs on every record of a run.
 */

/** Words that introduce a document number, by the class its key carries. */
const DOCUMENT_WORDS: Record<string, string> = {
  inv: "inv", invoice: "inv", invoices: "inv", rechnung: "inv", rg: "inv", rgnr: "inv", bill: "inv", factura: "inv", facture: "inv", fattura: "inv", fact: "inv", ft: "inv", faktura: "inv",
  po: "po", order: "po", ord: "po", bestellung: "po",
  cn: "cn", gutschrift: "cn",
  ref: "ref", reference: "ref",
};
/** Filler between the document word and its number ("Invoice No. 123"). */
const FILLER = new Set(["no", "nr", "num", "number", "nummer"]);

export type ReferenceKey = {
  /** The comparable key, "inv:123" or "#ch3nx8ab12" for an opaque id: what the index is keyed by. */
  key: string;
  /** The whole number of a multi-part document key ("inv:2026-123"), else the same as key. */
  full: string;
};

/** The run the lexer last read: [runStart, runEnd) of kind runKind (module state, so scanning allocates nothing). */
let runStart = 0;
let runEnd = 0;
let runKind = 0;

/** Reads the next run of letters or of digits at or after `from`; false at the end of the text. */
function nextRun(text: string, from: number): boolean {
  const n = text.length;
  let i = from;
  while (i < n && charKind(text.charCodeAt(i)) === 0) i++;
  if (i >= n) return false;
  const kind = charKind(text.charCodeAt(i));
  runStart = i;
  while (i < n && charKind(text.charCodeAt(i)) === kind) i++;
  runEnd = i;
  runKind = kind;
  return true;
}

/** 0 = separator, 1 = letter, 2 = digit. Non-ASCII letters count as letters. */
function charKind(c: number): number {
  if (c >= 48 && c <= 57) return 2;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127) return 1;
  return 0;
}

function hasListSeparator(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 59) return true;
  }
  return false;
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return i === 0 ? s : s.slice(i);
}

/**
 * Adds the keys found in `text` to `out` (deduplicated by key). Document keys come from a document
 * word followed by up to three numbers; opaque ids from whitespace-separated chunks of at least six
 * letters and digits with a digit in them (PSP charge ids, bank transaction ids). A chunk that
 * looks like an amount ("1,234.56") or a date is not an id: it would tie unrelated records together.
 */
export function addReferenceKeys(text: string | null | undefined, out: ReferenceKey[]): void {
  if (!text) return;
  let pos = 0;
  while (nextRun(text, pos)) {
    pos = runEnd;
    // Document words are short; longer letter runs are never one.
    if (runKind !== 1 || runEnd - runStart > 10) continue;
    const cls = DOCUMENT_WORDS[text.slice(runStart, runEnd).toLowerCase()];
    if (cls === undefined) continue;
    let groups = "";
    let last = "";
    let count = 0;
    let after = pos;
    while (count < 3 && nextRun(text, after)) {
      // "Invoices 101, 102": a comma or semicolon starts the next number of a list, not a part of this one.
      if (count > 0 && hasListSeparator(text, after, runStart)) {
        pushDocument(out, cls, last, groups);
        groups = "";
        count = 0;
      }
      if (runKind === 1) {
        if (count === 0 && FILLER.has(text.slice(runStart, runEnd).toLowerCase())) {
          after = runEnd;
          continue;
        }
        break;
      }
      // "po_77xk2" is an id, not order 77: a document number ends where its chunk does.
      if (runEnd < text.length && charKind(text.charCodeAt(runEnd)) === 1) {
        count = 0;
        break;
      }
      last = stripZeros(text.slice(runStart, runEnd));
      groups = count === 0 ? last : `${groups}-${last}`;
      count++;
      after = runEnd;
    }
    if (count === 0) continue;
    pushDocument(out, cls, last, groups);
    pos = after;
  }
  addIdChunks(text, out);
}

function addIdChunks(text: string, out: ReferenceKey[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isChunkBreak(text.charCodeAt(i))) i++;
    const start = i;
    let alnum = 0;
    let hasDigit = false;
    let hasLetter = false;
    let hasDot = false;
    while (i < n && !isChunkBreak(text.charCodeAt(i))) {
      const k = charKind(text.charCodeAt(i));
      if (k !== 0) alnum++;
      if (k === 2) hasDigit = true;
      else if (k === 1) hasLetter = true;
      else if (text.charCodeAt(i) === 46 || text.charCodeAt(i) === 44) hasDot = true;
      i++;
    }
    if (alnum < 6 || !hasDigit) continue;
    // Pure numbers with a decimal point are amounts; pure 8-digit numbers starting 19/20 are dates.
    if (!hasLetter && (hasDot || (alnum === 8 && (text.startsWith("19", start) || text.startsWith("20", start))))) continue;
    // A document key already covers "INV-2026-00123" (a document word, then only numbers); "po_8x2k1" is an id.
    if (hasLetter && isDocumentChunk(text, start, i)) continue;
    let key = "#";
    for (let j = start; j < i; j++) {
      const c = text.charCodeAt(j);
      if (charKind(c) !== 0) key += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
    }
    push(out, key, key);
  }
}

function isChunkBreak(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 59 || c === 47 || c === 124;
}

function isDocumentChunk(text: string, start: number, end: number): boolean {
  let j = start;
  while (j < end && charKind(text.charCodeAt(j)) === 1) j++;
  if (DOCUMENT_WORDS[text.slice(start, j).toLowerCase()] === undefined) return false;
  for (; j < end; j++) if (charKind(text.charCodeAt(j)) === 1) return false;
  return true;
}

/** A document's key and full number; one string when the number has one part (most do). */
function pushDocument(out: ReferenceKey[], cls: string, last: string, groups: string): void {
  const key = `${cls}:${last}`;
  push(out, key, groups === last ? key : `${cls}:${groups}`);
}

function push(out: ReferenceKey[], key: string, full: string): void {
  for (const k of out) if (k.key === key) return;
  out.push({ key, full });
}

/** An external id as one opaque key, whatever its shape ("TX-9912" → "#tx9912"); null if it has fewer than 3 letters or digits. */
export function externalIdKey(externalId: string | null | undefined): ReferenceKey | null {
  if (!externalId) return null;
  let key = "#";
  for (let j = 0; j < externalId.length; j++) {
    const c = externalId.charCodeAt(j);
    if (charKind(c) !== 0) key += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return key.length >= 4 ? { key, full: key } : null;
}

/** All keys of a record: its external id, then what its reference and description name. */
export function referenceKeys(externalId: string | null | undefined, reference: string | null | undefined, description: string | null | undefined): ReferenceKey[] {
  const out = scratchKeys;
  out.length = 0;
  const ext = externalIdKey(externalId);
  if (ext) out.push(ext);
  addReferenceKeys(reference, out);
  addReferenceKeys(description, out);
  // A run keeps every record's keys: an array grown by push holds 17 slots for one key, a copy
  // holds exactly its keys (the benchmark's two million records, most with one or two keys, kept
  // 252 MB less).
  return out.length === 0 ? NO_KEYS : out.slice();
}

const scratchKeys: ReferenceKey[] = [];
const NO_KEYS: ReferenceKey[] = Object.freeze([]) as unknown as ReferenceKey[];

/**
 * How well two key lists agree: 1 when a key matches and, where both sides know the full
 * multi-part number, that agrees too; 0 when both sides name a document of the same class and no
 * number agrees (evidence against); null when there is nothing to compare.
 */
export function compareKeys(a: ReferenceKey[], b: ReferenceKey[]): number | null {
  if (a.length === 0 || b.length === 0) return null;
  let conflict = false;
  for (const x of a) {
    for (const y of b) {
      if (x.key === y.key) {
        if (x.full === y.full || x.full === x.key || y.full === y.key) return 1;
        conflict = true;
      } else if (x.key.charCodeAt(0) !== 35 && classOf(x.key) === classOf(y.key)) conflict = true;
    }
  }
  return conflict ? 0 : null;
}

function classOf(key: string): string {
  const colon = key.indexOf(":");
  return colon < 0 ? key : key.slice(0, colon);
}
