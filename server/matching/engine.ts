import { AppError, fieldErrorsOf } from "@/server/errors";
import { allowedDifference, formatUnits, parseTolerance, widerTolerance, type Tolerance } from "./amount-units";
import { AmountIndex, inWindow, KeyIndex, Interner, windowIndex, type WindowIndex } from "./candidates";
import { explainUnmatched, ReasonCache, type ReasonFacts } from "./explain";
import { counterpartyOf, isRejected, prepareSide, rejectedBySide, type Prepared } from "./prepare";
import { applyRules } from "./rules";
import { keyComponents, scoreGroup, subsetsSumming, sumUnits } from "./groups";
import { counterpartyBlock, NameBook } from "./normalise-counterparty";
import { matchSettingsSchema } from "./settings";
import { AMBIGUITY_MARGIN, BreakdownCache, confidenceOf, evidence, newScores, round4, scorePair, type Scores } from "./signals";
import type { MatchInput, MatchLevel, MatchResult, MatchSettings, Proposal } from "./types";

/**
 * The matching engine: passes from the most certain to the least, each on what the earlier ones
 * left free.
 *
 *   1. exact      a reference key held by exactly one free record on each side;
 *   2. declared   the lines of a payout (records sharing a groupKey) against one record;
 *   3. amount     the same amount and currency within the date window;
 *   4. key groups records tied by shared reference keys that add up (instalments, remittances);
 *   5. sum groups one record against a bounded subset of same-counterparty records that adds up
 *                 exactly, and small same-counterparty clusters whose totals agree (many-to-many);
 *   6. fuzzy      amounts within the fee/FX tolerance, names compared fuzzily. Last, because an
 *                 exact sum of several records explains a gap better than a fee does.
 *
 * Every pass scores candidates on the same named signals (signals.ts). A candidate that is not
 * clearly better than its rival — on either side — is proposed at most as a suggestion. The
 * passes walk records in canonical order (prepare.ts) and break every tie by it, so the result
 * does not depend on input order.
 */
export function matchRecords(input: MatchInput): MatchResult {
  const phases = new PhaseClock();
  const checked = matchSettingsSchema.safeParse(input.settings);
  if (!checked.success) throw new AppError("validation", "The match settings are not valid", fieldErrorsOf(checked.error));
  const settings = input.settings;
  const rules = input.rules ?? [];
  // One book of names for the whole run: a rule's counterparty condition and the passes after it
  // normalise each spelling once between them.
  const names = new NameBook();
  const l = applyRules(input.left, rules, "left", names);
  const r = applyRules(input.right, rules, "right", names);
  phases.lap("rules");
  const rejected = rejectedBySide(input.rejected);
  const interner = new Interner();
  const leftPrepared = prepareSide(l.remaining, "left", settings, l.tolerances, rejected.left, interner, names);
  const rightPrepared = prepareSide(r.remaining, "right", settings, r.tolerances, rejected.right, interner, names);
  phases.lap("prepare");
  const run = new Run(settings, leftPrepared, rightPrepared, interner.count, [...l.outcomes, ...r.outcomes]);
  phases.lap("indexes");
  run.exactKeys();
  phases.lap("exact");
  run.declaredGroups();
  phases.lap("declared");
  run.sameAmount();
  run.sameAmount();
  phases.lap("amount");
  run.keyGroups();
  phases.lap("keyGroups");
  run.sumGroups();
  phases.lap("sumGroups");
  run.fuzzy();
  phases.lap("fuzzy");
  const ruleOutcomes = [...l.outcomes, ...r.outcomes].sort((a, b) => (a.side < b.side ? -1 : a.side > b.side ? 1 : a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
  const unmatched = run.unmatched();
  phases.lap("explain");
  lastMatchPhases = phases.laps;
  return { proposals: run.proposals, unmatched, ruleOutcomes };
}

/**
 * Wall-clock milliseconds per phase of the last matchRecords call in this process, for the
 * benchmark's breakdown. Diagnostic only: nothing in the result depends on it.
 */
export let lastMatchPhases: Array<[phase: string, ms: number]> = [];

class PhaseClock {
  readonly laps: Array<[string, number]> = [];
  private last = performance.now();
  lap(name: string) {
    const now = performance.now();
    this.laps.push([name, now - this.last]);
    this.last = now;
  }
}

type PairCandidate = { l: Prepared; r: Prepared; z: number; scores: Scores };

class Run {
  readonly proposals: Proposal[] = [];
  private pass = 0;
  private readonly tolerance: Tolerance;
  /** Widest tolerance any record carries: the range a tolerance search must look in. */
  private readonly widest: Tolerance;
  private readonly window: number;
  /** Groups spread wider than pairs: instalments of one invoice arrive over a couple of weeks. */
  private readonly groupWindow: number;
  private readonly leftKeys: KeyIndex;
  private readonly rightKeys: KeyIndex;
  private readonly leftAmounts: AmountIndex;
  private readonly rightAmounts: AmountIndex;
  private readonly ruleOf = new Map<Prepared, string>();
  private readonly s = newScores();
  private readonly t = newScores();
  private readonly breakdowns: BreakdownCache;
  private readonly reasons = new ReasonCache();

  constructor(
    private readonly settings: MatchSettings,
    private readonly left: Prepared[],
    private readonly right: Prepared[],
    keyCount: number,
    outcomes: MatchResult["ruleOutcomes"],
  ) {
    this.tolerance = parseTolerance(settings.amountTolerance, "settings");
    this.breakdowns = new BreakdownCache(settings.weights);
    this.window = settings.dateWindowBusinessDays;
    this.groupWindow = Math.max(3 * this.window, 5);
    this.leftKeys = new KeyIndex(left, keyCount);
    this.rightKeys = new KeyIndex(right, keyCount);
    this.leftAmounts = new AmountIndex(left);
    this.rightAmounts = new AmountIndex(right);
    let widest = this.tolerance;
    for (const side of [left, right]) for (const p of side) if (p.tolerance) widest = widerTolerance(widest, p.tolerance);
    this.widest = widest;
    const toleranceRules = new Map<string, string>();
    for (const o of outcomes) if (o.action.type === "set_tolerance") toleranceRules.set(`${o.side}\u0000${o.recordId}`, o.ruleId);
    if (toleranceRules.size > 0) {
      for (const side of [left, right]) for (const p of side) if (p.tolerance) this.ruleOf.set(p, toleranceRules.get(`${p.side}\u0000${p.record.id}`)!);
    }
  }

  private get w() {
    return this.settings.weights;
  }

  private free(p: Prepared): boolean {
    return p.takenIn === 0;
  }

  /** Free, or taken in this very pass: still a rival whose presence makes a choice ambiguous. */
  private rival(p: Prepared): boolean {
    return p.takenIn === 0 || p.takenIn === this.pass;
  }

  private propose(left: Prepared[], right: Prepared[], level: MatchLevel, scores: Scores, z: number, facts: Omit<ReasonFacts, "level" | "scores" | "differenceUnits" | "currency" | "leftCount" | "rightCount">): boolean {
    const thresholds = this.settings.thresholds;
    let confidence = confidenceOf(z);
    if (confidence < thresholds.suggest) return false;
    // A tie is never decided by the engine: the confidence stays below auto, and the reason says why.
    if (facts.rivals > 0) confidence = Math.min(confidence, Math.max(thresholds.suggest, thresholds.auto - 0.01));
    confidence = round4(confidence);
    const differenceUnits = (right.length === 1 ? right[0].units : sumUnits(right)) - (left.length === 1 ? left[0].units : sumUnits(left));
    const currency = left[0].currency;
    let ruleId: string | null = null;
    if (this.ruleOf.size > 0) {
      for (const p of left) ruleId ??= this.ruleOf.get(p) ?? null;
      for (const p of right) ruleId ??= this.ruleOf.get(p) ?? null;
    }
    const index = this.proposals.length;
    for (const p of left) {
      p.takenIn = this.pass;
      p.proposal = index;
    }
    for (const p of right) {
      p.takenIn = this.pass;
      p.proposal = index;
    }
    this.proposals.push({
      left: idsOf(left),
      right: idsOf(right),
      confidence,
      decision: confidence >= thresholds.auto ? "auto" : "suggest",
      level,
      signals: this.breakdowns.get(scores),
      difference: differenceUnits === 0 ? "0" : formatUnits(differenceUnits),
      currency,
      ruleId,
      reason: this.reasons.reason({
        level,
        scores,
        key: facts.key,
        businessDays: facts.businessDays,
        differenceUnits,
        currency,
        leftCount: left.length,
        rightCount: right.length,
        groupKey: facts.groupKey,
        rivals: facts.rivals,
      }),
    });
    return true;
  }

  /** Pass 1: a key held by exactly one free record on each side, amounts within tolerance. */
  exactKeys(): void {
    this.pass++;
    const keyWindow = 3 * this.window;
    const best = newScores();
    for (const l of this.left) {
      if (!this.free(l) || l.keys.length === 0) continue;
      let chosen: Prepared | null = null;
      let chosenKey = "";
      let bestZ = -Infinity;
      let secondZ = -Infinity;
      for (let i = 0; i < l.keys.length; i++) {
        const k = l.keys[i];
        const id = l.keyIds[i];
        if (this.rightKeys.count(id) !== 1 || this.leftKeys.count(id) !== 1) continue;
        const r = this.rightKeys.first(id);
        if (!this.free(r) || r === chosen || isRejected(l, r) || Math.abs(l.bday - r.bday) > keyWindow) continue;
        if (!scorePair(l, r, this.tolerance, this.window, this.s) || this.s.reference < 1) continue;
        const z = evidence(this.s, this.w);
        if (z > bestZ) {
          secondZ = bestZ;
          bestZ = z;
          chosen = r;
          chosenKey = k.key;
          Object.assign(best, this.s);
        } else if (z > secondZ) secondZ = z;
      }
      if (!chosen) continue;
      // A record quoting several documents that each have their own free partner is a group
      // (a remittance), not a pair with a fee: the group pass decides it.
      if (best.amount < 1 && this.quotesOthers(l, chosen, this.rightKeys)) continue;
      // The right record may hold another key that points, just as uniquely, at another left record.
      let rivals = secondZ >= bestZ - AMBIGUITY_MARGIN ? 1 : 0;
      for (const id of chosen.keyIds) {
        if (this.leftKeys.count(id) !== 1) continue;
        const o = this.leftKeys.first(id);
        if (o !== l && this.free(o) && this.rightKeys.count(id) === 1) rivals++;
      }
      this.propose([l], [chosen], "exact", best, bestZ, { key: chosenKey, businessDays: Math.abs(l.bday - chosen.bday), rivals });
    }
  }

  /** Whether another of `p`'s keys points at a free record on the other side other than `partner`. */
  private quotesOthers(p: Prepared, partner: Prepared, otherKeys: KeyIndex): boolean {
    for (const id of p.keyIds) {
      for (let i = otherKeys.start[id]; i < otherKeys.start[id + 1]; i++) {
        const h = otherKeys.records[i];
        if (h !== partner && this.free(h)) return true;
      }
    }
    return false;
  }

  /** Pass 2: records a source declared to belong together (a payout's charges, refunds and fees) against one record. */
  declaredGroups(): void {
    this.pass++;
    for (const [side, other, otherAmounts] of [
      [this.right, this.left, this.leftAmounts],
      [this.left, this.right, this.rightAmounts],
    ] as const) {
      const groups = new Map<string, Prepared[]>();
      for (const p of side) {
        const g = p.record.groupKey;
        if (!g || !this.free(p)) continue;
        const list = groups.get(g);
        if (list) list.push(p);
        else groups.set(g, [p]);
      }
      for (const [groupKey, members] of groups) {
        if (members.length < 2) continue;
        const sum = sumUnits(members);
        let latest = members[0];
        for (const m of members) if (m.bday > latest.bday) latest = m;
        // Candidates: the exact sum, else anything within the tolerance of it.
        const candidates: Prepared[] = [];
        if (otherAmounts.find(members[0].currency, sum)) {
          for (let i = otherAmounts.lo; i < otherAmounts.hi; i++) if (this.free(otherAmounts.records[i])) candidates.push(otherAmounts.records[i]);
        }
        if (candidates.length === 0) candidates.push(...this.inRange(other, members[0].currency, sum, latest.bday));
        let chosen: Prepared | null = null;
        let bestZ = -Infinity;
        let secondZ = -Infinity;
        const best = newScores();
        for (const c of candidates) {
          if (!this.free(c) || Math.abs(c.bday - latest.bday) > this.window) continue;
          const [ls, rs] = side === this.left ? [members, [c]] : [[c], members];
          if (ls.some((a) => rs.some((b) => isRejected(a, b)))) continue;
          if (!scoreGroup(ls, rs, true, this.tolerance, this.groupWindow, this.s)) continue;
          const z = evidence(this.s, this.w);
          if (z > bestZ) {
            secondZ = bestZ;
            bestZ = z;
            chosen = c;
            Object.assign(best, this.s);
          } else if (z > secondZ) secondZ = z;
        }
        if (!chosen) continue;
        const [ls, rs] = side === this.left ? [members, [chosen]] : [[chosen], members];
        this.propose(ls, rs, "group", best, bestZ, { businessDays: Math.abs(chosen.bday - latest.bday), groupKey, rivals: secondZ >= bestZ - AMBIGUITY_MARGIN ? 1 : 0 });
      }
    }
  }

  /** Free records of `side` in `currency` whose amount is within the widest tolerance of `units`, near `bday`. */
  private inRange(side: Prepared[], currency: string, units: number, bday: number, index = side === this.left ? this.leftWindow() : this.rightWindow()): Prepared[] {
    const bound = Math.max(this.widest.absoluteUnits, 2 * allowedDifference({ absoluteUnits: 0, percentMillionths: this.widest.percentMillionths }, units, units));
    return inWindow(index, currency, units - bound, units + bound, bday, this.window, 50);
  }

  /** The records free when first asked for, by day and amount (inRange skips those taken since). */
  private leftWindowCache: WindowIndex | null = null;
  private rightWindowCache: WindowIndex | null = null;
  private leftWindow() {
    return (this.leftWindowCache ??= windowIndex(this.left.filter((p) => this.free(p))));
  }
  private rightWindow() {
    return (this.rightWindowCache ??= windowIndex(this.right.filter((p) => this.free(p))));
  }

  /**
   * Pass 3: the same amount and currency within the date window. The usual bucket holds one
   * record per side; where it holds more, the best pair is taken only if no rival on either side
   * comes close, and a clearly better free rival on the left keeps this one waiting (the pass runs
   * twice, so it gets another turn).
   */
  sameAmount(): void {
    if (this.pass < 3) this.pass = 3;
    const best = newScores();
    for (const l of this.left) {
      if (!this.free(l)) continue;
      const rightAmounts = this.rightAmounts;
      if (!rightAmounts.find(l.currency, l.units)) continue;
      const bucket = rightAmounts.records;
      const lo = rightAmounts.lo;
      const hi = rightAmounts.hi;
      let chosen: Prepared | null = null;
      let bestZ = -Infinity;
      for (let i = lo; i < hi; i++) {
        const r = bucket[i];
        if (!this.free(r) || Math.abs(l.bday - r.bday) > this.window || isRejected(l, r)) continue;
        if (!scorePair(l, r, this.tolerance, this.window, this.s)) continue;
        const z = evidence(this.s, this.w);
        if (z > bestZ) {
          bestZ = z;
          chosen = r;
          Object.assign(best, this.s);
        }
      }
      if (!chosen) continue;
      // Rivals on the right: other records of the bucket (free, or taken in this pass) nearly as good.
      let rivals = 0;
      for (let i = lo; i < hi; i++) {
        const r = bucket[i];
        if (r === chosen || !this.rival(r) || Math.abs(l.bday - r.bday) > this.window || isRejected(l, r)) continue;
        if (scorePair(l, r, this.tolerance, this.window, this.t) && evidence(this.t, this.w) >= bestZ - AMBIGUITY_MARGIN) rivals++;
      }
      const leftAmounts = this.leftAmounts;
      leftAmounts.find(l.currency, l.units);
      const lefts = leftAmounts.records;
      const leftsLo = leftAmounts.lo;
      const leftsHi = leftAmounts.hi;
      let waitForBetter = false;
      if (leftsHi - leftsLo > 1) {
        for (let i = leftsLo; i < leftsHi; i++) {
          const o = lefts[i];
          if (o === l || !this.rival(o) || Math.abs(o.bday - chosen.bday) > this.window || isRejected(o, chosen)) continue;
          if (!scorePair(o, chosen, this.tolerance, this.window, this.t)) continue;
          const z = evidence(this.t, this.w);
          if (z > bestZ + AMBIGUITY_MARGIN && this.free(o)) waitForBetter = true;
          else if (z >= bestZ - AMBIGUITY_MARGIN) rivals++;
        }
      }
      if (waitForBetter) continue;
      this.propose([l], [chosen], "amount_date", best, bestZ, { businessDays: Math.abs(l.bday - chosen.bday), rivals });
    }
  }

  /**
   * Pass 6: amounts within the tolerance (fees deducted, FX differences) in the date window,
   * names compared fuzzily. Candidate pairs are ranked by evidence and taken greedily; a pair
   * with a rival within the margin on either side is only suggested.
   */
  fuzzy(): void {
    this.pass = 6;
    this.rightWindowCache = null;
    const order = this.rightWindow();
    const pairs: PairCandidate[] = [];
    const perLeft = 8;
    for (const l of this.left) {
      if (!this.free(l)) continue;
      const found: PairCandidate[] = [];
      for (const r of this.inRange(this.right, l.currency, l.units, l.bday, order)) {
        if (isRejected(l, r) || !scorePair(l, r, this.tolerance, this.window, this.s)) continue;
        if (this.quotesOthers(l, r, this.rightKeys) || this.quotesOthers(r, l, this.leftKeys)) continue;
        found.push({ l, r, z: evidence(this.s, this.w), scores: { ...this.s } });
      }
      found.sort((a, b) => b.z - a.z || a.r.order - b.r.order);
      for (let i = 0; i < found.length && i < perLeft; i++) pairs.push(found[i]);
    }
    this.assignPairs(pairs, "fuzzy");
  }

  private assignPairs(pairs: PairCandidate[], level: MatchLevel): void {
    pairs.sort((a, b) => b.z - a.z || a.l.order - b.l.order || a.r.order - b.r.order);
    const byLeft = new Map<Prepared, PairCandidate[]>();
    const byRight = new Map<Prepared, PairCandidate[]>();
    for (const p of pairs) {
      (byLeft.get(p.l) ?? byLeft.set(p.l, []).get(p.l)!).push(p);
      (byRight.get(p.r) ?? byRight.set(p.r, []).get(p.r)!).push(p);
    }
    for (const p of pairs) {
      if (!this.free(p.l) || !this.free(p.r)) continue;
      let rivals = 0;
      for (const q of byLeft.get(p.l)!) if (q !== p && this.rival(q.r) && q.z >= p.z - AMBIGUITY_MARGIN) rivals++;
      for (const q of byRight.get(p.r)!) if (q !== p && this.rival(q.l) && q.z >= p.z - AMBIGUITY_MARGIN) rivals++;
      this.propose([p.l], [p.r], level, p.scores, p.z, { businessDays: Math.abs(p.l.bday - p.r.bday), rivals });
    }
  }

  /** Pass 4: free records tied by shared reference keys whose sums agree, or whose one record is a subset sum of the others. */
  keyGroups(): void {
    this.pass = 4;
    const max = this.settings.maxGroupSize;
    for (const c of keyComponents(this.left, this.right, this.leftKeys, this.rightKeys, max)) {
      let ls = c.left;
      let rs = c.right;
      if (ls.length > max || rs.length > max) continue;
      if (ls.some((a) => rs.some((b) => isRejected(a, b)))) continue;
      if (!scoreGroup(ls, rs, false, this.tolerance, this.groupWindow, this.s)) {
        // The sums disagree: one record may still be paid by a subset of the others.
        if (ls.length !== 1 && rs.length !== 1) continue;
        const [one, many] = ls.length === 1 ? [ls[0], rs] : [rs[0], ls];
        const found = this.subsetOf(one, many);
        if (!found || found.solutions.length !== 1) continue;
        const subset = found.solutions[0].map((i) => many[i]);
        [ls, rs] = one.side === "left" ? [[one], subset] : [subset, [one]];
        if (!scoreGroup(ls, rs, false, this.tolerance, this.groupWindow, this.s)) continue;
      }
      this.propose(ls, rs, "group", this.s, evidence(this.s, this.w), { businessDays: widestGap(ls, rs), rivals: 0 });
    }
  }

  /**
   * The `max` records of `block` (one counterparty's free records on the other side, in canonical
   * order) nearest to `one` in business days within the group window, then in canonical order,
   * that could be part of its amount: free, same direction, smaller, not rejected with it. Walks
   * outward from `one`'s day through the block sorted by day, so a large block (a frequent name
   * prefix) costs what is near, not its whole length.
   */
  private nearest(one: Prepared, block: Prepared[], max: number): Prepared[] {
    let byDay = this.blocksByDay.get(block);
    if (!byDay) {
      byDay = [...block].sort((a, b) => a.bday - b.bday || a.order - b.order);
      this.blocksByDay.set(block, byDay);
    }
    const out: Prepared[] = [];
    const level: Prepared[] = [];
    let lo = 0;
    let hi = byDay.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byDay[mid].bday < one.bday) lo = mid + 1;
      else hi = mid;
    }
    let down = lo - 1;
    let up = lo;
    const negative = one.units < 0;
    const size = Math.abs(one.units);
    while (out.length < max) {
      const dDown = down >= 0 ? one.bday - byDay[down].bday : Infinity;
      const dUp = up < byDay.length ? byDay[up].bday - one.bday : Infinity;
      const d = dDown < dUp ? dDown : dUp;
      if (d > this.groupWindow) break;
      level.length = 0;
      for (; down >= 0 && one.bday - byDay[down].bday === d; down--) level.push(byDay[down]);
      for (; up < byDay.length && byDay[up].bday - one.bday === d; up++) level.push(byDay[up]);
      level.sort((a, b) => a.order - b.order);
      for (const c of level) {
        if (out.length >= max) break;
        if (this.free(c) && (c.units < 0) === negative && Math.abs(c.units) < size && !(one.side === "left" ? isRejected(one, c) : isRejected(c, one))) out.push(c);
      }
    }
    return out;
  }

  private readonly blocksByDay = new Map<Prepared[], Prepared[]>();

  private subsetOf(one: Prepared, many: Prepared[]) {
    const values: number[] = [];
    for (const m of many) {
      if ((m.units < 0) !== (one.units < 0) || m.currency !== one.currency) return null;
      values.push(Math.abs(m.units));
    }
    return subsetsSumming(values, Math.abs(one.units), this.settings.maxGroupSize);
  }

  /**
   * Pass 5: one record against a subset of the other side's free records with the same
   * counterparty, in the group window, that adds up exactly (one-to-many and many-to-one); then
   * small same-counterparty clusters whose totals agree (many-to-many). Bounded: 16 candidates
   * per record, groups of at most maxGroupSize, 20,000 visits per search.
   */
  sumGroups(): void {
    this.pass = 5;
    const blocks = (side: Prepared[]) => {
      const map = new Map<string, Prepared[]>();
      for (const p of side) {
        if (!this.free(p)) continue;
        const cp = counterpartyOf(p);
        if (cp === "") continue;
        const key = `${p.currency}\u0000${counterpartyBlock(cp)}`;
        const list = map.get(key);
        if (list) list.push(p);
        else map.set(key, [p]);
      }
      return map;
    };
    const leftBlocks = blocks(this.left);
    const rightBlocks = blocks(this.right);
    for (const [side, otherBlocks] of [
      [this.left, rightBlocks],
      [this.right, leftBlocks],
    ] as const) {
      for (const one of side) {
        if (!this.free(one) || counterpartyOf(one) === "") continue;
        const block = otherBlocks.get(`${one.currency}\u0000${counterpartyBlock(counterpartyOf(one))}`);
        if (!block) continue;
        const near = this.nearest(one, block, 16);
        if (near.length < 2) continue;
        const found = this.subsetOf(one, near);
        if (!found || found.solutions.length === 0) continue;
        const subset = found.solutions[0].map((i) => near[i]);
        const [ls, rs] = one.side === "left" ? [[one], subset] : [subset, [one]];
        if (!scoreGroup(ls, rs, false, this.tolerance, this.groupWindow, this.s)) continue;
        this.propose(ls, rs, "group", this.s, evidence(this.s, this.w), { businessDays: widestGap(ls, rs), rivals: found.solutions.length > 1 || found.exhausted ? 1 : 0 });
      }
    }
    // Many-to-many: a counterparty's free records in one window on both sides, few enough to be one settlement.
    for (const [key, ls0] of leftBlocks) {
      const rs0 = rightBlocks.get(key);
      if (!rs0) continue;
      const ls = ls0.filter((p) => this.free(p));
      const rs = rs0.filter((p) => this.free(p));
      if (ls.length < 2 || rs.length < 2 || ls.length > this.settings.maxGroupSize || rs.length > this.settings.maxGroupSize) continue;
      if (ls.some((a) => rs.some((b) => isRejected(a, b)))) continue;
      if (sumUnits(ls) !== sumUnits(rs) || widestGap(ls, rs) > this.groupWindow) continue;
      if (!scoreGroup(ls, rs, false, this.tolerance, this.groupWindow, this.s)) continue;
      this.propose(ls, rs, "group", this.s, evidence(this.s, this.w), { businessDays: widestGap(ls, rs), rivals: 0 });
    }
  }

  unmatched() {
    const ctxFor = (otherAmounts: AmountIndex, otherKeys: KeyIndex) => ({
      weights: this.w,
      tolerance: this.tolerance,
      window: this.window,
      suggest: this.settings.thresholds.suggest,
      otherAmounts,
      otherKeys,
      takenBy: (p: Prepared) => {
        const proposal = this.proposals[p.proposal];
        return p.side === "left" ? proposal.right.join(", ") : proposal.left.join(", ");
      },
      breakdowns: this.breakdowns,
    });
    const out = [];
    const leftFree = this.left.filter((p) => this.free(p));
    const rightFree = this.right.filter((p) => this.free(p));
    if (leftFree.length > 0) {
      const ctx = ctxFor(this.rightAmounts, this.rightKeys);
      for (const p of leftFree) out.push(explainUnmatched(p, ctx));
    }
    if (rightFree.length > 0) {
      const ctx = ctxFor(this.leftAmounts, this.leftKeys);
      for (const p of rightFree) out.push(explainUnmatched(p, ctx));
    }
    return out;
  }
}

function idsOf(records: Prepared[]): string[] {
  const ids = new Array<string>(records.length);
  for (let i = 0; i < records.length; i++) ids[i] = records[i].record.id;
  return ids;
}

function widestGap(ls: Prepared[], rs: Prepared[]): number {
  let widest = 0;
  for (const a of ls) for (const b of rs) widest = Math.max(widest, Math.abs(a.bday - b.bday));
  return widest;
}

