import { sql, type SQL } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import type { MatchRecord } from "./types";

/**
 * The two sides as the engine sees them. Keys are "ct:<id>" for canonical transactions and
 * "jl:<id>" for ledger lines; both carry the signed cash movement (ledger amount positive = debit
 * = cash in on an asset account, the bank's sign convention too).
 *
 * A payment-provider source matched against a bank source contributes its payout lines only,
 * with the sign turned round: the provider books a payout as money leaving its balance (−X), the
 * bank books the same transfer arriving (+X).
 */

export type RecordKind = "ct" | "jl";
export const recordKey = (kind: RecordKind, id: number | string) => `${kind}:${id}`;
export function parseKey(key: string): { kind: RecordKind; id: string } {
  const [kind, id] = key.split(":");
  if ((kind !== "ct" && kind !== "jl") || !/^\d+$/.test(id ?? "")) throw new Error(`not a record key: ${key}`);
  return { kind, id };
}

export type SourceRow = { id: string; kind: "bank" | "psp" | "xero"; name: string; currency: string; gl_account_id: string; entity_id: string };

type Row = {
  id: string; date: string; amount: string; currency: string; counterparty: string | null; reference: string | null; description: string | null;
  external_id: string | null; kind: string | null; group_key: string | null; source_id: string | null; original_amount: string | null; original_currency: string | null;
};

const toRecord = (prefix: RecordKind) => (r: Row): MatchRecord => ({
  id: `${prefix}:${r.id}`, date: r.date, amount: r.amount, currency: r.currency, counterparty: r.counterparty, reference: r.reference,
  description: r.description, externalId: r.external_id, kind: r.kind, groupKey: r.group_key, sourceId: r.source_id,
  originalAmount: r.original_amount, originalCurrency: r.original_currency,
});

/**
 * A source's canonical transactions dated in [from, to] that are in no active match of this
 * pairing (optionally: only those not already in an active match at all — `free`).
 */
export async function loadTransactions(
  tx: Db,
  orgId: string,
  source: SourceRow,
  range: { from: string; to: string },
  opts: { pairing: "ledger" | "source" | null; payoutsOnly?: boolean; limit?: number },
): Promise<MatchRecord[]> {
  const flip = opts.payoutsOnly ?? false;
  const free: SQL = opts.pairing
    ? sql`and not exists (select 1 from match_members m where m.canonical_transaction_id = t.id and m.pairing = ${opts.pairing} and m.active)`
    : sql``;
  const rows = await tx.execute<Row>(sql`
    select t.id::text, t.booked_date::text as date, ${flip ? sql`(-t.amount)::text` : sql`t.amount::text`} as amount, t.currency,
           t.counterparty_name as counterparty, t.reference, t.description, t.external_id, t.type as kind,
           ${source.kind === "psp" ? sql`t.statement_id::text` : sql`null::text`} as group_key, t.source_id::text,
           t.original_amount::text, t.original_currency
    from canonical_transactions t
    where t.org_id = ${orgId} and t.source_id = ${source.id} and t.booked_date between ${range.from} and ${range.to}
      ${flip ? sql`and t.type = 'payout'` : sql``} ${free}
    ${firstOf(sql`t.booked_date, t.id`, opts.limit)}`);
  return rows.map(toRecord("ct"));
}

/** Ledger lines on a GL account dated in [from, to] that are in no active match (reconciliation adjustments left out). */
export async function loadLedgerLines(tx: Db, orgId: string, accountId: string, range: { from: string; to: string }, opts: { free: boolean; limit?: number }): Promise<MatchRecord[]> {
  const rows = await tx.execute<Row>(sql`
    select l.id::text, l.entry_date::text as date, l.amount::text, l.currency, l.counterparty, l.reference,
           coalesce(l.memo, e.description) as description, null::text as external_id, null::text as kind, null::text as group_key,
           null::text as source_id, null::text as original_amount, null::text as original_currency
    from journal_lines l join journal_entries e on e.id = l.entry_id
    where l.org_id = ${orgId} and l.account_id = ${accountId} and l.entry_date between ${range.from} and ${range.to}
      -- A reconciliation adjustment corrects a difference; it is not a movement to pair (server/exceptions/adjustment-executor.ts).
      and e.source <> 'reconciliation_adjustment'
      ${opts.free ? sql`and not exists (select 1 from match_members m where m.journal_line_id = l.id and m.active)` : sql``}
    ${firstOf(sql`l.entry_date, l.id`, opts.limit)}`);
  return rows.map(toRecord("jl"));
}

/**
 * The earliest `limit` rows by `order`; with no limit, all rows in no order. The engine reads its
 * sides in an order of its own (matchRecords does not depend on input order), so sorting a whole
 * period here would only spill a million rows to disk.
 */
const firstOf = (order: SQL, limit: number | undefined): SQL => (limit ? sql`order by ${order} limit ${limit}` : sql``);

export async function loadSourceRow(tx: Db, orgId: string, sourceId: string): Promise<SourceRow | undefined> {
  const [row] = await tx.execute<SourceRow>(sql`
    select id, kind, name, currency, gl_account_id, entity_id from sources where org_id = ${orgId} and id = ${sourceId} and archived_at is null`);
  return row;
}

/** Calendar days from a date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
