import type { ReferenceKey } from "./normalise-reference";
import type { Prepared } from "./prepare";

/**
 * The indexes candidates come from, each built once per run: by amount (per currency; exact
 * amounts and nearest amounts), by reference key, and by day and amount for tolerance ranges.
 * Keys are numbers or already-normalised strings, so building and probing create no strings.
 */

/**
 * Each value's rank among the distinct values (0 = smallest), and how many distinct values there
 * are: a typed-array sort (native, no comparator) and a binary search per value. Ranks let a
 * record's (day, amount, position) be packed into one exact number and sorted natively.
 */
export function valueRanks(values: Float64Array): { ranks: Int32Array; distinct: number } {
  const sorted = Float64Array.from(values).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i];
  const ranks = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let lo = 0;
    let hi = distinct;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    ranks[i] = lo;
  }
  return { ranks, distinct };
}

/**
 * Positions 0..n−1 ordered by `keyOf(i)` (a non-negative integer), ties by position: the keys
 * times n plus the position are sorted as one Float64Array. Null when keyBound × n would leave
 * the exact-integer range (the caller then sorts with a comparator).
 */
export function packedOrder(n: number, keyBound: number, keyOf: (i: number) => number): Int32Array | null {
  if (keyBound * n >= Number.MAX_SAFE_INTEGER) return null;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = keyOf(i) * n + i;
  packed.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = packed[i] % n;
  return order;
}

/**
 * One side's records by currency, then amount, then canonical order, with the amounts alongside
 * in a Float64Array: an exact amount is a binary search for its run, and "the nearest amounts"
 * are the neighbours of that position. One array for the whole side instead of a Map of small
 * arrays per amount. `find` and `currency` leave their range in `lo`/`hi`.
 */
export class AmountIndex {
  readonly records: Prepared[];
  readonly units: Float64Array;
  private readonly ranges = new Map<string, number>();
  private readonly bounds: number[] = [];
  lo = 0;
  hi = 0;

  /** `side` in canonical order (p.order === position), amount ranks set (prepare.ts). */
  constructor(side: Prepared[]) {
    const n = side.length;
    const currencyIds = new Map<string, number>();
    const currencyOf = new Int32Array(n);
    const units = new Float64Array(n);
    let distinct = 0;
    for (let i = 0; i < n; i++) {
      const p = side[i];
      let c = currencyIds.get(p.currency);
      if (c === undefined) currencyIds.set(p.currency, (c = currencyIds.size));
      currencyOf[i] = c;
      units[i] = p.units;
      if (p.amountRank >= distinct) distinct = p.amountRank + 1;
    }
    let order = packedOrder(n, currencyIds.size * distinct, (i) => currencyOf[i] * distinct + side[i].amountRank);
    if (order === null) {
      const perm = Array.from({ length: n }, (_, i) => i);
      perm.sort((a, b) => currencyOf[a] - currencyOf[b] || units[a] - units[b] || a - b);
      order = Int32Array.from(perm);
    }
    this.records = new Array<Prepared>(n);
    this.units = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      this.records[k] = side[i];
      this.units[k] = units[i];
      if (k === 0 || currencyOf[i] !== currencyOf[order[k - 1]]) {
        this.ranges.set(side[i].currency, this.bounds.length);
        this.bounds.push(k, n);
        if (k > 0) this.bounds[this.bounds.length - 3] = k;
      }
    }
  }

  /** The records of `currency`: [lo, hi); false when there are none. */
  currency(currency: string): boolean {
    const at = this.ranges.get(currency);
    if (at === undefined) return false;
    this.lo = this.bounds[at];
    this.hi = this.bounds[at + 1];
    return true;
  }

  /** The records of `currency` with exactly `units`, in canonical order: [lo, hi); false when there are none. */
  find(currency: string, units: number): boolean {
    if (!this.currency(currency)) return false;
    const from = this.lowerBound(this.lo, this.hi, units);
    let to = from;
    while (to < this.hi && this.units[to] === units) to++;
    this.lo = from;
    this.hi = to;
    return to > from;
  }

  /** First position in [lo, hi) with amount ≥ `units`. */
  lowerBound(lo: number, hi: number, units: number): number {
    const u = this.units;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u[mid] < units) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Strings as small integers, numbered in order of first sight. A run's reference keys: each
 * distinct key is looked up once, while its record is prepared (the string was just made, so it
 * is still in cache), and every later probe (exact pass, groups, explanations) is an array access
 * by id. A side's record ids: an id seen before gets an old number. An open-addressing table over
 * typed arrays (FNV-1a of the char codes, linear probing), not a Map or Set: a run has about one
 * distinct key per record, and a million ids took 0.4–0.6 s in a Set, 0.14–0.19 s here.
 */
export class Interner {
  private table = new Int32Array(1024); // id + 1, 0 = empty
  private hashes = new Int32Array(512);
  private readonly strings: string[] = [];

  get count(): number {
    return this.strings.length;
  }

  idsOf(keys: ReferenceKey[]): number[] {
    const ids = new Array<number>(keys.length);
    for (let i = 0; i < keys.length; i++) ids[i] = this.idOf(keys[i].key);
    return ids;
  }

  idOf(key: string): number {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < key.length; j++) h = Math.imul(h ^ key.charCodeAt(j), 16777619);
    const table = this.table;
    const mask = table.length - 1;
    let slot = h & mask;
    for (;;) {
      const e = table[slot];
      if (e === 0) break;
      if (this.hashes[e - 1] === h && this.strings[e - 1] === key) return e - 1;
      slot = (slot + 1) & mask;
    }
    const id = this.strings.length;
    this.strings.push(key);
    if (id >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[id] = h;
    table[slot] = id + 1;
    if (2 * this.strings.length > table.length) this.grow();
    return id;
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.strings.length; id++) {
      let slot = this.hashes[id] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
  }
}

/**
 * The records holding each key id, in canonical order: the holders of id are
 * records[start[id]] .. records[start[id + 1] − 1]. One flat array per side, not an array per key.
 */
export class KeyIndex {
  readonly start: Int32Array;
  readonly records: Prepared[];

  constructor(side: Prepared[], readonly keyCount: number) {
    const start = new Int32Array(keyCount + 1);
    let total = 0;
    for (const p of side) for (const id of p.keyIds) start[id + 1]++;
    for (let id = 0; id < keyCount; id++) start[id + 1] += start[id];
    total = start[keyCount];
    const fill = start.slice(0, keyCount);
    const records = new Array<Prepared>(total);
    for (const p of side) for (const id of p.keyIds) records[fill[id]++] = p;
    this.start = start;
    this.records = records;
  }

  /** How many records of the side hold key `id`. */
  count(id: number): number {
    return this.start[id + 1] - this.start[id];
  }

  /** The first (in canonical order) record holding key `id`; only where count(id) > 0. */
  first(id: number): Prepared {
    return this.records[this.start[id]];
  }

  /** The free records holding key `id`. */
  free(id: number): Prepared[] {
    const out: Prepared[] = [];
    for (let i = this.start[id]; i < this.start[id + 1]; i++) if (this.records[i].takenIn === 0) out.push(this.records[i]);
    return out;
  }
}

/** Index of the first record with units ≥ `units`. */
export function lowerBound(list: Prepared[], units: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].units < units) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Records of one currency by business day, each day's list in amount order: the candidates
 * within ±t of an amount and ±w business days of a day come from 2w + 1 binary searches and a
 * merge, instead of a walk over every record in the amount range on any date (which grows with
 * the size of the books).
 */
export type WindowIndex = Map<string, Map<number, Prepared[]>>;

export function windowIndex(records: Prepared[]): WindowIndex {
  const index: WindowIndex = new Map();
  for (const p of records) {
    let days = index.get(p.currency);
    if (!days) index.set(p.currency, (days = new Map()));
    const list = days.get(p.bday);
    if (list) list.push(p);
    else days.set(p.bday, [p]);
  }
  for (const days of index.values()) for (const list of days.values()) list.sort(byUnitsThenOrder);
  return index;
}

const byUnitsThenOrder = (a: Prepared, b: Prepared) => a.units - b.units || a.order - b.order;

const cursorLists: Prepared[][] = [];
const cursorAt: number[] = [];

/**
 * Free records of the index with units in [low, high] and a business day within `window` of
 * `bday`, in amount order (then canonical order), at most `max`: exactly the records a walk in
 * amount order over all days would have found first.
 */
export function inWindow(index: WindowIndex, currency: string, low: number, high: number, bday: number, window: number, max: number): Prepared[] {
  const out: Prepared[] = [];
  const days = index.get(currency);
  if (!days) return out;
  let n = 0;
  for (let d = bday - window; d <= bday + window; d++) {
    const list = days.get(d);
    if (!list) continue;
    const at = lowerBound(list, low);
    if (at < list.length && list[at].units <= high) {
      cursorLists[n] = list;
      cursorAt[n] = at;
      n++;
    }
  }
  while (n > 0 && out.length < max) {
    let best = 0;
    for (let k = 1; k < n; k++) {
      const a = cursorLists[k][cursorAt[k]];
      const b = cursorLists[best][cursorAt[best]];
      if (a.units < b.units || (a.units === b.units && a.order < b.order)) best = k;
    }
    const list = cursorLists[best];
    const c = list[cursorAt[best]++];
    if (c.takenIn === 0) out.push(c);
    if (cursorAt[best] >= list.length || list[cursorAt[best]].units > high) {
      n--;
      cursorLists[best] = cursorLists[n];
      cursorAt[best] = cursorAt[n];
    }
  }
  for (let k = 0; k < n; k++) cursorLists[k] = cursorLists[n]; // drop references
  return out;
}
