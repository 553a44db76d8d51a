/**
 * Matching speed against a floor: 1,000,000 left × 1,000,000 right records in memory. REFERENCE is
 * a plain exact hash join on amount + currency (amounts parsed into the same integer units, one
 * Map per currency, every pair emitted); OURS is matchRecords with every pass, signal, reason and
 * unmatched explanation. Same process, same data, generation not timed. `npm run bench:matching`;
 * BENCH_RECORDS shrinks it.
 */
import { performance } from "node:perf_hooks";
import { prng } from "@/server/prng";
import { formatUnits, parseUnits } from "@/server/matching/amount-units";
import { formatDay, parseDay, weekday } from "@/server/matching/business-days";
import { matchRecords } from "@/server/matching/engine";
import { DEFAULT_MATCH_SETTINGS } from "@/server/matching/settings";
import type { MatchRecord } from "@/server/matching/types";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);

const NAMES = ["Acme Trading GmbH", "Globex Ltd", "Initech Inc", "Umbrella Corp", "Stark Industries AG", "Wayne Enterprises LLC", "Hooli BV", "Vandelay Industries SA", "Soylent plc", "Tyrell Systems GmbH"];

/**
 * A month of a large business: about 70 % of pairs quote the invoice, 15 % agree on amount, date
 * and name only, 3 % arrive short of a fee under a bank-truncated name, 2 % of bank lines pay
 * two or three invoices at once, and about 10 % of each side has no partner. Shared with the
 * database benchmark (bench/matching-db.bench.ts).
 */
export function generateBenchRecords(n: number, seed: number): { left: MatchRecord[]; right: MatchRecord[] } {
  const rand = prng(seed);
  const start = parseDay("2026-01-05")!;
  const left: MatchRecord[] = [];
  const right: MatchRecord[] = [];
  const names = Array.from({ length: 5000 }, (_, i) => `${NAMES[i % NAMES.length].split(" ")[0]} ${i} ${NAMES[i % NAMES.length].split(" ").slice(1).join(" ")}`);
  let invoice = 0;
  while (left.length < n || right.length < n) {
    const u = (Math.floor(rand() * 2_000_000) + 1) * 100 * (rand() < 0.8 ? 1 : -1);
    let day = start + Math.floor(rand() * 360);
    if (weekday(day) >= 5) day += 7 - weekday(day);
    const bankDay = formatDay(day + Math.floor(rand() * 3));
    const name = names[Math.floor(rand() * names.length)];
    const inv = ++invoice;
    const ref = `INV-2026-${inv}`;
    const x = rand();
    if (x < 0.7) {
      right.push({ id: `R${right.length}`, date: formatDay(day), amount: formatUnits(u), currency: "EUR", counterparty: name, reference: ref });
      left.push({ id: `L${left.length}`, date: bankDay, amount: formatUnits(u), currency: "EUR", counterparty: name.toUpperCase(), reference: `Payment inv ${inv}` });
    } else if (x < 0.85) {
      right.push({ id: `R${right.length}`, date: formatDay(day), amount: formatUnits(u), currency: "EUR", counterparty: name, reference: ref });
      left.push({ id: `L${left.length}`, date: bankDay, amount: formatUnits(u), currency: "EUR", counterparty: name.toUpperCase(), reference: null });
    } else if (x < 0.88) {
      const fee = 2500 + Math.floor(rand() * 50) * 100;
      right.push({ id: `R${right.length}`, date: formatDay(day), amount: formatUnits(Math.abs(u) + 1_000_000), currency: "EUR", counterparty: name, reference: ref });
      left.push({ id: `L${left.length}`, date: bankDay, amount: formatUnits(Math.abs(u) + 1_000_000 - fee), currency: "EUR", counterparty: name.toUpperCase().slice(0, 16), reference: null });
    } else if (x < 0.9) {
      const parts = 2 + Math.floor(rand() * 2);
      let total = 0;
      const refs: string[] = [];
      for (let i = 0; i < parts; i++) {
        const p = (Math.floor(rand() * 500_000) + 1000) * 100;
        total += p;
        const k = i === 0 ? inv : ++invoice;
        refs.push(String(k));
        right.push({ id: `R${right.length}`, date: formatDay(day), amount: formatUnits(p), currency: "EUR", counterparty: name, reference: `INV-2026-${k}` });
      }
      left.push({ id: `L${left.length}`, date: bankDay, amount: formatUnits(total), currency: "EUR", counterparty: name.toUpperCase(), reference: `Invoices ${refs.join(", ")}` });
    } else if (x < 0.95) {
      left.push({ id: `L${left.length}`, date: bankDay, amount: formatUnits(-(Math.floor(rand() * 5000) + 100) * 100), currency: "EUR", counterparty: null, reference: null, description: "BANK CHARGES" });
    } else {
      right.push({ id: `R${right.length}`, date: formatDay(day), amount: formatUnits(u), currency: "EUR", counterparty: name, reference: ref });
    }
  }
  return { left: left.slice(0, n), right: right.slice(0, n) };
}

/** The floor: every pair with equal amount and currency, from one Map of integer units per currency. */
function referenceJoin(left: MatchRecord[], right: MatchRecord[]): number {
  const byCurrency = new Map<string, Map<number, number[]>>();
  for (let j = 0; j < right.length; j++) {
    const r = right[j];
    let m = byCurrency.get(r.currency);
    if (!m) byCurrency.set(r.currency, (m = new Map()));
    const u = parseUnits(r.amount)!;
    const bucket = m.get(u);
    if (bucket) bucket.push(j);
    else m.set(u, [j]);
  }
  const pairs: number[] = [];
  for (let i = 0; i < left.length; i++) {
    const l = left[i];
    const bucket = byCurrency.get(l.currency)?.get(parseUnits(l.amount)!);
    if (bucket) for (const j of bucket) pairs.push(i, j);
  }
  return pairs.length / 2;
}

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

function main() {
  const g0 = performance.now();
  const { left, right } = generateBenchRecords(RECORDS, 42);
  console.log(`${left.length} left × ${right.length} right records generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (not timed)`);
  const sampler = setInterval(sample, 50);
  sample();

  const r0 = performance.now();
  const refPairs = referenceJoin(left, right);
  const refMs = performance.now() - r0;
  sample();
  console.log(`REFERENCE exact hash join on amount + currency: ${(refMs / 1000).toFixed(2)} s, ${refPairs} pairs`);

  // The sampler's timer cannot fire while matchRecords runs (one thread); RSS is sampled around it
  // and a V8 heap statistic after it.
  const e0 = performance.now();
  const result = matchRecords({ left, right, settings: DEFAULT_MATCH_SETTINGS });
  const engineMs = performance.now() - e0;
  sample();
  clearInterval(sampler);
  const auto = result.proposals.filter((p) => p.decision === "auto").length;
  const byLevel: Record<string, number> = {};
  for (const p of result.proposals) byLevel[p.level] = (byLevel[p.level] ?? 0) + 1;
  const lines = left.length + right.length;
  const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
  console.log(`OURS matchRecords: ${(engineMs / 1000).toFixed(2)} s, ${result.proposals.length} proposals (${auto} auto; ${Object.entries(byLevel).map(([k, v]) => `${k} ${v}`).join(", ")}), ${result.unmatched.length} unmatched explained`);
  console.log(`${Math.round((lines / engineMs) * 1000)} lines/s; peak RSS ${Math.round(peakRss / 1e6)} MB, heap after ${heapMb} MB`);
  console.log(`RESULT engine_s=${(engineMs / 1000).toFixed(2)} ref_s=${(refMs / 1000).toFixed(2)} lines_per_s=${Math.round((lines / engineMs) * 1000)} peak_rss_mb=${Math.round(peakRss / 1e6)} ratio=${(engineMs / refMs).toFixed(2)}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) main();
