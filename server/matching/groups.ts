import { allowedDifference, type Tolerance } from "./amount-units";
import type { KeyIndex } from "./candidates";
import { counterpartyOf, type Prepared } from "./prepare";
import { compareKeys } from "./normalise-reference";
import { amountScore, counterpartyScore, dateScore, groupSizeScore, referenceScore, type Scores } from "./signals";

/**
 * Groupings: several records on one side that together are one (or several) on the other. The
 * searches here are exponential in principle, so every one is bounded: by candidates considered,
 * by group size, and by a visit budget per search, and each gives up rather than run long.
 */

/**
 * Subsets of `values` (positive integers, in order of preference) of 2..maxSize members summing
 * exactly to `target`. Stops at `maxSolutions` (two are enough to know a choice is ambiguous) or
 * after `budget` visited nodes. Depth-first in preference order, so the first solution prefers
 * earlier (nearer) candidates; pruned by the sum so far and by what the remaining values can add.
 */
export function subsetsSumming(values: number[], target: number, maxSize: number, maxSolutions = 2, budget = 20_000): { solutions: number[][]; exhausted: boolean } {
  // Most searches have no answer (a record that no group of its neighbours adds up to). Proving
  // that in descending order is quick; only a search with an answer walks in preference order.
  // A search proven empty is not "exhausted", even where the walk below would have run out.
  if (someSubsetSums(values, target, maxSize, budget) === false) return { solutions: [], exhausted: false };
  const n = values.length;
  const remaining = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) remaining[i] = remaining[i + 1] + values[i];
  const solutions: number[][] = [];
  const chosen: number[] = [];
  let visits = 0;
  let exhausted = false;
  const walk = (from: number, sum: number): void => {
    for (let i = from; i < n; i++) {
      if (solutions.length >= maxSolutions) return;
      if (++visits > budget) {
        exhausted = true;
        return;
      }
      if (sum + remaining[i] < target) return;
      const next = sum + values[i];
      if (next > target) continue;
      chosen.push(i);
      if (next === target) {
        if (chosen.length >= 2) solutions.push([...chosen]);
      } else if (chosen.length < maxSize) walk(i + 1, next);
      chosen.pop();
      if (exhausted) return;
    }
  };
  walk(0, 0);
  return { solutions, exhausted };
}

/**
 * Whether 2..maxSize of `values` (positive) sum exactly to `target`; null when `budget` visits
 * were not enough to tell. Largest first, so a branch ends as soon as the largest picks it has left
 * fall short of the target, and equal values are tried once per position.
 */
export function someSubsetSums(values: number[], target: number, maxSize: number, budget: number): boolean | null {
  const sorted = Float64Array.from(values).sort().reverse();
  const n = sorted.length;
  // A zero can join a subset that already adds up; the walk below stops at the sum. Left to the full search.
  if (n > 0 && sorted[n - 1] <= 0) return null;
  // prefix[i] = the sum of the i largest values: the most any k picks from position i can add is prefix[i + k] − prefix[i].
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sorted[i];
  let visits = 0;
  const walk = (from: number, sum: number, picked: number): boolean | null => {
    const left = maxSize - picked;
    for (let i = from; i < n; i++) {
      if (++visits > budget) return null;
      if (sum + prefix[Math.min(n, i + left)] - prefix[i] < target) return false;
      if (i > from && sorted[i] === sorted[i - 1]) continue;
      const next = sum + sorted[i];
      if (next > target) continue;
      if (next === target) {
        if (picked + 1 >= 2) return true;
        continue;
      }
      if (left > 1) {
        const found = walk(i + 1, next, picked + 1);
        if (found !== false) return found;
      }
    }
    return false;
  };
  return n < 2 || maxSize < 2 ? false : walk(0, 0, 0);
}

/**
 * Free records tied together by shared reference keys, as connected components with records on
 * both sides: an invoice paid in instalments that each quote it, or one remittance quoting several
 * invoices. Keys held by more than `maxPerSide` free records on a side are too common to tie
 * anything ("ref:1") and are skipped.
 */
export function keyComponents(left: Prepared[], right: Prepared[], leftKeys: KeyIndex, rightKeys: KeyIndex, maxPerSide: number): Array<{ left: Prepared[]; right: Prepared[] }> {
  const parent = new Map<Prepared, Prepared>();
  const find = (p: Prepared): Prepared => {
    let root = p;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    parent.set(p, root);
    return root;
  };
  const union = (a: Prepared, b: Prepared) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    // The root is the earlier record (left before right, then canonical order): deterministic.
    if (rank(ra) < rank(rb)) parent.set(rb, ra);
    else parent.set(ra, rb);
  };
  const seenKeys = new Uint8Array(leftKeys.keyCount);
  for (const p of left) {
    if (p.takenIn !== 0) continue;
    for (const id of p.keyIds) {
      if (seenKeys[id] === 1) continue;
      seenKeys[id] = 1;
      const ls = leftKeys.free(id);
      const rs = rightKeys.free(id);
      if (rs.length === 0 || ls.length > maxPerSide || rs.length > maxPerSide) continue;
      for (const x of ls) union(ls[0], x);
      for (const x of rs) union(ls[0], x);
    }
  }
  const components = new Map<Prepared, { left: Prepared[]; right: Prepared[] }>();
  for (const side of [left, right]) {
    for (const p of side) {
      if (!parent.has(p)) continue;
      const root = find(p);
      let c = components.get(root);
      if (!c) components.set(root, (c = { left: [], right: [] }));
      (p.side === "left" ? c.left : c.right).push(p);
    }
  }
  return [...components.values()].filter((c) => c.left.length > 0 && c.right.length > 0 && c.left.length + c.right.length >= 3);
}

const rank = (p: Prepared) => (p.side === "left" ? p.order : 1e12 + p.order);

export const sumUnits = (records: Prepared[]) => {
  let s = 0;
  for (const p of records) s += p.units;
  return s;
};

/**
 * Signals of a group: amount from the two sums; date from the widest gap between a record on
 * one side and one on the other; reference from the share of the larger side's records that
 * share a key with the other side; counterparty from the least similar pair of names.
 */
export function scoreGroup(left: Prepared[], right: Prepared[], declared: boolean, tolerance: Tolerance, window: number, s: Scores): boolean {
  const currency = left[0].currency;
  for (const p of left) if (p.currency !== currency) return false;
  for (const p of right) if (p.currency !== currency) return false;
  const sl = sumUnits(left);
  const sr = sumUnits(right);
  if (sl === 0 || (sl < 0) !== (sr < 0)) return false;
  s.amount = amountScore(sr - sl, allowedDifference(tolerance, sl, sr));
  if (s.amount === 0) return false;
  let widest = 0;
  let cp = 1;
  let cpKnown = false;
  for (const a of left) {
    for (const b of right) {
      const bd = a.bday > b.bday ? a.bday - b.bday : b.bday - a.bday;
      if (bd > widest) widest = bd;
      if (counterpartyOf(a) !== "" && counterpartyOf(b) !== "") {
        const c = counterpartyScore(a, b);
        if (c < cp) cp = c;
        cpKnown = true;
      }
    }
  }
  s.date = dateScore(widest, window);
  s.counterparty = cpKnown ? cp : 0.5;
  const [many, one] = left.length >= right.length ? [left, right] : [right, left];
  let referenced = 0;
  for (const m of many) {
    for (const o of one) {
      if (compareKeys(m.keys, o.keys) === 1 || (declared && referenceScore(m, o) === 1)) {
        referenced++;
        break;
      }
    }
  }
  // A declared group (a payout) is referenced when the other side names its group key.
  if (declared && referenced === 0) for (const o of one) if (referenceScore(many[0], o) === 1) referenced = many.length;
  s.reference = referenced === many.length ? 1 : referenced > 0 ? 0.5 + (0.4 * referenced) / many.length : 0.5;
  s.currency = 1;
  s.description = 0.5;
  s.groupSize = groupSizeScore(left.length + right.length, declared);
  return true;
}
