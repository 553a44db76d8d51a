import { parseUnits } from "../amount-units";
import { parseDay } from "../business-days";
import type { MatchRecord, Proposal } from "../types";
import type { LabelledSet, LoneKind, TruthKind } from "./generate-set";

/**
 * Precision and recall of proposals against the truth. A proposal is correct only when its left
 * and right id sets are exactly a truth's: half a remittance is wrong, not partly right.
 * Precision: correct ÷ proposed. Recall: truths found ÷ truths. Measured for auto decisions alone
 * and for auto + suggest (what a person sees), overall and per kind (a wrong proposal counts
 * against the kind of the truth or lone record its first record belongs to).
 */

export type Rates = { proposed: number; correct: number; truths: number; precision: number; recall: number };
export type Evaluation = { auto: Rates; all: Rates; perKind: Record<string, { auto: Rates; all: Rates }> };

const setKey = (left: string[], right: string[]) => `${[...left].sort().join(",")}|${[...right].sort().join(",")}`;

function rates(proposed: number, correct: number, truths: number): Rates {
  return { proposed, correct, truths, precision: proposed === 0 ? 1 : correct / proposed, recall: truths === 0 ? 1 : correct / truths };
}

export function evaluate(set: LabelledSet, proposals: Array<Pick<Proposal, "left" | "right" | "decision">>): Evaluation {
  const truthKind = new Map<string, TruthKind>();
  const kindOfRecord = new Map<string, TruthKind | LoneKind>();
  for (const t of set.truths) {
    truthKind.set(setKey(t.left, t.right), t.kind);
    for (const id of t.left) kindOfRecord.set(`L:${id}`, t.kind);
    for (const id of t.right) kindOfRecord.set(`R:${id}`, t.kind);
  }
  for (const l of set.lone) kindOfRecord.set(`${l.side === "left" ? "L" : "R"}:${l.id}`, l.kind);
  const counts = new Map<string, { autoP: number; autoC: number; allP: number; allC: number; truths: number }>();
  const bucket = (kind: string) => counts.get(kind) ?? counts.set(kind, { autoP: 0, autoC: 0, allP: 0, allC: 0, truths: 0 }).get(kind)!;
  for (const t of set.truths) bucket(t.kind).truths++;
  for (const p of proposals) {
    const correctKind = truthKind.get(setKey(p.left, p.right));
    const kind = correctKind ?? kindOfRecord.get(p.left.length > 0 ? `L:${p.left[0]}` : `R:${p.right[0]}`) ?? "unknown";
    const b = bucket(kind);
    b.allP++;
    if (correctKind) b.allC++;
    if (p.decision === "auto") {
      b.autoP++;
      if (correctKind) b.autoC++;
    }
  }
  const total = { autoP: 0, autoC: 0, allP: 0, allC: 0, truths: 0 };
  const perKind: Evaluation["perKind"] = {};
  for (const [kind, c] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += c[k];
    perKind[kind] = { auto: rates(c.autoP, c.autoC, c.truths), all: rates(c.allP, c.allC, c.truths) };
  }
  return { auto: rates(total.autoP, total.autoC, total.truths), all: rates(total.allP, total.allC, total.truths), perKind };
}

/**
 * The naive baseline most tools start with: for each left record, the right records with exactly
 * the same amount and currency within ±5 calendar days; matched when there is exactly one and it
 * is not already taken. Everything it proposes counts as auto.
 */
export function naiveBaseline(left: MatchRecord[], right: MatchRecord[]): Array<Pick<Proposal, "left" | "right" | "decision">> {
  const byAmount = new Map<string, Array<{ r: MatchRecord; day: number }>>();
  for (const r of right) {
    const key = `${r.currency}|${parseUnits(r.amount)}`;
    const list = byAmount.get(key);
    const entry = { r, day: parseDay(r.date)! };
    if (list) list.push(entry);
    else byAmount.set(key, [entry]);
  }
  const taken = new Set<string>();
  const out: Array<Pick<Proposal, "left" | "right" | "decision">> = [];
  for (const l of left) {
    const day = parseDay(l.date)!;
    const candidates = (byAmount.get(`${l.currency}|${parseUnits(l.amount)}`) ?? []).filter((c) => Math.abs(c.day - day) <= 5 && !taken.has(c.r.id));
    if (candidates.length !== 1) continue;
    taken.add(candidates[0].r.id);
    out.push({ left: [l.id], right: [candidates[0].r.id], decision: "auto" });
  }
  return out;
}

