import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { isoDate } from "@/server/ledger/schemas";
import { money, sum } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { settlingMatchOfLine, settlingMatchOfTransaction } from "./settled";

/**
 * The reconciliation of each bank and payment-provider source against its GL account, as of a
 * date: what the statement says, what the ledger says, and the list of items that explains every
 * cent of the difference. An auditor's bank reconciliation, computed rather than typed.
 *
 * difference = statement balance − ledger balance
 *            = Σ statement lines not reconciled as of the date            (in the bank, not yet in the books)
 *            − Σ ledger lines not reconciled as of the date               (in the books, not yet in the bank)
 *            + Σ (statement side − ledger side) of reconciled matches     (fees, short payments kept inside a match)
 *            + the statement balance the lines do not account for          (opening balance, missing statements)
 * "Reconciled as of" is defined in settled.ts.
 */

export const overviewInput = z.object({ asOf: isoDate });

/**
 * How the statement balance was found. `closing`: the latest statement closing on or before the
 * date, rolled forward by the lines booked after it (the bank's own figure wins over our sum of
 * its lines). `opening`: no statement closed yet, so the earliest opening balance plus the lines
 * from its opening date. `lines`: no balances at all (a CSV export), so the sum of the lines from
 * zero — then the unexplained item is zero by definition, and the page says the basis.
 */
export type StatementBasis = { kind: "closing" | "opening" | "lines"; date: string | null; balance: string | null };

export type ItemGroupKind = "statement_only" | "ledger_only" | "match_differences" | "unexplained";

/** One line of "what explains the difference": a group of items and its signed effect on it. */
export type ItemGroup = { kind: ItemGroupKind; label: string; count: number; total: string };

export type SourceReconciliation = {
  sourceId: string;
  sourceName: string;
  sourceKind: "bank" | "psp";
  currency: string;
  glAccount: { id: string; code: string; name: string };
  asOf: string;
  statementBalance: string;
  statementBasis: StatementBasis;
  ledgerBalance: string;
  difference: string;
  items: ItemGroup[];
  /** Σ of the items' totals; equal to `difference`, checked before it is returned. */
  itemsTotal: string;
  unreconciled: {
    statement: { count: number; amount: string };
    ledger: { count: number; amount: string };
    count: number;
    /** Σ |amount| of both sides' outstanding lines: a gross figure, so a +100 and a −100 do not hide each other. */
    grossAmount: string;
  };
  lastImport: { at: string; fileName: string | null; channel: string; by: string | null } | null;
  lastStatementDate: string | null;
  lineCount: number;
};

export const GROUP_LABELS: Record<ItemGroupKind, string> = {
  statement_only: "In the statement, not (yet) in the ledger",
  ledger_only: "In the ledger, not (yet) in the statement",
  match_differences: "Differences inside matches",
  unexplained: "Unexplained / opening difference",
};

type SourceRow = { id: string; name: string; kind: "bank" | "psp"; currency: string; gl_account_id: string; code: string; account_name: string };

export async function reconciliationOverview(db: Db, ctx: Ctx, raw: z.input<typeof overviewInput>): Promise<SourceReconciliation[]> {
  requirePermission(ctx, "ledger.read");
  const { asOf } = parse(overviewInput, raw);
  return inOrg(db, ctx, async (tx) => {
    const sources = await reconciledSources(tx, ctx.orgId);
    const out: SourceReconciliation[] = [];
    for (const s of sources) out.push(await reconcileSource(tx, ctx.orgId, s, asOf));
    return out;
  });
}

/** One source's reconciliation (the drill-down page's header); another organisation's id is not found. */
export async function sourceReconciliation(db: Db, ctx: Ctx, raw: { sourceId: string; asOf: string }): Promise<SourceReconciliation> {
  requirePermission(ctx, "ledger.read");
  const { asOf } = parse(overviewInput, raw);
  if (!isUuid(raw.sourceId)) throw notFound("The source");
  return inOrg(db, ctx, async (tx) => {
    const [s] = await reconciledSources(tx, ctx.orgId, raw.sourceId);
    if (!s) throw notFound("The source");
    return reconcileSource(tx, ctx.orgId, s, asOf);
  });
}

export function parse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new AppError("validation", "The request is not valid.", fieldErrorsOf(r.error));
  return r.data;
}

/** Bank and provider sources (Xero sources are the ledger's mirror, not a statement). */
export async function reconciledSources(tx: Db, orgId: string, sourceId?: string): Promise<SourceRow[]> {
  return [...(await tx.execute<SourceRow>(sql`
    select s.id, s.name, s.kind, s.currency, s.gl_account_id, a.code, a.name as account_name
    from sources s join accounts a on a.id = s.gl_account_id
    where s.org_id = ${orgId} and s.kind in ('bank', 'psp') and s.archived_at is null ${sourceId ? sql`and s.id = ${sourceId}` : sql``}
    order by s.name, s.id`))];
}

async function reconcileSource(tx: Db, orgId: string, s: SourceRow, asOf: string): Promise<SourceReconciliation> {
  const [agg] = await tx.execute<Totals>(reconciliationTotals(orgId, s, asOf));

  const basis = await statementBasis(tx, orgId, s.id, asOf);
  const statementBalance = money(basis.startingBalance).plus(basis.linesAfter);
  const ledgerBalance = money(agg.ledger_balance);
  const difference = statementBalance.minus(ledgerBalance);

  // What the bank's balance says beyond the lines we hold: its opening balance, lines of statements
  // never imported, or a statement that does not add up. Zero when the basis is the lines themselves.
  const unexplained = statementBalance.minus(agg.ext_total);
  const items: ItemGroup[] = [
    { kind: "statement_only", label: GROUP_LABELS.statement_only, count: agg.ext_out_n, total: money(agg.ext_out_sum).toFixed() },
    { kind: "ledger_only", label: GROUP_LABELS.ledger_only, count: agg.led_out_n, total: money(agg.led_out_sum).neg().toFixed() },
    { kind: "match_differences", label: GROUP_LABELS.match_differences, count: agg.diff_n, total: money(agg.diff_sum).toFixed() },
    { kind: "unexplained", label: GROUP_LABELS.unexplained, count: unexplained.isZero() ? 0 : 1, total: unexplained.toFixed() },
  ];
  const itemsTotal = sum(items.map((i) => i.total));
  // The identity holds only if every line up to the date is either outstanding or inside a
  // reconciled match, exactly once; a query that double-counted or dropped a line would break it.
  if (!itemsTotal.equals(difference)) {
    throw new Error(`reconciliation of source ${s.id} as of ${asOf} does not add up: difference ${difference.toFixed()}, items ${itemsTotal.toFixed()}`);
  }

  const [last] = await tx.execute<{ at: Date; file_name: string | null; channel: string; by: string | null; last_statement: string | null }>(sql`
    select i.imported_at as at, i.file_name, i.channel, u.email as by,
           (select max(st.closing_date)::text from statements st where st.org_id = ${orgId} and st.source_id = ${s.id}) as last_statement
    from (select 1) one
    left join lateral (select * from imports i where i.org_id = ${orgId} and i.source_id = ${s.id} order by i.imported_at desc limit 1) i on true
    left join users u on u.id = i.imported_by`);

  return {
    sourceId: s.id, sourceName: s.name, sourceKind: s.kind, currency: s.currency,
    glAccount: { id: s.gl_account_id, code: s.code, name: s.account_name },
    asOf,
    statementBalance: statementBalance.toFixed(), statementBasis: basis.basis,
    ledgerBalance: ledgerBalance.toFixed(), difference: difference.toFixed(),
    items, itemsTotal: itemsTotal.toFixed(),
    unreconciled: {
      statement: { count: agg.ext_out_n, amount: money(agg.ext_out_sum).toFixed() },
      ledger: { count: agg.led_out_n, amount: money(agg.led_out_sum).toFixed() },
      count: agg.ext_out_n + agg.led_out_n,
      grossAmount: money(agg.ext_out_abs).plus(agg.led_out_abs).toFixed(),
    },
    lastImport: last?.at ? { at: new Date(last.at).toISOString(), fileName: last.file_name, channel: last.channel, by: last.by } : null,
    lastStatementDate: last?.last_statement ?? null,
    lineCount: agg.line_count,
  };
}

type Totals = {
    line_count: number; ext_total: string; ext_out_n: number; ext_out_sum: string; ext_out_abs: string;
    ledger_balance: string; led_out_n: number; led_out_sum: string; led_out_abs: string;
    diff_n: number; diff_sum: string;
  };

/**
 * One pass over each side's records up to the date, each classified by settled.ts's index probes:
 * totals of the whole side, of its outstanding records, and of the reconciled matches' differences.
 * Exported so the scale test can EXPLAIN exactly what the overview runs.
 */
export function reconciliationTotals(orgId: string, s: { id: string; gl_account_id: string }, asOf: string): SQL {
  return sql`
    with ext as materialized (
      select t.amount, k.match_id
      from canonical_transactions t left join lateral (${settlingMatchOfTransaction(asOf)} limit 1) k on true
      where t.org_id = ${orgId} and t.source_id = ${s.id} and t.booked_date <= ${asOf}::date
    ), led as materialized (
      select l.amount, k.match_id
      from journal_lines l left join lateral (${settlingMatchOfLine(asOf, s.id)} limit 1) k on true
      where l.org_id = ${orgId} and l.account_id = ${s.gl_account_id} and l.entry_date <= ${asOf}::date
    ), settled as (
      select match_id, sum(amount) as diff
      from (select match_id, amount from ext where match_id is not null union all select match_id, -amount from led where match_id is not null) x
      group by match_id
    )
    select e.*, g.*, d.*
    from (select count(*)::int as line_count, coalesce(sum(amount), 0)::text as ext_total,
                 count(*) filter (where match_id is null)::int as ext_out_n,
                 coalesce(sum(amount) filter (where match_id is null), 0)::text as ext_out_sum,
                 coalesce(sum(abs(amount)) filter (where match_id is null), 0)::text as ext_out_abs from ext) e,
         (select coalesce(sum(amount), 0)::text as ledger_balance,
                 count(*) filter (where match_id is null)::int as led_out_n,
                 coalesce(sum(amount) filter (where match_id is null), 0)::text as led_out_sum,
                 coalesce(sum(abs(amount)) filter (where match_id is null), 0)::text as led_out_abs from led) g,
         (select count(*) filter (where diff <> 0)::int as diff_n, coalesce(sum(diff), 0)::text as diff_sum from settled) d`;
}

/** The statement balance's anchor (see StatementBasis) and the sum of the lines that roll it forward to the date. */
async function statementBasis(tx: Db, orgId: string, sourceId: string, asOf: string): Promise<{ basis: StatementBasis; startingBalance: string; linesAfter: string }> {
  const lines = async (from: { after: string } | { onOrAfter: string } | null) => {
    const [r] = await tx.execute<{ total: string }>(sql`
      select coalesce(sum(t.amount), 0)::text as total from canonical_transactions t
      where t.org_id = ${orgId} and t.source_id = ${sourceId} and t.booked_date <= ${asOf}::date
        ${from && "after" in from ? sql`and t.booked_date > ${from.after}::date` : sql``}
        ${from && "onOrAfter" in from ? sql`and t.booked_date >= ${from.onOrAfter}::date` : sql``}`);
    return r.total;
  };
  // Ties (a statement imported twice) fall to the latest import, so a corrected re-issue wins.
  const [closing] = await tx.execute<{ date: string; balance: string }>(sql`
    select st.closing_date::text as date, st.closing_balance::text as balance
    from statements st join imports i on i.id = st.import_id
    where st.org_id = ${orgId} and st.source_id = ${sourceId} and st.closing_balance is not null and st.closing_date <= ${asOf}::date
    order by st.closing_date desc, i.imported_at desc, st.id limit 1`);
  if (closing) return { basis: { kind: "closing", date: closing.date, balance: money(closing.balance).toFixed() }, startingBalance: closing.balance, linesAfter: await lines({ after: closing.date }) };
  const [opening] = await tx.execute<{ date: string; balance: string }>(sql`
    select st.opening_date::text as date, st.opening_balance::text as balance
    from statements st join imports i on i.id = st.import_id
    where st.org_id = ${orgId} and st.source_id = ${sourceId} and st.opening_balance is not null and st.opening_date <= ${asOf}::date
    order by st.opening_date, i.imported_at desc, st.id limit 1`);
  if (opening) return { basis: { kind: "opening", date: opening.date, balance: money(opening.balance).toFixed() }, startingBalance: opening.balance, linesAfter: await lines({ onOrAfter: opening.date }) };
  return { basis: { kind: "lines", date: null, balance: null }, startingBalance: "0", linesAfter: await lines(null) };
}
