import { readFileSync } from "node:fs";
import { ParseError } from "@/server/ingest/parsers/canonical";
import { FORMATS, parseBytes } from "@/server/ingest/parsers";
import { checkStatements } from "@/server/ingest/land-records";
import { minorUnits, money } from "@/server/money";
import { reconcileCommand } from "./reconcile";

/** "100" → "100.00" for EUR: at least the currency's minor units, never fewer digits than given. */
const amount = (value: string | null, currency: string) => {
  if (value === null) return null;
  const d = money(value);
  return d.toFixed(Math.max(minorUnits(currency), d.decimalPlaces()));
};

const USAGE = `Usage: npx tieout parse FILE [--format NAME]

Reads a statement or report with the same parsers the app uses, writes nothing to any database,
and prints JSON Lines on stdout: one {"kind":"statement",...} line per statement, then one
{"kind":"record",...} line per canonical transaction. A file that cannot be read exits with
status 1 and the parser's error on stderr.

Formats: ${FORMATS.join(", ")} (detected from the content when --format is absent).`;

/** Entry point of `npx tieout`; returns the process exit code. */
export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`), err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "reconcile") return reconcileCommand(rest, out, err);
  if (command !== "parse") {
    err(USAGE);
    return command === "--help" || command === "-h" ? 0 : 2;
  }
  let file: string | undefined;
  let format: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--format") format = rest[++i];
    else if (rest[i].startsWith("--format=")) format = rest[i].slice("--format=".length);
    else if (!file) file = rest[i];
    else {
      err(`Unexpected argument: ${rest[i]}\n\n${USAGE}`);
      return 2;
    }
  }
  if (!file) {
    err(USAGE);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    err(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return 1;
  }
  try {
    const parsed = await parseBytes(bytes, { format, fileName: file });
    const checks = checkStatements(parsed);
    for (const c of checks) {
      out(JSON.stringify({ kind: "statement", format: parsed.format, account: c.account, statement: c.statementRef, currency: c.currency, opening: amount(c.opening, c.currency), closing: amount(c.closing, c.currency), movements: amount(c.movements, c.currency), lines: c.lines, balanced: c.balanced }));
    }
    for (const r of parsed.records) out(JSON.stringify({ kind: "record", format: parsed.format, ...r }));
    for (const w of parsed.warnings) err(`warning: ${w}`);
    return 0;
  } catch (e) {
    if (e instanceof ParseError) {
      err(JSON.stringify({ error: "ParseError", format: e.format, line: e.line ?? null, field: e.field ?? null, message: e.message }));
      return 1;
    }
    throw e;
  }
}
