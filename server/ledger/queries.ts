import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { money, sum } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";

export type EntityRef = { id: string; name: string; functionalCurrency: string; timeZone: string };

export async function listEntities(db: Db, ctx: Ctx): Promise<EntityRef[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, (tx) =>
    tx.execute<EntityRef>(sql`select id, name, functional_currency as "functionalCurrency", time_zone as "timeZone" from entities where org_id = ${ctx.orgId} order by name`),
  ).then((r) => [...r]);
}

export type AccountRef = { id: string; entityId: string; code: string; name: string; type: string; normalBalance: string; currency: string; isControl: boolean; isActive: boolean };

export async function listAccounts(db: Db, ctx: Ctx, entityId?: string): Promise<AccountRef[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, (tx) =>
    tx.execute<AccountRef>(sql`
      select id, entity_id as "entityId", code, name, type, normal_balance as "normalBalance", currency, is_control as "isControl", is_active as "isActive"
      from accounts where org_id = ${ctx.orgId} ${entityId && isUuid(entityId) ? sql`and entity_id = ${entityId}` : sql``} order by code`),
  ).then((r) => [...r]);
}

export type TrialBalanceRow = { accountId: string; code: string; name: string; type: string; debit: string; credit: string; balance: string };
export type TrialBalance = { entity: EntityRef; asOf: string; rows: TrialBalanceRow[]; totalDebit: string; totalCredit: string; difference: string };

/** Every account's functional balance as of a date (inclusive), split into debit and credit columns. */
export async function trialBalance(db: Db, ctx: Ctx, q: { entityId: string; asOf: string }): Promise<TrialBalance> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(q.entityId)) throw notFound("The entity");
  return inOrg(db, ctx, async (tx) => {
    const [entity] = await tx.execute<EntityRef>(sql`select id, name, functional_currency as "functionalCurrency", time_zone as "timeZone" from entities where org_id = ${ctx.orgId} and id = ${q.entityId}`);
    if (!entity) throw notFound("The entity");
    const rows = await tx.execute<{ id: string; code: string; name: string; type: string; balance: string }>(sql`
      select a.id, a.code, a.name, a.type, b.balance::text as balance
      from accounts a
      join (select account_id, sum(functional_amount) as balance from journal_lines
            where org_id = ${ctx.orgId} and entity_id = ${q.entityId} and entry_date <= ${q.asOf}
            group by account_id) b on b.account_id = a.id
      where a.org_id = ${ctx.orgId}
      order by a.code`);
    const out = rows.map((r) => {
      const b = money(r.balance);
      return { accountId: r.id, code: r.code, name: r.name, type: r.type, balance: b.toFixed(), debit: b.isPos() ? b.toFixed() : "0", credit: b.isNeg() ? b.neg().toFixed() : "0" };
    });
    const totalDebit = sum(out.map((r) => r.debit));
    const totalCredit = sum(out.map((r) => r.credit));
    return { entity, asOf: q.asOf, rows: out, totalDebit: totalDebit.toFixed(), totalCredit: totalCredit.toFixed(), difference: totalDebit.minus(totalCredit).toFixed() };
  });
}

export type AccountLedgerLine = {
  entryId: string; entryNumber: number; entryDate: string; description: string; memo: string | null; counterparty: string | null; reference: string | null;
  amount: string; currency: string; functionalAmount: string; runningBalance: string;
};

/** An account's lines in a date range with the running functional balance, starting from the opening balance. */
export async function accountLedger(db: Db, ctx: Ctx, q: { accountId: string; from: string; to: string; limit?: number }) {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(q.accountId)) throw notFound("The account");
  const limit = Math.min(q.limit ?? 1000, 5000);
  return inOrg(db, ctx, async (tx) => {
    const [account] = await tx.execute<AccountRef & { entityName: string; functionalCurrency: string }>(sql`
      select a.id, a.entity_id as "entityId", a.code, a.name, a.type, a.normal_balance as "normalBalance", a.currency, a.is_control as "isControl", a.is_active as "isActive",
             e.name as "entityName", e.functional_currency as "functionalCurrency"
      from accounts a join entities e on e.id = a.entity_id where a.org_id = ${ctx.orgId} and a.id = ${q.accountId}`);
    if (!account) throw notFound("The account");
    const [opening] = await tx.execute<{ balance: string }>(sql`
      select coalesce(sum(functional_amount), 0)::text as balance from journal_lines where org_id = ${ctx.orgId} and account_id = ${q.accountId} and entry_date < ${q.from}`);
    const lines = await tx.execute<AccountLedgerLine>(sql`
      select l.entry_id as "entryId", e.entry_number as "entryNumber", l.entry_date::text as "entryDate", e.description, l.memo, l.counterparty, l.reference,
             l.amount::text as amount, l.currency, l.functional_amount::text as "functionalAmount",
             (${opening.balance}::numeric + sum(l.functional_amount) over (order by l.entry_date, e.entry_number, l.line_no rows unbounded preceding))::text as "runningBalance"
      from journal_lines l join journal_entries e on e.id = l.entry_id
      where l.org_id = ${ctx.orgId} and l.account_id = ${q.accountId} and l.entry_date between ${q.from} and ${q.to}
      order by l.entry_date, e.entry_number, l.line_no
      limit ${limit + 1}`);
    const shown = lines.slice(0, limit).map((l) => ({ ...l, entryNumber: Number(l.entryNumber) }));
    const closing = shown.length ? shown[shown.length - 1].runningBalance : opening.balance;
    return { account, from: q.from, to: q.to, openingBalance: opening.balance, closingBalance: closing, lines: shown, truncated: lines.length > limit };
  });
}

export type JournalEntryDetail = {
  id: string; entityId: string; entityName: string; functionalCurrency: string; entryNumber: number; entryDate: string; description: string;
  source: string; idempotencyKey: string; postedByLabel: string; postedAt: string;
  reverses: { id: string; entryNumber: number } | null; reversedBy: { id: string; entryNumber: number } | null;
  lines: { lineNo: number; accountId: string; accountCode: string; accountName: string; amount: string; currency: string; rate: string; functionalAmount: string; memo: string | null; counterparty: string | null; reference: string | null; dimensions: Record<string, string> }[];
};

/** One entry with its lines and its reversal links. An id of another organisation is not found. */
export async function getJournalEntry(db: Db, ctx: Ctx, id: string): Promise<JournalEntryDetail> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(id)) throw notFound("The journal entry");
  return inOrg(db, ctx, async (tx) => {
    const [e] = await tx.execute<Omit<JournalEntryDetail, "lines" | "reverses" | "reversedBy"> & { reversesId: string | null }>(sql`
      select j.id, j.entity_id as "entityId", en.name as "entityName", en.functional_currency as "functionalCurrency", j.entry_number as "entryNumber",
             j.entry_date::text as "entryDate", j.description, j.source, j.idempotency_key as "idempotencyKey", j.posted_by_label as "postedByLabel",
             j.posted_at as "postedAt", j.reverses_entry_id as "reversesId"
      from journal_entries j join entities en on en.id = j.entity_id where j.org_id = ${ctx.orgId} and j.id = ${id}`);
    if (!e) throw notFound("The journal entry");
    const lines = await tx.execute<JournalEntryDetail["lines"][number]>(sql`
      select l.line_no as "lineNo", l.account_id as "accountId", a.code as "accountCode", a.name as "accountName", l.amount::text as amount, l.currency,
             l.rate::text as rate, l.functional_amount::text as "functionalAmount", l.memo, l.counterparty, l.reference, l.dimensions
      from journal_lines l join accounts a on a.id = l.account_id where l.org_id = ${ctx.orgId} and l.entry_id = ${id} order by l.line_no`);
    const links = await tx.execute<{ id: string; entry_number: string; kind: string }>(sql`
      select id, entry_number, 'reversedBy' as kind from journal_entries where org_id = ${ctx.orgId} and reverses_entry_id = ${id}
      union all
      select id, entry_number, 'reverses' from journal_entries where org_id = ${ctx.orgId} and id = ${e.reversesId}`);
    const link = (kind: string) => {
      const l = links.find((x) => x.kind === kind);
      return l ? { id: l.id, entryNumber: Number(l.entry_number) } : null;
    };
    const { reversesId: _r, ...rest } = e;
    return { ...rest, entryNumber: Number(e.entryNumber), postedAt: new Date(e.postedAt).toISOString(), reverses: link("reverses"), reversedBy: link("reversedBy"), lines: [...lines] };
  });
}

export type EntrySummary = { id: string; entryNumber: number; entryDate: string; description: string; source: string; total: string; reversed: boolean };

/** Recent entries of an entity, newest first, keyset-paged by entry number. */
export async function listJournalEntries(db: Db, ctx: Ctx, q: { entityId: string; beforeNumber?: number; limit?: number }): Promise<EntrySummary[]> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(q.entityId)) throw notFound("The entity");
  const limit = Math.min(q.limit ?? 25, 200);
  return inOrg(db, ctx, async (tx) => {
    const rows = await tx.execute<EntrySummary & { entryNumber: string }>(sql`
      select j.id, j.entry_number as "entryNumber", j.entry_date::text as "entryDate", j.description, j.source,
             (select sum(functional_amount) from journal_lines l where l.entry_id = j.id and l.functional_amount > 0)::text as total,
             exists(select 1 from journal_entries r where r.org_id = j.org_id and r.reverses_entry_id = j.id) as reversed
      from journal_entries j
      where j.org_id = ${ctx.orgId} and j.entity_id = ${q.entityId} ${q.beforeNumber ? sql`and j.entry_number < ${q.beforeNumber}` : sql``}
      order by j.entry_number desc limit ${limit}`);
    return rows.map((r) => ({ ...r, entryNumber: Number(r.entryNumber) }));
  });
}
