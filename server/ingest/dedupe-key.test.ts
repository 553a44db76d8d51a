import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dedupeKeys } from "./dedupe-key";
import { parseBytes } from "./parsers";
import type { CanonicalRecord } from "./parsers/canonical";

/** The keys as the stored data has them : an independent restatement of the documented format. */
function referenceKeys(records: readonly CanonicalRecord[]): string[] {
  const seen = new Map<string, number>();
  return records.map((r) => {
    const content = [r.bookedDate, r.valueDate ?? "", r.amount, r.currency, r.counterpartyName?.trim() ?? "", r.counterpartyAccount?.trim() ?? "", r.reference?.trim() ?? "", r.description?.trim() ?? ""].join("\u001f");
    const base = r.externalId !== null && r.externalId !== ""
      ? `id:${r.externalId}|${r.bookedDate}|${r.amount}`
      : `fp:${createHash("md5").update(content.toLowerCase().replace(/\s+/g, " ")).digest("base64url")}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return base.startsWith("id:") ? (n === 0 ? base : `${base}#${n}`) : `${base}:${n}`;
  });
}

const FIXTURES = path.resolve(import.meta.dirname, "../../test/fixtures/statements");
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : name.endsWith(".md") ? [] : [p];
  });

const line = (i: number, over: Partial<CanonicalRecord> = {}): CanonicalRecord => ({
  externalId: null, bookedDate: `2026-03-${String((i % 50 % 28) + 1).padStart(2, "0")}`, valueDate: null, amount: `-${i % 50}.50`, currency: "EUR",
  counterpartyName: i % 2 ? "Acme  GmbH" : " acme gmbh", counterpartyAccount: null, reference: null, description: `Coffee ${i % 50}`, bankTransactionCode: null,
  type: "other", originalAmount: null, originalCurrency: null, statementIndex: null, raw: {}, ...over,
});

describe("dedupe keys", () => {
  it("are the stored keys for every sample file", async () => {
    let files = 0;
    for (const file of filesUnder(FIXTURES)) {
      const parsed = await parseBytes(readFileSync(file), { fileName: file }).catch(() => null);
      if (!parsed) continue;
      files++;
      expect(dedupeKeys(parsed.records), file).toEqual(referenceKeys(parsed.records));
    }
    expect(files).toBeGreaterThan(100);
  });

  it("number repeated lines and repeated ids as before, across many distinct lines (one file of 20,000 lines)", () => {
    const records = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? line(i, { externalId: `R${i % 300}`, bookedDate: "2026-03-01", amount: "1" }) : line(i)));
    const keys = dedupeKeys(records);
    expect(keys).toEqual(referenceKeys(records));
    expect(keys.some((k) => k.endsWith(":3"))).toBe(true);
    expect(keys.some((k) => /#\d+$/.test(k))).toBe(true);
  });

  // The unique index is on (source, booked date, key): it enforces exactly-once only because a key
  // never stands for two dates.
  it("differ whenever the booked date differs, with or without an external id", () => {
    for (const over of [{}, { externalId: "55555" }]) {
      const a = dedupeKeys([line(1, { ...over, bookedDate: "2026-03-01" })]);
      const b = dedupeKeys([line(1, { ...over, bookedDate: "2026-03-02" })]);
      expect(a[0]).not.toBe(b[0]);
    }
  });
});
