import { allowedDifference, formatUnits, type Tolerance } from "./amount-units";
import type { AmountIndex, KeyIndex } from "./candidates";
import { isRejected, type Prepared } from "./prepare";
import { confidenceOf, evidence, newScores, scorePair, type BreakdownCache, type Scores } from "./signals";
import type { MatchLevel, NearMiss, SignalWeights, Unmatched } from "./types";

/** Explanations in words: why a proposal was made, and why an unmatched record found no partner. */

export type ReasonFacts = {
  level: MatchLevel;
  scores: Scores;
  /** The key both sides share, for exact matches. */
  key?: string;
  businessDays: number;
  differenceUnits: number;
  currency: string;
  leftCount: number;
  rightCount: number;
  groupKey?: string | null;
  /** Candidates nearly as likely as the chosen one. */
  rivals: number;
};

const days = (n: number) => (n === 0 ? "on the expected day" : n === 1 ? "1 business day apart" : `${n} business days apart`);

function names(s: Scores): string {
  if (s.counterparty >= 0.99) return "; same counterparty";
  if (s.counterparty >= 0.9) return "; counterparty names agree (one cut short)";
  if (s.counterparty > 0.5) return "; counterparty names are similar";
  if (s.counterparty < 0.5) return "; counterparty names differ";
  return "";
}

function amount(f: ReasonFacts): string {
  if (f.differenceUnits === 0) return "amounts are equal";
  return `amounts differ by ${formatUnits(f.differenceUnits)} ${f.currency}, within the tolerance for fees or FX`;
}

export function reasonFor(f: ReasonFacts): string {
  let text: string;
  switch (f.level) {
    case "exact":
      text = `Both name ${f.key ?? "the same reference"}; ${amount(f)}; ${days(f.businessDays)}${names(f.scores)}.`;
      break;
    case "amount_date":
      text = `Same amount and currency, ${days(f.businessDays)}${names(f.scores)}${f.scores.reference === 1 ? "; references agree" : ""}.`;
      break;
    case "fuzzy":
      text = `${capitalise(amount(f))}, ${days(f.businessDays)}${names(f.scores)}${f.scores.reference === 1 ? "; references agree" : ""}.`;
      break;
    default: {
      const shape = `${f.leftCount} left record${f.leftCount > 1 ? "s" : ""} against ${f.rightCount} right record${f.rightCount > 1 ? "s" : ""}`;
      const why = f.groupKey ? `the lines of ${f.groupKey} add up to the other side` : f.scores.reference === 1 ? "they quote the same references and add up" : "their amounts add up";
      text = `${shape}: ${why}; ${amount(f)}; at most ${days(f.businessDays).replace(" apart", "")} apart${names(f.scores)}.`;
    }
  }
  if (f.rivals > 0) text += ` ${f.rivals === 1 ? "Another candidate is" : `${f.rivals} other candidates are`} nearly as likely, so a person decides.`;
  return text;
}

const LEVELS: MatchLevel[] = ["exact", "amount_date", "fuzzy"];
const HOLE = "\u0001";

/**
 * reasonFor with the sentences of pairs remembered: most proposals of a run say one of a few
 * hundred things (same amount, n business days apart, same counterparty), so each is built once
 * per run; an exact match's text is the remembered one with its key put in.
 */
export class ReasonCache {
  private readonly texts = new Map<number, string[]>();

  reason(f: ReasonFacts): string {
    const level = LEVELS.indexOf(f.level);
    if (level < 0 || f.differenceUnits !== 0 || f.rivals > 20 || f.businessDays > 1000 || f.businessDays < 0) return reasonFor(f);
    const c = f.scores.counterparty;
    const names = c >= 0.99 ? 0 : c >= 0.9 ? 1 : c > 0.5 ? 2 : c < 0.5 ? 3 : 4;
    const key = (((level * 5 + names) * 2 + (f.scores.reference === 1 ? 1 : 0)) * 1001 + f.businessDays) * 21 + f.rivals;
    let parts = this.texts.get(key);
    if (!parts) {
      parts = (f.level === "exact" ? reasonFor({ ...f, key: HOLE }) : reasonFor(f)).split(HOLE);
      this.texts.set(key, parts);
    }
    return parts.length === 1 ? parts[0] : parts[0] + (f.key ?? "the same reference") + parts[1];
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export type ExplainContext = {
  weights: SignalWeights;
  tolerance: Tolerance;
  window: number;
  suggest: number;
  /** The other side's indexes over all its records (taken ones too: "taken" is an explanation). */
  otherAmounts: AmountIndex;
  otherKeys: KeyIndex;
  /** Ids of the records in each proposal, to say who took a candidate. */
  takenBy: (p: Prepared) => string;
  /** Shared breakdowns (the run's: near misses repeat the same few hundred score tuples). */
  breakdowns: BreakdownCache;
};

/** How many candidates an unmatched record's explanation looks at: enough for 3 good ones, bounded per record. */
const POOL_LIMIT = 6;

/**
 * Up to three nearest candidates for an unmatched record and the criteria each one failed. The
 * pool is what the engine itself would have looked at: the same amount on any date, the nearest
 * amounts in the same currency, and records sharing a reference key.
 */
export function explainUnmatched(p: Prepared, ctx: ExplainContext): Unmatched {
  // At most POOL_LIMIT records, in the order found (a Set's order), without a Set per record.
  const pool: Prepared[] = [];
  for (const id of p.keyIds) {
    const keys = ctx.otherKeys;
    for (let i = keys.start[id]; i < keys.start[id + 1] && pool.length < 2; i++) addOnce(pool, keys.records[i]);
  }
  const index = ctx.otherAmounts;
  const ordered = index.records;
  if (index.find(p.currency, p.units)) {
    // Nearest dates first: the run of one amount is in canonical (date) order.
    const lo = index.lo;
    const hi = index.hi;
    let best = lo;
    for (let i = lo + 1; i < hi; i++) if (Math.abs(ordered[i].bday - p.bday) < Math.abs(ordered[best].bday - p.bday)) best = i;
    for (let d = 0; d < hi - lo && pool.length < 4; d++) {
      if (best - d >= lo) addOnce(pool, ordered[best - d]);
      if (d > 0 && best + d < hi) addOnce(pool, ordered[best + d]);
    }
  }
  if (index.currency(p.currency)) {
    // The nearest amounts in the same currency, either side of where this one would be.
    const lo = index.lo;
    const hi = index.hi;
    const at = index.lowerBound(lo, hi, p.units);
    for (let d = 0; pool.length < POOL_LIMIT && (at - d - 1 >= lo || at + d < hi) && d < POOL_LIMIT; d++) {
      if (at + d < hi) addOnce(pool, ordered[at + d]);
      if (at - d - 1 >= lo) addOnce(pool, ordered[at - d - 1]);
    }
  }
  // Every candidate is ranked on numbers alone; only the three kept are put into words, from the
  // scores the ranking worked out.
  const n = pool.length;
  for (let i = 0; i < n; i++) {
    const c = pool[i];
    const [l, r] = p.side === "left" ? [p, c] : [c, p];
    rankScored[i] = scorePair(l, r, ctx.tolerance, ctx.window, rankScores[i]) ? 1 : 0;
    rankConfidence[i] = rankScored[i] ? roundedConfidence(rankScores[i], ctx.weights) : 0;
    rankOf[i] = i;
  }
  // Best first; among equals (often all 0: amounts too far apart), the nearest amount, then date.
  // Insertion sort: the pool holds at most POOL_LIMIT records.
  for (let i = 1; i < n; i++) {
    const k = rankOf[i];
    let j = i - 1;
    while (j >= 0 && nearer(pool, p, k, rankOf[j]) < 0) {
      rankOf[j + 1] = rankOf[j];
      j--;
    }
    rankOf[j + 1] = k;
  }
  const nearest: NearMiss[] = [];
  for (let i = 0; i < n && nearest.length < 3; i++) {
    const k = rankOf[i];
    const c = pool[k];
    if (c === p) continue;
    const scores = rankScored[k] ? rankScores[k] : null;
    nearest.push(p.side === "left" ? nearMiss(p, c, c, scores, ctx) : nearMiss(c, p, c, scores, ctx));
  }
  return { side: p.side, id: p.record.id, nearest };
}

/**
 * Per-candidate scores (and whether the pair was a candidate at all), confidence and positions
 * while one pool is ranked (module scratch: no arrays per record). The pool's loops add two at a
 * time, so it can pass POOL_LIMIT by one.
 */
const rankScores: Scores[] = Array.from({ length: POOL_LIMIT + 1 }, newScores);
const rankScored = new Uint8Array(POOL_LIMIT + 1);
const rankConfidence = new Float64Array(POOL_LIMIT + 1);
const rankOf = new Int32Array(POOL_LIMIT + 1);

/** Negative when pool[a] is nearer to `p` than pool[b]: confidence, then amount gap, then days, then canonical order. */
function nearer(pool: Prepared[], p: Prepared, a: number, b: number): number {
  const ca = pool[a];
  const cb = pool[b];
  return (
    rankConfidence[b] - rankConfidence[a] ||
    Math.abs(ca.units - p.units) - Math.abs(cb.units - p.units) ||
    Math.abs(ca.bday - p.bday) - Math.abs(cb.bday - p.bday) ||
    ca.order - cb.order
  );
}

const roundedConfidence = (s: Scores, w: SignalWeights) => Math.round(confidenceOf(evidence(s, w)) * 10_000) / 10_000;

function addOnce(pool: Prepared[], c: Prepared): void {
  for (let i = 0; i < pool.length; i++) if (pool[i] === c) return;
  pool.push(c);
}

/** The candidate in words; `s` are the pair's scores, null when scorePair refused the pair. */
function nearMiss(l: Prepared, r: Prepared, candidate: Prepared, s: Scores | null, ctx: ExplainContext): NearMiss {
  const failed: NearMiss["failed"] = [];
  const details: string[] = [];
  const bd = Math.abs(l.bday - r.bday);
  let confidence = 0;
  let signals: NearMiss["signals"];
  if (l.currency !== r.currency) {
    failed.push("currency");
    details.push(`currency ${r.currency} vs ${l.currency}`);
  } else if (s === null) {
    failed.push("amount");
    const allowed = allowedDifference(ctx.tolerance, l.units, r.units);
    details.push((l.units < 0) !== (r.units < 0) ? "opposite direction" : `amounts differ by ${formatUnits(Math.abs(r.units - l.units))} ${l.currency} (tolerance ${formatUnits(allowed)})`);
  } else {
    confidence = roundedConfidence(s, ctx.weights);
    // The breakdown a person reads beside the candidate: which signals agreed, which did not.
    signals = ctx.breakdowns.get(s);
    if (s.reference === 0) {
      failed.push("reference");
      details.push("references name different documents");
    }
    if (s.counterparty < 0.5) {
      failed.push("counterparty");
      details.push(`counterparty "${candidate.record.counterparty ?? ""}" differs`);
    }
  }
  if (bd > ctx.window) {
    failed.push("date");
    details.push(`${bd} business days apart (window ${ctx.window})`);
  }
  if (isRejected(l, r)) {
    failed.push("rejected");
    details.push("an accountant rejected this pair");
  }
  if (candidate.takenIn !== 0) {
    failed.push("taken");
    details.push(`already proposed with ${ctx.takenBy(candidate)}`);
  }
  if (failed.length === 0) {
    failed.push("below_threshold");
    details.push(`confidence ${confidence} is below the suggest threshold ${ctx.suggest}, or a rival was as likely`);
  }
  const miss: NearMiss = { id: candidate.record.id, confidence, failed, detail: details.join("; ") };
  if (signals) miss.signals = signals;
  return miss;
}
