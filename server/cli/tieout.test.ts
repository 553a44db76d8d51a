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
