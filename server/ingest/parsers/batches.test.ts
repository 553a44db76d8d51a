import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collectBatches, ParseError } from "./canonical";
import { parseCsvBatches } from "./csv";
import { parseBytes, parseBytesInBatches } from "./index";

const FIXTURES = path.resolve(import.meta.dirname, "../../../test/fixtures/statements");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return name.endsWith(".md") ? [] : [p];
  });
}

/** The parse's result, or its error message: batches must agree on both. */
async function outcome<T>(run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ParseError) return { error: e.message };
    throw e;
  }
}

describe("batched parsing", () => {
  const files = filesUnder(FIXTURES);

  it("yields exactly the whole-file parse for every sample file, in small and default batches", async () => {
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const bytes = readFileSync(file);
      const whole = await outcome(() => parseBytes(bytes, { fileName: file }));
      for (const size of [1, 3, undefined]) {
        const batched = await outcome(async () => collectBatches(await parseBytesInBatches(bytes, { fileName: file }, size)));
        expect(batched, `${file} in batches of ${size}`).toEqual(whole);
      }
    }
  });

  it("holds a CSV line back until the next row, so a continuation row still reaches its description", () => {
    const csv = "Date,Amount,Description\n2026-03-02,-3.50,Coffee\n,,with milk\n2026-03-03,10,Refund\n";
    const batches = [...(function* () {
      const it = parseCsvBatches(Buffer.from(csv), { currency: "EUR" }, {}, 1);
      for (let step = it.next(); !step.done; step = it.next()) yield step.value;
    })()];
    expect(batches.map((b) => b.map((r) => r.description))).toEqual([["Coffee with milk"], ["Refund"]]);
  });

  it("assigns every line to the statement a running balance column makes, as the whole parse does", () => {
    const csv = "Date,Amount,Balance\n2026-03-01,10.00,110.00\n2026-03-02,-5.00,105.00\n2026-03-03,2.50,107.50\n";
    const it = parseCsvBatches(Buffer.from(csv), { currency: "EUR" }, {}, 2);
    const seen: (number | null)[] = [];
    let step = it.next();
    for (; !step.done; step = it.next()) seen.push(...step.value.map((r) => r.statementIndex));
    expect(seen).toEqual([null, null, null]);
    expect(step.value.unassignedStatement).toBe(0);
    expect(step.value.statements[0]).toMatchObject({ opening: { amount: "100" }, closing: { amount: "107.5" }, lines: 3 });
  });

  it("raises a bad line's ParseError after the batches before it, with the whole parse's message", async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `2026-03-${String((i % 28) + 1).padStart(2, "0")},${i + 1}.00,Line ${i + 1}`);
    lines[21] = "2026-13-45,1.00,Bad date";
    const bytes = Buffer.from(`Date,Amount,Description\n${lines.join("\n")}\n`);
    const whole = await outcome(() => parseBytes(bytes, { options: { currency: "EUR" } }));
    expect(whole).toMatchObject({ error: expect.stringContaining("line 23") });
    const it = await parseBytesInBatches(bytes, { options: { currency: "EUR" } }, 10);
    expect(it.next().value).toHaveLength(10);
    expect(it.next().value).toHaveLength(10);
    expect(() => it.next()).toThrow((whole as { error: string }).error);
  });
});
