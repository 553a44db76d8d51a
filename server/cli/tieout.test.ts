import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./tieout";

const fixture = (p: string) => path.resolve(import.meta.dirname, "../../test/fixtures/statements", p);

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

describe("npx tieout parse", () => {
  it("prints one statement line per statement, then one record line per transaction", async () => {
    const { code, out } = await run(["parse", fixture("mt940/fruitl00p_ing.sta")]);
    expect(code).toBe(0);
    const lines = out.map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: "statement", format: "mt940", currency: "EUR", opening: "0.00", closing: "3.47", movements: "7.15", lines: 7, balanced: false });
    expect(lines.slice(1)).toHaveLength(7);
    expect(lines.slice(1).every((l) => l.kind === "record" && typeof l.amount === "string")).toBe(true);
  });

  it("honours --format and reads CAMT.053 with balances that add up", async () => {
    const { code, out } = await run(["parse", fixture("camt/genkgo_camt053.v2.minimal.xml"), "--format", "camt"]);
    expect(code).toBe(0);
    const statement = JSON.parse(out[0]);
    expect(statement).toMatchObject({ kind: "statement", format: "camt053" });
  });

  it("exits 1 with the typed error on stderr for a bad file, and 2 for bad usage", async () => {
    const bad = await run(["parse", fixture("mt940/fruitl00p_ing.sta"), "--format", "camt"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.err[0])).toMatchObject({ error: "ParseError", format: "camt" });
    expect(bad.out).toEqual([]);
    expect((await run(["parse"])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
  });
});

const matching = (p: string) => path.resolve(import.meta.dirname, "../../test/fixtures/matching", p);

describe("npx tieout match", () => {
  it("prints one JSON line per proposal, keys left, right, confidence, decision first", async () => {
    const { code, out } = await run(["match", "--left", matching("bank.csv"), "--right", matching("ledger.csv")]);
    expect(code).toBe(0);
    expect(Object.keys(JSON.parse(out[0])).slice(0, 4)).toEqual(["left", "right", "confidence", "decision"]);
    const proposals = out.map((l) => JSON.parse(l));
    expect(proposals.map((p) => [p.left, p.right, p.level])).toEqual([
      [["B1"], ["L1"], "exact"],
      [["B2"], ["L2"], "amount_date"],
      [["B3"], ["L3", "L4"], "group"],
    ]);
    expect(proposals.every((p) => p.difference === "0" && typeof p.reason === "string" && p.signals.amount.score === 1)).toBe(true);
  });

  it("adds unmatched records with their nearest candidates on --unmatched, and honours --settings and --rules", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tieout-cli-"));
    writeFileSync(path.join(dir, "settings.json"), JSON.stringify({ thresholds: { auto: 0.9999, suggest: 0.5 } }));
    writeFileSync(path.join(dir, "rules.json"), JSON.stringify([{ id: "fees", name: "Bank fees", priority: 1, conditions: [{ op: "contains", field: "description", value: "fee" }], action: { type: "ignore" } }]));
    const plain = await run(["match", "--left", matching("bank.csv"), "--right", matching("ledger.csv"), "--unmatched", "--settings", path.join(dir, "settings.json")]);
    const lines = plain.out.map((l) => JSON.parse(l));
    expect(lines.filter((l) => "decision" in l).every((l) => l.decision === "suggest" || l.confidence >= 0.9999)).toBe(true);
    expect(lines.find((l) => l.unmatched === "B4")).toMatchObject({ side: "left", nearest: expect.any(Array) });
    const ruled = await run(["match", "--left", matching("bank.csv"), "--right", matching("ledger.csv"), "--unmatched", "--rules", path.join(dir, "rules.json")]);
    expect(ruled.out.some((l) => l.includes('"unmatched":"B4"'))).toBe(false);
    expect(ruled.err).toContain("rule fees: left B4 ignore");
  });

  it("exits 1 naming file, line and field for bad input, and 2 for bad usage", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tieout-cli-"));
    const bad = path.join(dir, "bad.csv");
    writeFileSync(bad, 'id,date,amount,currency,counterparty,reference,description\nB1,2026-03-02,12.5,EUR,,,\nB2,2026-02-30,1.00,EUR,,,\n');
    const r = await run(["match", "--left", bad, "--right", matching("ledger.csv")]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.err[0])).toMatchObject({ error: "MatchCsvError", file: bad, line: 3, field: "date" });
    writeFileSync(bad, 'id,date,amount,currency,counterparty,reference,description\nB1,2026-03-02,"1,5",EUR,,,\n');
    expect(JSON.parse((await run(["match", "--left", bad, "--right", matching("ledger.csv")])).err[0])).toMatchObject({ line: 2, field: "amount" });
    expect((await run(["match", "--left", matching("bank.csv")])).code).toBe(2);
    expect((await run(["match", "--left", matching("missing.csv"), "--right", matching("ledger.csv")])).code).toBe(1);
  });
});
