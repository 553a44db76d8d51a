import { readFileSync } from "node:fs";
import { ParseError } from "@/server/ingest/parsers/canonical";
import { FORMATS, parseBytes } from "@/server/ingest/parsers";
import { checkStatements } from "@/server/ingest/land-records";
import { minorUnits, money } from "@/server/money";
import { AppError } from "@/server/errors";
import { readMatchCsv, MatchCsvError } from "@/server/matching/csv-input";
import { matchRecords } from "@/server/matching/engine";
import { rulesFileSchema } from "@/server/matching/rules";
import { DEFAULT_MATCH_SETTINGS, matchSettingsSchema } from "@/server/matching/settings";
import { reconcileCommand } from "./reconcile";

/** "100" → "100.00" for EUR: at least the currency's minor units, never fewer digits than given. */
const amount = (value: string | null, currency: string) => {
  if (value === null) return null;
  const d = money(value);
  return d.toFixed(Math.max(minorUnits(currency), d.decimalPlaces()));
};

const USAGE = `Usage: npx tieout parse FILE [--format NAME]
       npx tieout match --left A.csv --right B.csv [--rules rules.json] [--settings settings.json] [--unmatched]
       npx tieout reconcile --source ID [--against ledger|SOURCE_ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD]  (needs DATABASE_URL)

parse:

Reads a statement or report with the same parsers the app uses, writes nothing to any database,
and prints JSON Lines on stdout: one {"kind":"statement",...} line per statement, then one
{"kind":"record",...} line per canonical transaction. A file that cannot be read exits with
status 1 and the parser's error on stderr.

Formats: ${FORMATS.join(", ")} (detected from the content when --format is absent).

match:
Matches two CSV files (header id,date,amount,currency,counterparty,reference,description) with the
engine the app uses and prints JSON Lines: one line per proposal, keys left, right, confidence,
decision first; with --unmatched, then one {"unmatched":...} line per record left without a
partner, with its nearest candidates and what each failed. --settings overrides the defaults
(any subset of them); --rules is a JSON array of rules. Bad input exits 1 with the reason on stderr.`;

function readJson(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("validation", `${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function match(rest: string[], out: (line: string) => void, err: (line: string) => void): number {
  const options: Record<string, string> = {};
  let unmatched = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--unmatched") unmatched = true;
    else if (["--left", "--right", "--rules", "--settings"].includes(arg) && i + 1 < rest.length) options[arg.slice(2)] = rest[++i];
    else {
      err(`Unexpected argument: ${arg}\n\n${USAGE}`);
      return 2;
    }
  }
  if (!options.left || !options.right) {
    err(`match needs --left and --right\n\n${USAGE}`);
    return 2;
  }
  try {
    const left = readMatchCsv(readFileSync(options.left, "utf8"), options.left);
    const right = readMatchCsv(readFileSync(options.right, "utf8"), options.right);
    const overrides = options.settings ? (readJson(options.settings) as Record<string, unknown>) : {};
    const merged = { ...DEFAULT_MATCH_SETTINGS, ...overrides };
    const settings = matchSettingsSchema.safeParse(merged);
    if (!settings.success) throw new AppError("validation", `${options.settings}: ${settings.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const rules = options.rules ? rulesFileSchema.safeParse(readJson(options.rules)) : null;
    if (rules && !rules.success) throw new AppError("validation", `${options.rules}: ${rules.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const result = matchRecords({ left, right, settings: merged as typeof DEFAULT_MATCH_SETTINGS, rules: rules?.data });
    for (const p of result.proposals) {
      out(JSON.stringify({ left: p.left, right: p.right, confidence: p.confidence, decision: p.decision, signals: p.signals, level: p.level, difference: p.difference, currency: p.currency, ruleId: p.ruleId ?? null, reason: p.reason }));
    }
    if (unmatched) for (const u of result.unmatched) out(JSON.stringify({ unmatched: u.id, side: u.side, nearest: u.nearest }));
    for (const o of result.ruleOutcomes) err(`rule ${o.ruleId}: ${o.side} ${o.recordId} ${o.action.type}`);
    return 0;
  } catch (e) {
    if (e instanceof MatchCsvError) {
      err(JSON.stringify({ error: "MatchCsvError", file: e.file, line: e.line, field: e.field, message: e.message }));
      return 1;
    }
    if (e instanceof AppError) {
      err(JSON.stringify({ error: e.code, message: e.message }));
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code && (e as NodeJS.ErrnoException).path) {
      err(`Cannot read ${(e as NodeJS.ErrnoException).path}: ${(e as NodeJS.ErrnoException).code}`);
      return 1;
    }
    throw e;
  }
}

/** Entry point of `npx tieout`; returns the process exit code. */
export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`), err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "match") return match(rest, out, err);
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
