import type { Prepared } from "./prepare";

/**
 * The indexes candidates come from, each built once per run in one pass: by exact amount (per
 * currency), by reference key, and by amount order (per currency) for tolerance ranges. Keys are
 * numbers or already-normalised strings, so building and probing create no strings.
 */

export type AmountIndex = Map<string, Map<number, Prepared[]>>;

export function amountIndex(records: Prepared[]): AmountIndex {
  const byCurrency: AmountIndex = new Map();
  let lastCurrency = "";
  let current: Map<number, Prepared[]> | undefined;
  for (const p of records) {
    if (p.currency !== lastCurrency || current === undefined) {
      current = byCurrency.get(p.currency);
      if (!current) byCurrency.set(p.currency, (current = new Map()));
      lastCurrency = p.currency;
    }
    const bucket = current.get(p.units);
    if (bucket) bucket.push(p);
    else current.set(p.units, [p]);
  }
  return byCurrency;
}

/**
 * Reference keys as small integers: each distinct key string of a run is looked up once here, and
 * every later probe (exact pass, groups, explanations) is an array access by id.
 */
export function internKeys(sides: Prepared[][]): number {
  const ids = new Map<string, number>();
  for (const side of sides) {
    for (const p of side) {
      const n = p.keys.length;
      if (n === 0) continue;
      const keyIds = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const key = p.keys[i].key;
        let id = ids.get(key);
        if (id === undefined) ids.set(key, (id = ids.size));
        keyIds[i] = id;
      }
      p.keyIds = keyIds;
    }
  }
  return ids.size;
}

/** The records holding each key id (in canonical order), undefined where a side has none. */
export type KeyIndex = Array<Prepared[] | undefined>;

export function keyIndex(records: Prepared[], keyCount: number): KeyIndex {
  const index: KeyIndex = new Array(keyCount).fill(undefined);
  for (const p of records) {
    for (const id of p.keyIds) {
      const bucket = index[id];
      if (bucket) bucket.push(p);
      else index[id] = [p];
    }
  }
  return index;
}

/** Records of one currency in amount order, for "every amount within ±t" queries. */
export type AmountOrder = Map<string, Prepared[]>;

export function amountOrder(records: Prepared[]): AmountOrder {
  const byCurrency: AmountOrder = new Map();
  for (const p of records) {
    let list = byCurrency.get(p.currency);
    if (!list) byCurrency.set(p.currency, (list = []));
    list.push(p);
  }
  for (const list of byCurrency.values()) list.sort((a, b) => a.units - b.units || a.order - b.order);
  return byCurrency;
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
