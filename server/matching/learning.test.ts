import { describe, expect, it } from "vitest";
import { matchRecords } from "./engine";
import { evaluate } from "./eval/evaluate";
import { generateSet, type LabelledSet } from "./eval/generate-set";
import { calibrateAutoThreshold, learnWeights, MIN_CALIBRATION_SAMPLE, type Feedback } from "./learning";
import { DEFAULT_MATCH_SETTINGS, WEIGHT_BOUNDS } from "./settings";
import { breakdownOf, confidenceOf, newScores, PRIOR_LOG_ODDS } from "./signals";
import { SIGNAL_NAMES, type MatchSettings } from "./types";

const key = (l: string[], r: string[]) => `${[...l].sort().join(",")}|${[...r].sort().join(",")}`;

/** What an accountant does with a run: accepts correct suggestions, rejects wrong ones, unmatches wrong autos; correct autos stand. */
function feedbackOn(set: LabelledSet, settings: MatchSettings): Feedback[] {
  const truths = new Set(set.truths.map((t) => key(t.left, t.right)));
  return matchRecords({ left: set.left, right: set.right, settings }).proposals.map((p) => ({
    decision: truths.has(key(p.left, p.right)) ? "accept" : p.decision === "auto" ? "unmatch" : "reject",
    signals: p.signals,
    confidence: p.confidence,
  }));
}

const feedbackWith = (decision: Feedback["decision"], scores: Partial<ReturnType<typeof newScores>>, weights = DEFAULT_MATCH_SETTINGS.weights): Feedback => {
  const signals = breakdownOf({ ...newScores(), amount: 1, date: 1, ...scores }, weights);
  return { decision, signals, confidence: confidenceOf(PRIOR_LOG_ODDS + SIGNAL_NAMES.reduce((z, n) => z + signals[n].contribution, 0)) };
};

describe("learning from accountants' decisions", () => {
  it("raises auto recall on a new set after feedback on another, keeping auto precision at 99.5 % or more", () => {
    const a = generateSet({ seed: 101, truths: 4000 });
    const b = generateSet({ seed: 202, truths: 4000 });
    const before = evaluate(b, matchRecords({ left: b.left, right: b.right, settings: DEFAULT_MATCH_SETTINGS }).proposals);
    const feedback = feedbackOn(a, DEFAULT_MATCH_SETTINGS);
    const learned = learnWeights(DEFAULT_MATCH_SETTINGS, feedback);
    const calibrated = calibrateAutoThreshold(learned.settings, feedback);
    const after = evaluate(b, matchRecords({ left: b.left, right: b.right, settings: calibrated.settings }).proposals);
    expect(calibrated.settings.thresholds.auto).toBeLessThan(DEFAULT_MATCH_SETTINGS.thresholds.auto);
    expect(after.auto.recall).toBeGreaterThan(before.auto.recall + 0.02);
    expect(after.auto.precision).toBeGreaterThanOrEqual(0.995);
    expect(after.all.recall).toBeGreaterThanOrEqual(before.all.recall - 0.005);
  });

  it("moves a weight toward the signal that separated accepted from rejected, and never outside its bounds", () => {
    // Rejected pairs had everything but the counterparty; accepted ones had it.
    const feedback: Feedback[] = [];
    for (let i = 0; i < 2000; i++) {
      feedback.push(feedbackWith("accept", { counterparty: 1 }));
      feedback.push(feedbackWith("reject", { counterparty: 0.1 }));
    }
    const { settings, why } = learnWeights(DEFAULT_MATCH_SETTINGS, feedback);
    expect(settings.weights.counterparty).toBeGreaterThan(DEFAULT_MATCH_SETTINGS.weights.counterparty);
    for (const n of SIGNAL_NAMES) {
      expect(settings.weights[n]).toBeGreaterThanOrEqual(WEIGHT_BOUNDS[n].min);
      expect(settings.weights[n]).toBeLessThanOrEqual(WEIGHT_BOUNDS[n].max);
    }
    expect(why).toContain("counterparty 2.5 →");
    // Overwhelming evidence against amounts still leaves the amount weight at its floor, not below.
    const against = Array.from({ length: 5000 }, () => feedbackWith("reject", { amount: 1, date: 1, reference: 1, counterparty: 1 }));
    expect(learnWeights(DEFAULT_MATCH_SETTINGS, against).settings.weights.amount).toBe(WEIGHT_BOUNDS.amount.min);
  });

  it("pulls weights back toward the defaults when decisions carry no information", () => {
    const start = { ...DEFAULT_MATCH_SETTINGS, weights: { ...DEFAULT_MATCH_SETTINGS.weights, description: 3 } };
    // Neutral signals (all 0.5): no gradient, only the pull toward the default.
    const neutral = Array.from({ length: 20_000 }, () => ({ decision: "accept" as const, signals: breakdownOf({ ...newScores(), amount: 0.5, date: 0.5, currency: 0.5, groupSize: 0.5 }, start.weights), confidence: 0.5 }));
    const { settings } = learnWeights(start, neutral);
    expect(settings.weights.description).toBeLessThan(3);
    expect(settings.weights.description).toBeGreaterThan(DEFAULT_MATCH_SETTINGS.weights.description);
  });
});

describe("auto threshold calibration", () => {
  it("keeps the threshold when the history is too small, and says so", () => {
    const few = Array.from({ length: MIN_CALIBRATION_SAMPLE - 1 }, () => feedbackWith("accept", { reference: 1 }));
    const r = calibrateAutoThreshold(DEFAULT_MATCH_SETTINGS, few);
    expect(r.settings.thresholds.auto).toBe(DEFAULT_MATCH_SETTINGS.thresholds.auto);
    expect(r.why).toMatch(/Only 199 usable decisions/);
  });

  it("picks the lowest threshold whose decisions are precise enough, never below suggest", () => {
    // 400 sure ones (reference + name), 400 name-only ones of which 1 in 10 was wrong.
    const history: Feedback[] = [];
    for (let i = 0; i < 400; i++) history.push(feedbackWith("accept", { reference: 1, counterparty: 1 }));
    for (let i = 0; i < 400; i++) history.push(feedbackWith(i % 10 === 0 ? "reject" : "accept", { counterparty: 1 }));
    const r = calibrateAutoThreshold(DEFAULT_MATCH_SETTINGS, history);
    const sure = feedbackWith("accept", { reference: 1, counterparty: 1 }).confidence;
    const nameOnly = feedbackWith("accept", { counterparty: 1 }).confidence;
    expect(r.settings.thresholds.auto).toBeGreaterThan(nameOnly);
    expect(r.settings.thresholds.auto).toBeLessThanOrEqual(sure);
    expect(r.precisionAtThreshold).toBe(1);
    // When everything is right, the threshold may fall, but only to the suggest threshold.
    const allRight = history.map((f) => ({ ...f, decision: "accept" as const }));
    const low = calibrateAutoThreshold({ ...DEFAULT_MATCH_SETTINGS, thresholds: { auto: 0.97, suggest: 0.99 } }, allRight);
    expect(low.settings.thresholds.auto).toBe(0.99);
  });

  it("leaves ties out: a capped confidence says nothing about the threshold", () => {
    const history = Array.from({ length: 300 }, () => ({ ...feedbackWith("reject", { counterparty: 1, reference: 1 }), confidence: 0.96 }));
    const r = calibrateAutoThreshold(DEFAULT_MATCH_SETTINGS, history);
    expect(r.why).toMatch(/Only 0 usable decisions/);
  });
});
