/**
 * Quality of the matching engine on a labelled set (server/matching/eval): precision and recall
 * of auto decisions and of auto + suggest, overall and per kind, against a naive baseline.
 * `npm run eval:matching`; EVAL_TRUTHS and EVAL_SEED change the set.
 */
import { performance } from "node:perf_hooks";
import { matchRecords } from "@/server/matching/engine";
import { DEFAULT_MATCH_SETTINGS } from "@/server/matching/settings";
import { generateSet } from "@/server/matching/eval/generate-set";
import { evaluate, naiveBaseline, type Rates } from "@/server/matching/eval/evaluate";

const TRUTHS = Number(process.env.EVAL_TRUTHS ?? 8000);
const SEED = Number(process.env.EVAL_SEED ?? 20260401);

const pct = (x: number) => `${(100 * x).toFixed(2)}%`.padStart(8);
const cell = (r: Rates) => `${pct(r.precision)} ${pct(r.recall)}`;

const set = generateSet({ seed: SEED, truths: TRUTHS });
const t0 = performance.now();
const result = matchRecords({ left: set.left, right: set.right, settings: DEFAULT_MATCH_SETTINGS });
const engineMs = performance.now() - t0;
const engine = evaluate(set, result.proposals);
const baseline = evaluate(set, naiveBaseline(set.left, set.right));

console.log(`${set.truths.length} truths, ${set.left.length} left × ${set.right.length} right records, seed ${SEED}; engine ${engineMs.toFixed(0)} ms`);
console.log(`${"kind".padEnd(16)} ${"truths".padStart(6)} | ${"auto prec".padStart(8)} ${"auto rec".padStart(8)} | ${"+sugg prec".padStart(8)} ${"+sugg rec".padStart(8)} | ${"base prec".padStart(8)} ${"base rec".padStart(8)}`);
const kinds = [...new Set([...Object.keys(engine.perKind), ...Object.keys(baseline.perKind)])];
for (const kind of kinds) {
  const e = engine.perKind[kind];
  const b = baseline.perKind[kind];
  const none = { proposed: 0, correct: 0, truths: 0, precision: 1, recall: 1 };
  console.log(`${kind.padEnd(16)} ${String((e ?? b).all.truths).padStart(6)} | ${cell(e?.auto ?? none)} | ${cell(e?.all ?? none)} | ${cell(b?.auto ?? none)}`);
}
console.log(`${"overall".padEnd(16)} ${String(engine.all.truths).padStart(6)} | ${cell(engine.auto)} | ${cell(engine.all)} | ${cell(baseline.auto)}`);
console.log(`proposals: ${engine.auto.proposed} auto, ${engine.all.proposed - engine.auto.proposed} suggest; baseline ${baseline.auto.proposed}`);
console.log(
  `RESULT auto_precision=${engine.auto.precision.toFixed(4)} auto_recall=${engine.auto.recall.toFixed(4)} suggest_recall=${engine.all.recall.toFixed(4)} baseline_precision=${baseline.auto.precision.toFixed(4)} baseline_recall=${baseline.auto.recall.toFixed(4)}`,
);
