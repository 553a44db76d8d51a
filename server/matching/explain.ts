import { allowedDifference, formatUnits, type Tolerance } from "./amount-units";
import { lowerBound, type AmountIndex, type AmountOrder, type KeyIndex } from "./candidates";
import { isRejected, type Prepared } from "./prepare";
import { confidenceOf, evidence, newScores, scorePair, type Scores } from "./signals";
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

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export type ExplainContext = {
  weights: SignalWeights;
  tolerance: Tolerance;
  window: number;
  suggest: number;
  /** The other side's indexes over all its records (taken ones too: "taken" is an explanation). */
  otherAmounts: AmountIndex;
  otherOrder: AmountOrder;
  otherKeys: KeyIndex;
  /** Ids of the records in each proposal, to say who took a candidate. */
  takenBy: (p: Prepared) => string;
};

/** How many candidates an unmatched record's explanation looks at: enough for 3 good ones, bounded per record. */
const POOL_LIMIT = 6;

/**
 * Up to three nearest candidates for an unmatched record and the criteria each one failed. The
 * pool is what the engine itself would have looked at: the same amount on any date, the nearest
 * amounts in the same currency, and records sharing a reference key.
 */
export function explainUnmatched(p: Prepared, ctx: ExplainContext): Unmatched {
  const pool = new Set<Prepared>();
  for (const k of p.keys) {
    const holders = ctx.otherKeys.get(k.key);
    if (holders) for (let i = 0; i < holders.length && pool.size < 2; i++) pool.add(holders[i]);
  }
  const same = ctx.otherAmounts.get(p.currency)?.get(p.units);
  if (same) {
    // Nearest dates first: the bucket is in canonical (date) order.
    let best = 0;
    for (let i = 1; i < same.length; i++) if (Math.abs(same[i].bday - p.bday) < Math.abs(same[best].bday - p.bday)) best = i;
    for (let d = 0; d < same.length && pool.size < 4; d++) {
      if (best - d >= 0) pool.add(same[best - d]);
      if (d > 0 && best + d < same.length) pool.add(same[best + d]);
    }
  }
  const ordered = ctx.otherOrder.get(p.currency);
  if (ordered && ordered.length > 0) {
    const at = lowerBound(ordered, p.units);
    for (let d = 0; pool.size < POOL_LIMIT && (at - d - 1 >= 0 || at + d < ordered.length) && d < POOL_LIMIT; d++) {
      if (at + d < ordered.length) pool.add(ordered[at + d]);
      if (at - d - 1 >= 0) pool.add(ordered[at - d - 1]);
    }
  }
  const scored: Array<NearMiss & { gap: number; days: number; order: number }> = [];
  const s = newScores();
  for (const c of pool) {
    if (c === p) continue;
    const [l, r] = p.side === "left" ? [p, c] : [c, p];
    scored.push({ ...nearMiss(l, r, c, ctx, s), gap: Math.abs(c.units - p.units), days: Math.abs(c.bday - p.bday), order: c.order });
  }
  // Best first; among equals (often all 0: amounts too far apart), the nearest amount, then date.
  scored.sort((a, b) => b.confidence - a.confidence || a.gap - b.gap || a.days - b.days || a.order - b.order);
  return { side: p.side, id: p.record.id, nearest: scored.slice(0, 3).map(({ gap: _g, days: _d, order: _o, ...m }) => m) };
}

function nearMiss(l: Prepared, r: Prepared, candidate: Prepared, ctx: ExplainContext, s: Scores): NearMiss {
  const failed: NearMiss["failed"] = [];
  const details: string[] = [];
  const bd = Math.abs(l.bday - r.bday);
  let confidence = 0;
  if (l.currency !== r.currency) {
    failed.push("currency");
    details.push(`currency ${r.currency} vs ${l.currency}`);
  } else if (!scorePair(l, r, ctx.tolerance, ctx.window, s)) {
    failed.push("amount");
    const allowed = allowedDifference(ctx.tolerance, l.units, r.units);
    details.push((l.units < 0) !== (r.units < 0) ? "opposite direction" : `amounts differ by ${formatUnits(Math.abs(r.units - l.units))} ${l.currency} (tolerance ${formatUnits(allowed)})`);
  } else {
    confidence = Math.round(confidenceOf(evidence(s, ctx.weights)) * 10_000) / 10_000;
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
  return { id: candidate.record.id, confidence, failed, detail: details.join("; ") };
}
