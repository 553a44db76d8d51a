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

export type KeyIndex = Map<string, Prepared[]>;

export function keyIndex(records: Prepared[]): KeyIndex {
  const index: KeyIndex = new Map();
  for (const p of records) {
    for (const k of p.keys) {
      const bucket = index.get(k.key);
      if (bucket) bucket.push(p);
      else index.set(k.key, [p]);
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
