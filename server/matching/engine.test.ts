import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseUnits } from "./amount-units";
import { matchRecords } from "./engine";
import { DEFAULT_MATCH_SETTINGS } from "./settings";
import type { MatchRecord, Proposal } from "./types";

const settings = DEFAULT_MATCH_SETTINGS;
const rec = (id: string, date: string, amount: string, extra: Partial<MatchRecord> = {}): MatchRecord => ({ id, date, amount, currency: "EUR", ...extra });

/** Small random books on both sides, built to collide: few amounts, few names, a few days. */
const names = ["Acme GmbH", "ACME", "Globex Ltd", "Initech Inc", null];
const record = (prefix: string) =>
  fc.record({
    n: fc.integer({ min: 0, max: 1_000_000 }),
    day: fc.integer({ min: 1, max: 12 }),
    cents: fc.constantFrom(10000, 15000, 25000, 9950, 5000, 30000, -2500),
    name: fc.constantFrom(...names),
    ref: fc.constantFrom(null, "INV-1", "inv.2", "Invoice 3", "INV 1, INV 2"),
  }).map((r) => ({ prefix, ...r }));
const side = (prefix: string) =>
  fc.array(record(prefix), { maxLength: 14 }).map((rs) =>
    rs.map((r, i): MatchRecord => rec(`${prefix}${i}`, `2026-03-${String(r.day).padStart(2, "0")}`, (r.cents / 100).toFixed(2), { counterparty: r.name, reference: r.ref })),
  );

const units = (ids: string[], records: MatchRecord[]) => ids.reduce((s, id) => s + parseUnits(records.find((r) => r.id === id)!.amount)!, 0);
const canonical = (ps: Proposal[]) => JSON.stringify([...ps].map((p) => ({ ...p, left: [...p.left].sort(), right: [...p.right].sort() })).sort((a, b) => (a.left.join() < b.left.join() ? -1 : 1)));

function shuffle<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("matching invariants (property-based)", () => {
  it("puts no record in two proposals, and every proposal's sums agree within the tolerance (exactly for exact levels)", () => {
    fc.assert(
      fc.property(side("B"), side("L"), (left, right) => {
        const { proposals } = matchRecords({ left, right, settings });
        const seen = new Set<string>();
        for (const p of proposals) {
          for (const id of p.left) expect(seen.has(`L:${id}`)).toBe(false), seen.add(`L:${id}`);
          for (const id of p.right) expect(seen.has(`R:${id}`)).toBe(false), seen.add(`R:${id}`);
          const diff = units(p.right, right) - units(p.left, left);
          expect(p.difference).toBe(diff === 0 ? "0" : (diff / 10_000).toString());
          if (p.level === "amount_date") expect(diff).toBe(0);
          const larger = Math.max(Math.abs(units(p.left, left)), Math.abs(units(p.right, right)));
          expect(Math.abs(diff)).toBeLessThanOrEqual(Math.max(10_000, Math.floor((larger * 3) / 100)));
          expect(p.confidence).toBeGreaterThanOrEqual(settings.thresholds.suggest);
          expect(p.decision).toBe(p.confidence >= settings.thresholds.auto ? "auto" : "suggest");
        }
      }),
      { numRuns: 150 },
    );
  });

  it("gives the same result on reruns and on shuffled input", () => {
    fc.assert(
      fc.property(side("B"), side("L"), fc.integer(), (left, right, seed) => {
        const a = matchRecords({ left, right, settings });
        const b = matchRecords({ left: shuffle(left, seed), right: shuffle(right, seed + 1), settings });
        expect(JSON.stringify(b.proposals)).toBe(JSON.stringify(a.proposals));
        expect(JSON.stringify(b.unmatched)).toBe(JSON.stringify(a.unmatched));
        expect(canonical(matchRecords({ left, right, settings }).proposals)).toBe(canonical(a.proposals));
      }),
      { numRuns: 100 },
    );
  });

  it("never proposes a rejected pair again", () => {
    fc.assert(
      fc.property(side("B"), side("L"), (left, right) => {
        const first = matchRecords({ left, right, settings });
        const rejected = first.proposals.flatMap((p) => p.left.flatMap((l) => p.right.map((r) => ({ left: l, right: r }))));
        const again = matchRecords({ left, right, settings, rejected });
        for (const p of again.proposals) for (const l of p.left) for (const r of p.right) expect(rejected.some((x) => x.left === l && x.right === r)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe("matching decisions", () => {
  it("matches reference variants exactly, and explains the unmatched bank fee with its nearest candidates", () => {
    const { proposals, unmatched } = matchRecords({
      left: [rec("B1", "2026-03-02", "100.00", { reference: "Payment inv 2026 00123" }), rec("B2", "2026-03-02", "-4.95", { description: "ACCOUNT FEE" })],
      right: [rec("L1", "2026-03-01", "100", { reference: "INV-2026-00123" }), rec("L2", "2026-03-20", "-4.95", { counterparty: "Office supplies" })],
      settings,
    });
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ left: ["B1"], right: ["L1"], level: "exact", decision: "auto", difference: "0" });
    expect(proposals[0].signals.reference.score).toBe(1);
    expect(unmatched.find((u) => u.id === "B2")!.nearest[0]).toMatchObject({ id: "L2", failed: ["date"] });
  });

  it("never auto-matches a tie: two equal candidates from the same customer are only suggested", () => {
    const { proposals } = matchRecords({
      left: [rec("B1", "2026-03-04", "500.00", { counterparty: "ACME GMBH" })],
      right: [rec("L1", "2026-03-03", "500.00", { counterparty: "Acme GmbH" }), rec("L2", "2026-03-05", "500.00", { counterparty: "Acme GmbH" })],
      settings,
    });
    expect(proposals).toHaveLength(1);
    expect(proposals[0].decision).toBe("suggest");
    expect(proposals[0].reason).toMatch(/nearly as likely/);
    // Without the rival the same pair is matched automatically.
    const alone = matchRecords({ left: [rec("B1", "2026-03-04", "500.00", { counterparty: "ACME GMBH" })], right: [rec("L1", "2026-03-03", "500.00", { counterparty: "Acme GmbH" })], settings });
    expect(alone.proposals[0].decision).toBe("auto");
  });

  it("decomposes a payout: lines sharing a group key sum to the bank deposit", () => {
    const lines = [
      rec("P1", "2026-03-02", "120.00", { groupKey: "po_77xk2", counterparty: "Stripe" }),
      rec("P2", "2026-03-02", "-3.50", { groupKey: "po_77xk2", counterparty: "Stripe" }),
      rec("P3", "2026-03-02", "-20.00", { groupKey: "po_77xk2", counterparty: "Stripe" }),
    ];
    const { proposals } = matchRecords({ left: [rec("B1", "2026-03-04", "96.50", { reference: "STRIPE PAYOUT po_77xk2", counterparty: "STRIPE PAYMENTS" })], right: lines, settings });
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ left: ["B1"], level: "group", difference: "0", decision: "auto" });
    expect([...proposals[0].right].sort()).toEqual(["P1", "P2", "P3"]);
  });

  it("finds instalments by subset sum within a counterparty, and leaves a fee-short payment to the tolerance", () => {
    const { proposals } = matchRecords({
      left: [rec("B1", "2026-03-02", "400.00", { counterparty: "GLOBEX" }), rec("B2", "2026-03-09", "600.00", { counterparty: "GLOBEX" }), rec("B3", "2026-03-10", "247.50", { counterparty: "INITECH" })],
      right: [rec("L1", "2026-03-02", "1000.00", { counterparty: "Globex Ltd" }), rec("L2", "2026-03-09", "250.00", { counterparty: "Initech Inc" })],
      settings,
    });
    expect(proposals.map((p) => [p.left, p.right, p.level, p.difference])).toEqual([
      [["B1", "B2"], ["L1"], "group", "0"],
      [["B3"], ["L2"], "fuzzy", "2.5"],
    ]);
  });

  it("refuses amounts that are not exact decimals, naming the record", () => {
    expect(() => matchRecords({ left: [rec("B1", "2026-03-02", "1e3")], right: [], settings })).toThrow(/left record B1: amount "1e3"/);
    expect(() => matchRecords({ left: [rec("B1", "2026-03-02", "99999999999999.99")], right: [], settings })).toThrow(/at most ±/);
  });

  it("refuses a side that names one record twice, naming the id and the side", () => {
    const right = [rec("L1", "2026-03-02", "10.00"), rec("L2", "2026-03-02", "10.00"), rec("L3", "2026-03-03", "12.00"), rec("L2", "2026-03-04", "14.00")];
    expect(() => matchRecords({ left: [rec("L1", "2026-03-02", "10.00")], right, settings })).toThrow(/right record L2 appears twice on the right side/);
    // The same id on the two sides is two records.
    expect(matchRecords({ left: [rec("L1", "2026-03-02", "10.00")], right: right.slice(0, 3), settings }).proposals).toHaveLength(1);
  });
});
