import { allowedDifference, widerTolerance, type Tolerance } from "./amount-units";
import { counterpartyOf, descriptionOf, type Prepared } from "./prepare";
import { counterpartySimilarity } from "./normalise-counterparty";
import { compareKeys } from "./normalise-reference";
import { SIGNAL_NAMES, type SignalBreakdown, type SignalName, type SignalWeights } from "./types";

/**
 * Confidence as a logistic model: each signal scores agreement in [0, 1], 0.5 meaning "no
 * information" (a side has no reference, no counterparty). A signal's contribution is
 * weight × (2·score − 1), so missing information neither helps nor hurts, and the confidence is
 * σ(PRIOR_LOG_ODDS + Σ contributions). The prior says that a pair of records in the same window
 * is, before any evidence, unlikely to belong together. Because the model is logistic, learning
 * from accept/reject is a plain logistic-regression step on the same features (learning.ts).
 */
export const PRIOR_LOG_ODDS = -3;

/**
 * Two candidates whose evidence differs by less than this (in log-odds, i.e. less than a factor
 * e of likelihood) are a tie: the engine cannot tell them apart well enough to decide alone.
 */
export const AMBIGUITY_MARGIN = 1;

export type Scores = Record<SignalName, number>;

export const newScores = (): Scores => ({ amount: 0, date: 0, reference: 0.5, counterparty: 0.5, currency: 1, description: 0.5, groupSize: 1 });

export function evidence(s: Scores, w: SignalWeights): number {
  return (
    PRIOR_LOG_ODDS +
    w.amount * (2 * s.amount - 1) +
    w.date * (2 * s.date - 1) +
    w.reference * (2 * s.reference - 1) +
    w.counterparty * (2 * s.counterparty - 1) +
    w.currency * (2 * s.currency - 1) +
    w.description * (2 * s.description - 1) +
    w.groupSize * (2 * s.groupSize - 1)
  );
}

export const confidenceOf = (z: number): number => 1 / (1 + Math.exp(-z));

export function breakdownOf(s: Scores, w: SignalWeights): SignalBreakdown {
  const out = {} as SignalBreakdown;
  for (const name of SIGNAL_NAMES) {
    const score = round4(s[name]);
    out[name] = { score, weight: w[name], contribution: round4(w[name] * (2 * score - 1)) };
  }
  return out;
}

/** Scores are shown and stored; four decimals are plenty and keep the JSON readable. */
export const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Amount agreement: 1 when equal; within the tolerance from 0.9 (a cent off) down to 0.5 at the
 * edge, so a fee or FX difference is allowed but never counts as evidence by itself; 0 outside.
 */
export function amountScore(diff: number, allowed: number): number {
  if (diff === 0) return 1;
  const abs = diff < 0 ? -diff : diff;
  if (abs > allowed) return 0;
  return 0.5 + 0.4 * (1 - abs / allowed);
}

/** Date agreement: 1 on the expected day, 0.5 at the window's edge, 0 at twice the window. */
export function dateScore(businessDays: number, window: number): number {
  if (businessDays === 0) return 1;
  if (window === 0) return 0;
  const s = 1 - (0.5 * businessDays) / window;
  return s < 0 ? 0 : s;
}

/** Reference agreement: a shared key is 1; different numbers of the same document kind are 0; else no information. */
export function referenceScore(a: Prepared, b: Prepared): number {
  const c = compareKeys(a.keys, b.keys);
  if (c === null) {
    // A PSP payout's group key (the payout id) often appears in the bank deposit's reference.
    if (a.record.groupKey && b.keys.length > 0 && keysInclude(b, a.record.groupKey)) return 1;
    if (b.record.groupKey && a.keys.length > 0 && keysInclude(a, b.record.groupKey)) return 1;
    return 0.5;
  }
  return c;
}

function keysInclude(p: Prepared, groupKey: string): boolean {
  const want = "#" + groupKey.toLowerCase().replace(/[^a-z0-9\u0080-\uffff]/g, "");
  for (const k of p.keys) if (k.key === want) return true;
  return false;
}

/** Counterparty agreement from the normalised names; no information when either side has none. */
export function counterpartyScore(a: Prepared, b: Prepared): number {
  const ra = a.record.counterparty;
  const rb = b.record.counterparty;
  if (!ra || !rb) return 0.5;
  // Most pairs carry the same name up to case and punctuation: decided without normalising either.
  if (sameLetters(ra, rb)) return 1;
  const x = counterpartyOf(a);
  const y = counterpartyOf(b);
  if (x === "" || y === "") return 0.5;
  return counterpartySimilarity(x, y);
}

/** Equal ignoring case and anything but ASCII letters and digits; no allocation. */
export function sameLetters(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    let x = -1;
    while (i < a.length) {
      const c = a.charCodeAt(i++);
      if (c >= 97 && c <= 122) { x = c; break; }
      if (c >= 65 && c <= 90) { x = c + 32; break; }
      if (c >= 48 && c <= 57) { x = c; break; }
      if (c > 127) return false;
    }
    let y = -1;
    while (j < b.length) {
      const c = b.charCodeAt(j++);
      if (c >= 97 && c <= 122) { y = c; break; }
      if (c >= 65 && c <= 90) { y = c + 32; break; }
      if (c >= 48 && c <= 57) { y = c; break; }
      if (c > 127) return false;
    }
    if (x !== y) return false;
    if (x === -1) return true;
  }
}

/**
 * Description agreement, a weak signal: identical descriptions (1), or one side's counterparty
 * named in the other side's description (0.75, bank lines often carry the name only there).
 */
export function descriptionScore(a: Prepared, b: Prepared): number {
  const da = descriptionOf(a);
  const db = descriptionOf(b);
  if (da !== "" && da === db) return 1;
  const ca = counterpartyOf(a);
  const cb = counterpartyOf(b);
  if ((cb.length >= 4 && da.includes(cb)) || (ca.length >= 4 && db.includes(ca))) return 0.75;
  return 0.5;
}

/** Everything for a 1:1 pair (left, right) into `s`; returns false when the pair is not a candidate (currency, sign, tolerance). */
export function scorePair(l: Prepared, r: Prepared, tolerance: Tolerance, window: number, s: Scores): boolean {
  if (l.currency !== r.currency || (l.units < 0) !== (r.units < 0)) return false;
  const diff = r.units - l.units;
  s.amount = diff === 0 ? 1 : amountScore(diff, allowedDifference(pairTolerance(l, r, tolerance), l.units, r.units));
  if (s.amount === 0) return false;
  const bd = l.bday > r.bday ? l.bday - r.bday : r.bday - l.bday;
  s.date = dateScore(bd, window);
  s.reference = referenceScore(l, r);
  s.counterparty = counterpartyScore(l, r);
  s.currency = 1;
  s.description = descriptionScore(l, r);
  s.groupSize = 1;
  return true;
}

/** The tolerance for a pair: the settings', widened by a set_tolerance rule on either record. */
export function pairTolerance(l: Prepared, r: Prepared, base: Tolerance): Tolerance {
  if (l.tolerance === null && r.tolerance === null) return base;
  let t = base;
  if (l.tolerance) t = widerTolerance(t, l.tolerance);
  if (r.tolerance) t = widerTolerance(t, r.tolerance);
  return t;
}

/** Group size: 1 for a pair or a group its source declared (a payout's lines), else 1/(records − 1). */
export const groupSizeScore = (records: number, declared: boolean) => (declared || records <= 2 ? 1 : 1 / (records - 1));
