import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import { appendAudit } from "@/server/audit/append-audit";
import { formatMoney, money, type Money, sum, toUnits4 } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { AppError } from "@/server/errors";
import { loadControlSettings } from "@/server/approvals/policy";
import { widenMatchingBacklog } from "@/server/matching/backlog";
import { batchesOf, type CanonicalRecord, type ParsedFile, type ParsedStatement, type ParsedTail, type RecordBatches } from "./parsers/canonical";
import { DedupeKeyer } from "./dedupe-key";

export type LandingSource = { id: string; currency: string; name: string };

export type StatementCheck = {
  statementRef: string | null;
  account: string | null;
  currency: string;
  opening: string | null;
  movements: string;
  closing: string | null;
  lines: number;
  balanced: boolean | null;
  difference: string | null;
};

export type ImportSummary = {
  importId: string;
  format: string;
  parserVersion: string;
  total: number;
  newCount: number;
  duplicateCount: number;
  rejectedCount: number;
  rejections: { line: number | null; reason: string }[];
  statements: StatementCheck[];
  warnings: string[];
};

export type LandingMeta = { channel: "file" | "webhook" | "xero"; fileName: string | null; uploadId: string | null; startedAt: number };

/** Serialises writers of one source's lines until commit (re-entrant within a transaction). */
export async function lockSourceImports(tx: Db, sourceId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.import:' || ${sourceId}, 0))`);
}

/** Amounts with more decimals than the ledger's money columns hold cannot be stored exactly. */
const MAX_SCALE = 4;

/**
 * Writes one parsed file (or webhook event) for a source inside the caller's transaction: the
 * import row, its statements with their balance check, the lines not already there, a
 * data-quality exception per statement that does not add up, and one audit row. The caller's
 * transaction makes it whole or nothing; the per-source lock makes concurrent imports of the same
 * source count their duplicates correctly.
 */
export async function landRecords(tx: Db, ctx: Ctx, source: LandingSource, parsed: ParsedFile, meta: LandingMeta): Promise<ImportSummary> {
  return landBatches(tx, ctx, source, batchesOf(parsed), meta);
}

const STAGING_COLUMNS = [
  "dedupe_key", "external_id", "statement_index", "booked_date", "value_date", "amount", "currency", "counterparty_name", "counterparty_account", "reference",
  "description", "bank_transaction_code", "type", "original_amount", "original_currency", "raw",
] as const;

/**
 * landRecords for a parse that arrives in batches: each batch is checked, keyed and streamed into
 * the staging table while the parser reads the next, so neither all records nor all rows' text
 * are held at once. The counts, the import row, the statements and the lines themselves are
 * written after the last batch, from the staging table; a ParseError in any batch aborts the COPY
 * and the caller's transaction, so nothing of the file remains.
 */
export async function landBatches(tx: Db, ctx: Ctx, source: LandingSource, batches: RecordBatches, meta: LandingMeta): Promise<ImportSummary> {
  await lockSourceImports(tx, source.id);

  const rejections: { line: number | null; reason: string }[] = [];
  let accepted = 0;
  let total = 0;
  const keys = new DedupeKeyer();
  const tallies = new Map<number | null, Tally>();
  // The booked dates the accepted lines span (ISO dates order as strings): what the reconciliation run after this landing covers.
  let firstDate = "";
  let lastDate = "";
  let tail: ParsedTail | undefined;
  function* stagingRows(): Generator<(string | null)[]> {
    for (let step = batches.next(); ; step = batches.next()) {
      if (step.done) {
        tail = step.value;
        return;
      }
      for (const r of step.value) {
        const index = total++;
        let tally = tallies.get(r.statementIndex);
        if (!tally) tallies.set(r.statementIndex, (tally = new Tally()));
        tally.add(r.amount);
        const reason = rejectionOf(r, source);
        if (reason) {
          rejections.push({ line: lineOf(r), reason: `Record ${index + 1}: ${reason}` });
          continue;
        }
        accepted++;
        if (!firstDate || r.bookedDate < firstDate) firstDate = r.bookedDate;
        if (r.bookedDate > lastDate) lastDate = r.bookedDate;
        yield stagingRow(r, keys.next(r));
      }
    }
  }

  // Stage every accepted line, then count what the source already has before writing the rest.
  await tx.execute(sql.raw(`create temp table import_staging (
    dedupe_key text, external_id text, statement_index int, booked_date date, value_date date, amount numeric(20,4), currency text,
    counterparty_name text, counterparty_account text, reference text, description text, bank_transaction_code text, type text,
    original_amount numeric(20,4), original_currency text, raw jsonb) on commit drop`));
  await copyRows(tx, "import_staging", STAGING_COLUMNS, stagingRows());
  // A temp table has no statistics; without them the planner probes the key index once per staged
  // line (a nested loop) where a hash semi-join over a million lines is several times cheaper.
  await tx.execute(sql`analyze import_staging`);
  const parsed = tail as ParsedTail;

  const importId = randomUUID();
  const statementIds = parsed.statements.map(() => randomUUID());
  const statements = parsed.statements.map((st, i) => {
    const own = tallies.get(i);
    const unassigned = parsed.unassignedStatement === i ? tallies.get(null) : undefined;
    return checkStatement(st, (own?.total() ?? money("0")).plus(unassigned?.total() ?? "0"), (own?.lines ?? 0) + (unassigned?.lines ?? 0));
  });

  const [{ existing }] = await tx.execute<{ existing: number }>(sql`
    select count(*)::int as existing from import_staging s
    where ${landedAlready(source)}`);
  const newCount = accepted - existing;
  const unbalanced = statements.filter((s) => s.balanced === false);
  const closed = newCount === 0 ? [] : await newLinesInClosedPeriods(tx, ctx, source, meta);

  await tx.execute(sql`
    insert into imports (org_id, id, source_id, upload_id, channel, file_name, format, parser_version, new_count, duplicate_count, rejected_count,
                         statement_count, unbalanced_statement_count, rejections, warnings, imported_by, duration_ms)
    values (${ctx.orgId}, ${importId}, ${source.id}, ${meta.uploadId}, ${meta.channel}, ${meta.fileName}, ${parsed.format}, ${parsed.parserVersion},
            ${newCount}, ${existing}, ${rejections.length}, ${statements.length}, ${unbalanced.length},
            ${JSON.stringify(rejections)}::jsonb, ${JSON.stringify(parsed.warnings)}::jsonb, ${ctx.userId}, ${Math.round(performance.now() - meta.startedAt)})`);
  for (const [i, st] of statements.entries()) {
    const p = parsed.statements[i];
    await tx.execute(sql`
      insert into statements (org_id, id, source_id, import_id, statement_ref, account, currency, opening_date, opening_balance, closing_date, closing_balance, movements, line_count, balanced)
      values (${ctx.orgId}, ${statementIds[i]}, ${source.id}, ${importId}, ${st.statementRef}, ${st.account}, ${st.currency},
              ${p.opening?.date ?? null}, ${st.opening}, ${p.closing?.date ?? null}, ${st.closing}, ${st.movements}, ${st.lines}, ${st.balanced})`);
    if (st.balanced === false) {
      await tx.execute(sql`
        insert into exceptions (org_id, kind, severity, title, source_id, statement_id, amount, currency, details)
        values (${ctx.orgId}, 'statement_unbalanced', 'high',
                ${`Statement ${st.statementRef ?? ""} of ${source.name} does not add up: opening ${formatMoney(st.opening!, st.currency)} + movements ${formatMoney(st.movements, st.currency)} ≠ closing ${formatMoney(st.closing!, st.currency)}`.replace("  ", " ")},
                ${source.id}, ${statementIds[i]}, ${st.difference}, ${st.currency},
                ${JSON.stringify({ importId, opening: st.opening, movements: st.movements, closing: st.closing, difference: st.difference, lines: st.lines })}::jsonb)`);
    }
  }
  if (closed.length) {
    const n = closed.reduce((a, c) => a + c.lines, 0);
    await tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, source_id, details)
      values (${ctx.orgId}, 'closed_period_lines', 'high',
              ${`${n} new line(s) of ${source.name} are dated in closed period(s) ${closed.map((c) => c.period).join(", ")}`},
              ${source.id}, ${JSON.stringify({ importId, periods: closed, entityId: closed[0].entityId })}::jsonb)`);
  }
  // Only the new lines, in date order: a source's lines are read by date range (matching loads a
  // period, the transactions list pages by date), so the rows of a range sit together on disk
  // instead of scattered at random over the table (a run loading 1,000,000 lines in key order read
  // 620,000 pages out of order: 5.2 s of its query), and the key index, led by the date, takes them
  // as appends rather than as a million random insertions. A plain INSERT skips ON CONFLICT's speculative
  // insertion (an extra WAL record and index pass per line). Under the source lock no other writer
  // can add these keys meanwhile; if one somehow did, the unique index refuses the whole import
  // rather than skipping the line.
  // A re-delivered file has nothing new: no second pass over the staged lines.
  const inserted = newCount === 0 ? { count: 0 } : await tx.execute(sql`
    insert into canonical_transactions (org_id, source_id, import_id, statement_id, external_id, dedupe_key, booked_date, value_date, amount, currency,
      counterparty_name, counterparty_account, reference, description, bank_transaction_code, type, original_amount, original_currency, raw, parser, parser_version)
    select ${ctx.orgId}, ${source.id}, ${importId}, (${`{${statementIds.join(",")}}`}::uuid[])[coalesce(s.statement_index, ${parsed.unassignedStatement}::int) + 1],
      s.external_id, s.dedupe_key, s.booked_date, s.value_date, s.amount, s.currency,
      s.counterparty_name, s.counterparty_account, s.reference, s.description, s.bank_transaction_code, s.type, s.original_amount, s.original_currency, s.raw,
      ${parsed.format}, ${parsed.parserVersion}
    from import_staging s
    ${existing === 0 ? sql`` : sql`where not ${landedAlready(source)}`}
    order by s.booked_date, s.dedupe_key`);
  // Under the source lock nothing else can have written these keys since the count above.
  if (inserted.count !== newCount) throw new Error(`import ${importId}: expected ${newCount} new lines, wrote ${inserted.count}`);
  // Dropped now, not at commit: one transaction may land several events (an Adyen batch).
  await tx.execute(sql`drop table import_staging`);
  if (newCount > 0) await widenMatchingBacklog(tx, ctx.orgId, source.id, { from: firstDate, to: lastDate });

  await appendAudit(tx, ctx, [{
    action: "import.completed",
    entityType: "import",
    entityId: importId,
    data: { sourceId: source.id, channel: meta.channel, fileName: meta.fileName, uploadId: meta.uploadId, format: parsed.format, parserVersion: parsed.parserVersion,
            total, new: newCount, duplicate: existing, rejected: rejections.length, unbalancedStatements: unbalanced.length },
  }]);

  return {
    importId, format: parsed.format, parserVersion: parsed.parserVersion, total, newCount, duplicateCount: existing,
    rejectedCount: rejections.length, rejections: rejections.slice(0, 100), statements, warnings: parsed.warnings,
  };
}

/**
 * The staged line `s` is already among the source's lines: the same key on the same date (every key
 * carries its date, so this is the key alone, asked the way the unique index reads it).
 */
const landedAlready = (source: LandingSource) =>
  sql`exists (select 1 from canonical_transactions c where c.source_id = ${source.id} and c.booked_date = s.booked_date and c.dedupe_key = s.dedupe_key)`;

type ClosedPeriodLines = { period: string; entityId: string; lines: number; first: string; last: string };

/**
 * New lines dated in a closed period of the source's entity. A statement line is a fact from the
 * bank, not a posting, so it is never re-dated. A file import (a person is there to hear it) is
 * refused whole when the organisation chose `refuse` (the default); with `flag`, or for a webhook
 * (a provider cannot be asked to wait: refusing only makes it retry), the lines land and one high
 * exception names the closed periods, so someone decides whether the period must be reopened.
 */
async function newLinesInClosedPeriods(tx: Db, ctx: Ctx, source: LandingSource, meta: LandingMeta): Promise<ClosedPeriodLines[]> {
  const rows = await tx.execute<ClosedPeriodLines>(sql`
    select p.name as period, p.entity_id as "entityId", count(*)::int as lines, min(s.booked_date)::text as first, max(s.booked_date)::text as last
    from import_staging s
    join sources src on src.org_id = ${ctx.orgId} and src.id = ${source.id}
    join fiscal_periods p on p.org_id = src.org_id and p.entity_id = src.entity_id and s.booked_date between p.starts_on and p.ends_on and p.status = 'closed'
    where not ${landedAlready(source)}
    group by p.name, p.entity_id order by p.name`);
  if (rows.length === 0) return [];
  const settings = await loadControlSettings(tx, ctx.orgId);
  if (meta.channel === "file" && settings.closedPeriodImports === "refuse") {
    const n = rows.reduce((a, r) => a + r.lines, 0);
    throw new AppError(
      "period_closed",
      `${n} line(s) of this file are dated in closed period(s) ${rows.map((r) => `${r.period} (${r.first} – ${r.last})`).join(", ")}. Nothing was imported: remove those lines, or ask an admin to reopen the period.`,
    );
  }
  return [...rows];
}

/** An exact running sum of decimal strings: ten-thousandths in a BigInt, anything finer in a Decimal. */
class Tally {
  lines = 0;
  private units = 0n;
  private rest: Money | null = null;

  add(amount: string): void {
    this.lines++;
    if (UNITS4.test(amount)) this.units += toUnits4(amount);
    else this.rest = (this.rest ?? money("0")).plus(amount);
  }

  total(): Money {
    const units = money(this.units.toString()).div(10_000);
    return this.rest ? units.plus(this.rest) : units;
  }
}
const UNITS4 = /^-?\d{1,24}(\.\d{1,4})?$/;

function rejectionOf(r: CanonicalRecord, source: LandingSource): string | null {
  if (r.currency !== source.currency) return `currency ${r.currency} is not the source's currency (${source.currency})`;
  const dot = r.amount.indexOf(".");
  if (dot >= 0 && r.amount.length - dot - 1 > MAX_SCALE) return `amount ${r.amount} has more than ${MAX_SCALE} decimals`;
  const integerDigits = (dot >= 0 ? dot : r.amount.length) - (r.amount.startsWith("-") ? 1 : 0);
  if (integerDigits > 16) return `amount ${r.amount} is too large`;
  if (r.originalAmount !== null && r.originalAmount.includes(".") && r.originalAmount.length - r.originalAmount.indexOf(".") - 1 > MAX_SCALE) {
    return `original amount ${r.originalAmount} has more than ${MAX_SCALE} decimals`;
  }
  return null;
}

function lineOf(r: CanonicalRecord): number | null {
  const line = r.raw.line ?? r.raw.lineNumber;
  return typeof line === "number" ? line : null;
}

/** Each statement of a parsed file checked against its own lines. */
export function checkStatements(parsed: ParsedFile): StatementCheck[] {
  const byStatement = parsed.statements.map((): CanonicalRecord[] => []);
  for (const r of parsed.records) if (r.statementIndex !== null) byStatement[r.statementIndex]?.push(r);
  return parsed.statements.map((st, i) => checkStatement(st, sum(byStatement[i].map((r) => r.amount)), byStatement[i].length));
}

/** Opening + movements = closing, as the statement states its balances and its lines. */
function checkStatement(st: ParsedStatement, movements: Money, lines: number): StatementCheck {
  const opening = st.opening ? money(st.opening.amount) : null;
  const closing = st.closing ? money(st.closing.amount) : null;
  const difference = opening && closing ? closing.minus(opening.plus(movements)) : null;
  return {
    statementRef: st.statementId,
    account: st.account,
    currency: st.currency,
    opening: opening?.toFixed() ?? null,
    movements: movements.toFixed(),
    closing: closing?.toFixed() ?? null,
    lines,
    balanced: difference ? difference.isZero() : null,
    difference: difference?.toFixed() ?? null,
  };
}

/** PostgreSQL text and jsonb cannot hold NUL characters; a decoded file may (UTF-16 input). */
const clean = (s: string | null): string | null => (s !== null && s.includes("\0") ? s.replaceAll("\0", "\uFFFD") : s);

function stagingRow(r: CanonicalRecord, key: string): (string | null)[] {
  const raw = JSON.stringify(r.raw);
  return [
    clean(key), clean(r.externalId), r.statementIndex === null ? null : String(r.statementIndex), r.bookedDate, r.valueDate, r.amount, r.currency,
    clean(r.counterpartyName), clean(r.counterpartyAccount), clean(r.reference), clean(r.description), clean(r.bankTransactionCode), r.type,
    r.originalAmount, r.originalCurrency, raw.includes("\\u0000") ? raw.replaceAll("\\u0000", "\\ufffd") : raw,
  ];
}
