/**
 * Canonical JSON dumps of matchRecords on generated evaluation sets (seeds 1..5 at ~2k truths, a
 * bench-shaped set, and a variant with rules and rejected pairs), for checking that a performance
 * change leaves the output byte-identical. `npx tsx scripts/dump-matching.ts OUT_DIR`; compare two
 * directories with `diff -r`. Also writes the CSVs the CLI check reads (OUT_DIR/csv).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { matchRecords } from "@/server/matching/engine";
import { generateSet } from "@/server/matching/eval/generate-set";
import { DEFAULT_MATCH_SETTINGS } from "@/server/matching/settings";
import type { MatchInput, MatchRecord } from "@/server/matching/types";
import { generateBenchRecords } from "../bench/matching.bench";

const out = process.argv[2] ?? "/tmp/matching-dump";
mkdirSync(join(out, "csv"), { recursive: true });

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));

function dump(name: string, input: MatchInput) {
  const result = matchRecords(input);
  const lines = [...result.proposals.map((p) => canonical(p)), ...result.unmatched.map((u) => canonical(u)), ...result.ruleOutcomes.map((o) => canonical(o))];
  writeFileSync(join(out, `${name}.jsonl`), lines.join("\n") + "\n");
  console.log(`${name}: ${result.proposals.length} proposals, ${result.unmatched.length} unmatched`);
}

const csvCell = (s: string | null | undefined) => (s == null ? "" : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
function csv(records: MatchRecord[]): string {
  return ["id,date,amount,currency,counterparty,reference,description", ...records.map((r) => [r.id, r.date, r.amount, r.currency, r.counterparty, r.reference, r.description].map(csvCell).join(","))].join("\n") + "\n";
}

for (let seed = 1; seed <= 5; seed++) {
  const set = generateSet({ seed, truths: 2000 });
  dump(`eval-seed${seed}`, { left: set.left, right: set.right, settings: DEFAULT_MATCH_SETTINGS });
  writeFileSync(join(out, "csv", `seed${seed}-left.csv`), csv(set.left));
  writeFileSync(join(out, "csv", `seed${seed}-right.csv`), csv(set.right));
}

// Rules, rejected pairs, per-source lag and a narrower window: the less travelled paths.
{
  const set = generateSet({ seed: 7, truths: 2000 });
  const rejected = set.truths.slice(0, 40).map((t) => ({ left: t.left[0], right: t.right[0] }));
  const left = set.left.map((r, i) => (i % 7 === 0 ? { ...r, sourceId: "bankB" } : r));
  dump("eval-seed7-rules", {
    left,
    right: set.right,
    settings: { ...DEFAULT_MATCH_SETTINGS, dateWindowBusinessDays: 3, lagDaysBySource: { bankB: 1 } },
    rejected,
    rules: [
      { id: "fees", name: "Bank fees", priority: 1, side: "left", conditions: [{ op: "contains", field: "description", value: "fee" }], action: { type: "ignore" }, enabled: true },
      { id: "tol", name: "Tolerance", priority: 2, side: "left", conditions: [{ op: "amount_range", min: "1000", absolute: true }, { op: "direction", value: "in" }], action: { type: "set_tolerance", absolute: "5", percent: "4" }, enabled: true },
    ],
  });
}

{
  const { left, right } = generateBenchRecords(20_000, 42);
  dump("bench-20k", { left, right, settings: DEFAULT_MATCH_SETTINGS });
}
