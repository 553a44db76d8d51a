import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formLine, formLinesToLedger, journalEntryInput, journalLineInput } from "@/server/ledger/schemas";

const ACCOUNT = "6f1c1b1e-8a52-4f1e-9c1d-2b3a4c5d6e7f";
const entry = (amounts: string[]) => ({
  entityId: "0b9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c", entryDate: "2026-04-30", description: "Test", idempotencyKey: "k",
  lines: amounts.map((amount) => ({ accountId: ACCOUNT, amount })),
});

describe("formLine", () => {
  const line = (debit?: string, credit?: string) => formLine.safeParse({ accountId: ACCOUNT, debit, credit });
  const issues = (debit?: string, credit?: string) => {
    const r = line(debit, credit);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("takes exactly one of debit and credit, positive", () => {
    expect(line("100.00").success).toBe(true);
    expect(line(undefined, "0.01").success).toBe(true);
    expect(line(" 12.5 ", "").success).toBe(true);
    expect(issues()).toEqual(["debit: Enter either a debit or a credit"]);
    expect(issues("", "")).toEqual(["debit: Enter either a debit or a credit"]);
    expect(issues("1", "1")).toEqual(["debit: Enter either a debit or a credit"]);
  });

  it("refuses zero, negative and malformed amounts", () => {
    for (const bad of ["0", "0.00", "-5", "1e5", "1,000", "abc", "1.23456"]) {
      expect(issues(bad), `debit ${bad}`).toEqual(["debit: Enter a positive amount like 1234.56"]);
      expect(issues(undefined, bad), `credit ${bad}`).toEqual(["credit: Enter a positive amount like 1234.56"]);
    }
  });

  it("becomes signed ledger lines: debit positive, credit negative", () => {
    const parsed = [formLine.parse({ accountId: ACCOUNT, debit: "10.50" }), formLine.parse({ accountId: ACCOUNT, credit: "10.50" })];
    expect(formLinesToLedger(parsed).map((l) => l.amount)).toEqual(["10.50", "-10.50"]);
  });
});

describe("journalEntryInput", () => {
  it("accepts signed decimal strings and refuses zero lines and single-line entries", () => {
    expect(journalEntryInput.safeParse(entry(["100", "-100"])).success).toBe(true);
    expect(journalEntryInput.safeParse(entry(["0.0001", "-0.0001"])).success).toBe(true);
    expect(journalEntryInput.safeParse(entry(["0.00", "0"])).success).toBe(false);
    expect(journalEntryInput.safeParse(entry(["-0", "1"])).success).toBe(false);
    expect(journalEntryInput.safeParse(entry(["100"])).success).toBe(false);
  });

  it("refuses amounts given as numbers", () => {
    expect(journalLineInput.safeParse({ accountId: ACCOUNT, amount: 100 }).success).toBe(false);
  });

  it("refuses impossible calendar dates", () => {
    expect(journalEntryInput.safeParse({ ...entry(["1", "-1"]), entryDate: "2026-02-30" }).success).toBe(false);
    expect(journalEntryInput.safeParse({ ...entry(["1", "-1"]), entryDate: "2028-02-29" }).success).toBe(true);
  });

  it("never accepts a float-looking or otherwise weird amount string", () => {
    const weird = fc.oneof(
      fc.constantFrom("1e5", "1E5", "-1e-2", "0.1.2", "1..2", ".5", "5.", "+5", "0x1f", "Infinity", "-Infinity", "NaN", "1_000", "1,5", "١٢٣", "--1", "- 1", "1-", "1.23456"),
      // Scientific notation around an otherwise valid number.
      fc.tuple(fc.integer({ min: -999, max: 999 }), fc.constantFrom("e", "E"), fc.integer({ min: -20, max: 20 })).map(([m, e, x]) => `${m}${e}${x}`),
      // Two decimal points.
      fc.tuple(fc.nat(9999), fc.nat(9999), fc.nat(9999)).map(([a, b, c]) => `${a}.${b}.${c}`),
      // Whatever a float prints that has an exponent or more than four decimals.
      fc.double({ noNaN: false }).map(String).filter((s) => /[eE]|\.\d{5,}|N|I/.test(s)),
      // Arbitrary text containing a letter other than whitespace.
      fc.string().filter((s) => /[^\d\s.-]/.test(s)),
    );
    fc.assert(
      fc.property(weird, fc.boolean(), (amount, first) => {
        const amounts = first ? [amount, "-1"] : ["1", amount];
        expect(journalEntryInput.safeParse(entry(amounts)).success).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
