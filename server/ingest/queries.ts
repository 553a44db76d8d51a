import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { DECIMAL_PATTERN } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";

export type ImportRow = {
  id: string;
  sourceId: string;
  sourceName: string;
  channel: string;
  fileName: string | null;
  format: string;
  parserVersion: string;
  newCount: number;
  duplicateCount: number;
  rejectedCount: number;
  statementCount: number;
  unbalancedStatementCount: number;
  importedAt: string;
  importedBy: string | null;
  durationMs: number | null;
};

/** Import history, newest first, for one source or all. */
export async function listImports(db: Db, ctx: Ctx, q: { sourceId?: string; limit?: number } = {}): Promise<ImportRow[]> {
  requirePermission(ctx, "ledger.read");
  if (q.sourceId !== undefined && !isUuid(q.sourceId)) throw notFound("The source");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<ImportRow>(sql`
      select i.id, i.source_id as "sourceId", s.name as "sourceName", i.channel, i.file_name as "fileName", i.format, i.parser_version as "parserVersion",
             i.new_count as "newCount", i.duplicate_count as "duplicateCount", i.rejected_count as "rejectedCount",
             i.statement_count as "statementCount", i.unbalanced_statement_count as "unbalancedStatementCount",
             i.imported_at as "importedAt", u.email as "importedBy", i.duration_ms as "durationMs"
      from imports i join sources s on s.id = i.source_id left join users u on u.id = i.imported_by
      where i.org_id = ${ctx.orgId} ${q.sourceId ? sql`and i.source_id = ${q.sourceId}` : sql``}
      order by i.imported_at desc limit ${Math.min(q.limit ?? 50, 500)}`)),
  ]);
}

export type ImportDetail = ImportRow & {
  rejections: { line: number | null; reason: string }[];
  warnings: string[];
  statements: { id: string; statementRef: string | null; account: string | null; currency: string; openingDate: string | null; openingBalance: string | null; closingDate: string | null; closingBalance: string | null; movements: string; lineCount: number; balanced: boolean | null }[];
};

export async function getImport(db: Db, ctx: Ctx, id: string): Promise<ImportDetail> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(id)) throw notFound("The import");
  return inOrg(db, ctx, async (tx) => {
    const [row] = await tx.execute<ImportDetail>(sql`
      select i.id, i.source_id as "sourceId", s.name as "sourceName", i.channel, i.file_name as "fileName", i.format, i.parser_version as "parserVersion",
             i.new_count as "newCount", i.duplicate_count as "duplicateCount", i.rejected_count as "rejectedCount",
             i.statement_count as "statementCount", i.unbalanced_statement_count as "unbalancedStatementCount",
             i.imported_at as "importedAt", u.email as "importedBy", i.duration_ms as "durationMs", i.rejections, i.warnings
      from imports i join sources s on s.id = i.source_id left join users u on u.id = i.imported_by
      where i.org_id = ${ctx.orgId} and i.id = ${id}`);
    if (!row) throw notFound("The import");
    const statements = await tx.execute<ImportDetail["statements"][number]>(sql`
      select id, statement_ref as "statementRef", account, currency, opening_date as "openingDate", opening_balance::text as "openingBalance",
             closing_date as "closingDate", closing_balance::text as "closingBalance", movements::text as movements, line_count as "lineCount", balanced
      from statements where org_id = ${ctx.orgId} and import_id = ${id} order by closing_date nulls last, statement_ref`);
    return { ...row, statements: [...statements] };
  });
}

export type TransactionRow = {
  id: number;
  bookedDate: string;
  valueDate: string | null;
  amount: string;
  currency: string;
  type: string;
  counterpartyName: string | null;
  counterpartyAccount: string | null;
  reference: string | null;
  description: string | null;
  externalId: string | null;
  bankTransactionCode: string | null;
  importId: string;
};

export type TransactionPage = { rows: TransactionRow[]; total: number; page: number; pageSize: number };

/**
 * One source's canonical transactions, newest first. The search matches counterparty, reference,
 * description and external id (case-insensitive), or the exact amount when the query is a number.
 */
export async function listTransactions(
  db: Db,
  ctx: Ctx,
  q: { sourceId: string; search?: string; from?: string; to?: string; page?: number; pageSize?: number },
): Promise<TransactionPage> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(q.sourceId)) throw notFound("The source");
  const pageSize = Math.min(Math.max(q.pageSize ?? 50, 1), 200);
  const page = Math.max(q.page ?? 1, 1);
  const search = q.search?.trim() ?? "";
  const amount = search.replace(/,/g, "");
  const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const where = sql`t.org_id = ${ctx.orgId} and t.source_id = ${q.sourceId}
    ${q.from ? sql`and t.booked_date >= ${q.from}` : sql``}
    ${q.to ? sql`and t.booked_date <= ${q.to}` : sql``}
    ${search
      ? DECIMAL_PATTERN.test(amount)
        ? sql`and (t.amount = ${amount}::numeric or t.amount = -${amount}::numeric)`
        : sql`and (t.counterparty_name ilike ${like} or t.reference ilike ${like} or t.description ilike ${like} or t.external_id ilike ${like})`
      : sql``}`;
  return inOrg(db, ctx, async (tx) => {
    const [source] = await tx.execute(sql`select 1 from sources where org_id = ${ctx.orgId} and id = ${q.sourceId}`);
    if (!source) throw notFound("The source");
    const [{ total }] = await tx.execute<{ total: number }>(sql`select count(*)::int as total from canonical_transactions t where ${where}`);
    const rows = await tx.execute<TransactionRow>(sql`
      select t.id::int as id, t.booked_date as "bookedDate", t.value_date as "valueDate", t.amount::text as amount, t.currency, t.type,
             t.counterparty_name as "counterpartyName", t.counterparty_account as "counterpartyAccount", t.reference, t.description,
             t.external_id as "externalId", t.bank_transaction_code as "bankTransactionCode", t.import_id as "importId"
      from canonical_transactions t where ${where}
      order by t.booked_date desc, t.id desc limit ${pageSize} offset ${(page - 1) * pageSize}`);
    return { rows: [...rows], total, page, pageSize };
  });
}
