import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import { appendAudit } from "@/server/audit/append-audit";
import { formatMoney, money, sum } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import type { CanonicalRecord, ParsedFile } from "./parsers/canonical";
import { dedupeKeys } from "./dedupe-key";

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
  await lockSourceImports(tx, source.id);

  const rejections: { line: number | null; reason: string }[] = [];
  const accepted: { record: CanonicalRecord; index: number }[] = [];
  parsed.records.forEach((record, index) => {
    const reason = rejectionOf(record, source);
    if (reason) rejections.push({ line: lineOf(record), reason: `Record ${index + 1}: ${reason}` });
    else accepted.push({ record, index });
  });
  const keys = dedupeKeys(accepted.map((a) => a.record));

  const importId = randomUUID();
  const statementIds = parsed.statements.map(() => randomUUID());
  const statements = checkStatements(parsed);

  // Stage every accepted line, then count what the source already has before writing the rest.
  await tx.execute(sql.raw(`create temp table import_staging (
    dedupe_key text, external_id text, statement_id uuid, booked_date date, value_date date, amount numeric(20,4), currency text,
    counterparty_name text, counterparty_account text, reference text, description text, bank_transaction_code text, type text,
    original_amount numeric(20,4), original_currency text, raw jsonb) on commit drop`));
  await copyRows(
    tx,
    "import_staging",
    ["dedupe_key", "external_id", "statement_id", "booked_date", "value_date", "amount", "currency", "counterparty_name", "counterparty_account", "reference", "description", "bank_transaction_code", "type", "original_amount", "original_currency", "raw"],
    stagingRows(accepted.map((a) => a.record), keys, statementIds),
  );
  const [{ existing }] = await tx.execute<{ existing: number }>(sql`
    select count(*)::int as existing from import_staging s
    where exists (select 1 from canonical_transactions c where c.source_id = ${source.id} and c.dedupe_key = s.dedupe_key)`);
  const newCount = accepted.length - existing;
  const unbalanced = statements.filter((s) => s.balanced === false);

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
  const inserted = await tx.execute(sql`
    insert into canonical_transactions (org_id, source_id, import_id, statement_id, external_id, dedupe_key, booked_date, value_date, amount, currency,
      counterparty_name, counterparty_account, reference, description, bank_transaction_code, type, original_amount, original_currency, raw, parser, parser_version)
    select ${ctx.orgId}, ${source.id}, ${importId}, statement_id, external_id, dedupe_key, booked_date, value_date, amount, currency,
      counterparty_name, counterparty_account, reference, description, bank_transaction_code, type, original_amount, original_currency, raw, ${parsed.format}, ${parsed.parserVersion}
    from import_staging
    on conflict (source_id, dedupe_key) do nothing`);
  // Under the source lock nothing else can have written these keys since the count above.
  if (inserted.count !== newCount) throw new Error(`import ${importId}: expected ${newCount} new lines, wrote ${inserted.count}`);
  // Dropped now, not at commit: one transaction may land several events (an Adyen batch).
  await tx.execute(sql`drop table import_staging`);

  await appendAudit(tx, ctx, [{
    action: "import.completed",
    entityType: "import",
    entityId: importId,
    data: { sourceId: source.id, channel: meta.channel, fileName: meta.fileName, uploadId: meta.uploadId, format: parsed.format, parserVersion: parsed.parserVersion,
            total: parsed.records.length, new: newCount, duplicate: existing, rejected: rejections.length, unbalancedStatements: unbalanced.length },
  }]);

  return {
    importId, format: parsed.format, parserVersion: parsed.parserVersion, total: parsed.records.length, newCount, duplicateCount: existing,
    rejectedCount: rejections.length, rejections: rejections.slice(0, 100), statements, warnings: parsed.warnings,
  };
}

function rejectionOf(r: CanonicalRecord, source: LandingSource): string | null {
  if (r.currency !== source.currency) return `currency ${r.currency} is not the source's currency (${source.currency})`;
  const dot = r.amount.indexOf(".");
  if (dot >= 0 && r.amount.length - dot - 1 > MAX_SCALE) return `amount ${r.amount} has more than ${MAX_SCALE} decimals`;
  if (r.amount.replace(/^-/, "").split(".")[0].length > 16) return `amount ${r.amount} is too large`;
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
  return parsed.statements.map((st, i) => checkStatement(st, byStatement[i]));
}

/** Opening + movements = closing, as the statement states its balances and its lines. */
function checkStatement(st: ParsedFile["statements"][number], records: CanonicalRecord[]): StatementCheck {
  const movements = sum(records.map((r) => r.amount));
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
    lines: records.length,
    balanced: difference ? difference.isZero() : null,
    difference: difference?.toFixed() ?? null,
  };
}

/** PostgreSQL text and jsonb cannot hold NUL characters; a decoded file may (UTF-16 input). */
const clean = (s: string | null): string | null => (s !== null && s.includes("\0") ? s.replaceAll("\0", "\uFFFD") : s);

function* stagingRows(records: CanonicalRecord[], keys: string[], statementIds: string[]): Generator<(string | null)[]> {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    yield [
      clean(keys[i]), clean(r.externalId), r.statementIndex === null ? null : statementIds[r.statementIndex], r.bookedDate, r.valueDate, r.amount, r.currency,
      clean(r.counterpartyName), clean(r.counterpartyAccount), clean(r.reference), clean(r.description), clean(r.bankTransactionCode), r.type,
      r.originalAmount, r.originalCurrency, JSON.stringify(r.raw).replaceAll("\\u0000", "\\ufffd"),
    ];
  }
}
