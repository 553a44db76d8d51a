import { DEFAULT_MATCH_SETTINGS, WEIGHT_BOUNDS } from "./settings";
import { PRIOR_LOG_ODDS, confidenceOf } from "./signals";
import { SIGNAL_NAMES, type MatchSettings, type SignalBreakdown, type SignalWeights } from "./types";

/**
 * Learning from accountants' decisions, as two pure steps a service can record and audit:
 * learnWeights moves signal weights (an online logistic-regression step per decision, since the
 * confidence is logistic in the signals), and calibrateAutoThreshold picks the auto threshold
 * the history supports. An auto match that stood (was not unmatched) counts as accepted.
 */
export type Feedback = { decision: "accept" | "reject" | "unmatch"; signals: SignalBreakdown; confidence: number };

/** Step size per decision, and the pull back toward the defaults per decision (L2 toward the defaults, not toward zero). */
const LEARNING_RATE = 0.05;
const REGULARISATION = 0.002;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function logOdds(signals: SignalBreakdown, weights: SignalWeights): number {
  let z = PRIOR_LOG_ODDS;
  for (const name of SIGNAL_NAMES) z += weights[name] * (2 * signals[name].score - 1);
  return z;
}

/**
 * One pass over the decisions in the order given (oldest first): for each, the gradient of the
 * log-likelihood, (accepted − predicted) × (2·score − 1) per signal, minus a pull toward the
 * default weight; every weight is kept within WEIGHT_BOUNDS after every step, so no run of
 * feedback can push a weight outside what an admin agreed to.
 */
export function learnWeights(settings: MatchSettings, feedback: Feedback[], defaults: MatchSettings = DEFAULT_MATCH_SETTINGS): { settings: MatchSettings; why: string } {
  const w: SignalWeights = { ...settings.weights };
  let accepted = 0;
  for (const f of feedback) {
    const y = f.decision === "accept" ? 1 : 0;
    accepted += y;
    const p = confidenceOf(logOdds(f.signals, w));
    for (const name of SIGNAL_NAMES) {
      const x = 2 * f.signals[name].score - 1;
      const next = w[name] + LEARNING_RATE * ((y - p) * x - REGULARISATION * (w[name] - defaults.weights[name]));
      w[name] = Math.min(WEIGHT_BOUNDS[name].max, Math.max(WEIGHT_BOUNDS[name].min, next));
    }
  }
  for (const name of SIGNAL_NAMES) w[name] = round3(w[name]);
  const changes = SIGNAL_NAMES.filter((n) => Math.abs(w[n] - settings.weights[n]) >= 0.001).map((n) => `${n} ${settings.weights[n]} → ${w[n]}`);
  const why =
    feedback.length === 0
      ? "No decisions to learn from; weights unchanged."
      : `Learned from ${feedback.length} decisions (${accepted} accepted, ${feedback.length - accepted} rejected or unmatched): ${changes.length > 0 ? changes.join(", ") : "no weight moved"}.`;
  return { settings: { ...settings, weights: w }, why };
}

/** Fewer decisions at or above a threshold than this cannot show a precision of 99.5 % (one error in 200). */
export const MIN_CALIBRATION_SAMPLE = 200;

/**
 * The lowest auto threshold at which the decisions in `history`, re-scored with the current
 * weights, are correct at least `targetPrecision` of the time, counting only thresholds with at
 * least MIN_CALIBRATION_SAMPLE decisions at or above them; never below the suggest threshold.
 * Proposals the engine marked as ties (their confidence was capped below auto) are left out: a
 * tie is never auto-matched whatever the threshold, so it says nothing about where it should be.
 */
export function calibrateAutoThreshold(settings: MatchSettings, history: Feedback[], targetPrecision = 0.995): { settings: MatchSettings; why: string; precisionAtThreshold: number | null } {
  const scored: Array<{ c: number; ok: boolean }> = [];
  for (const f of history) {
    let recorded = PRIOR_LOG_ODDS;
    for (const name of SIGNAL_NAMES) recorded += f.signals[name].contribution;
    if (f.confidence < confidenceOf(recorded) - 0.001) continue;
    scored.push({ c: confidenceOf(logOdds(f.signals, settings.weights)), ok: f.decision === "accept" });
  }
  scored.sort((a, b) => b.c - a.c);
  const current = settings.thresholds.auto;
  const precisionAt = (t: number) => {
    let n = 0;
    let ok = 0;
    for (const s of scored) {
      if (s.c < t) break;
      n++;
      if (s.ok) ok++;
    }
    return n === 0 ? null : ok / n;
  };
  if (scored.length < MIN_CALIBRATION_SAMPLE) {
    return { settings, why: `Only ${scored.length} usable decisions (need ${MIN_CALIBRATION_SAMPLE}); the auto threshold stays at ${current}.`, precisionAtThreshold: precisionAt(current) };
  }
  let best: number | null = null;
  let n = 0;
  let ok = 0;
  for (let i = 0; i < scored.length; i++) {
    n++;
    if (scored[i].ok) ok++;
    // A threshold takes every decision of equal confidence, so only the last of a run is a cut.
    if (i + 1 < scored.length && scored[i + 1].c === scored[i].c) continue;
    if (n >= MIN_CALIBRATION_SAMPLE && ok / n >= targetPrecision) best = scored[i].c;
  }
  if (best === null) {
    return { settings, why: `No threshold reaches ${(targetPrecision * 100).toFixed(1)} % precision on ${scored.length} decisions; the auto threshold stays at ${current}.`, precisionAtThreshold: precisionAt(current) };
  }
  // Rounded down to 4 decimals, so the chosen decision itself stays at or above the threshold.
  const threshold = Math.max(settings.thresholds.suggest, Math.floor(best * 10_000) / 10_000);
  const precision = precisionAt(threshold);
  return {
    settings: { ...settings, thresholds: { ...settings.thresholds, auto: threshold } },
    why: `Auto threshold ${current} → ${threshold}: ${precision === null ? "no decisions" : `${(precision * 100).toFixed(2)} % of ${scored.filter((s) => s.c >= threshold).length} decisions`} at or above it were correct (target ${(targetPrecision * 100).toFixed(1)} %).`,
    precisionAtThreshold: precision,
  };
}
