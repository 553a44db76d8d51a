import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { isoDate } from "@/server/ledger/schemas";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { parse, reconciledSources } from "./overview";
import { settlingMatchOfLine, settlingMatchOfTransaction } from "./settled";

/** Which list of the drill-down: lines only the statement has, lines only the ledger has, matches whose sides differ. */
export const ITEM_SIDES = ["statement", "ledger", "matches"] as const;
export type ItemSide = (typeof ITEM_SIDES)[number];

const RANK: Record<ItemSide, number> = { statement: 1, ledger: 2, matches: 3 };

/** A page boundary: the last item's date, list rank and sequence ("2026-03-31.1.1042"). Opaque to the page. */
const CURSOR = /^(\d{4}-\d{2}-\d{2})\.([123])\.(\d{1,18})$/;

export const itemsInput = z.object({
  sourceId: z.string(),
  asOf: isoDate,
  side: z.enum(ITEM_SIDES).optional(),
  limit: z.number().int().min(1).max(500).default(50),
  after: z.string().regex(CURSOR, "Not a page cursor").optional(),
});

export type ReconcilingItem = {
  kind: "statement_only" | "ledger_only" | "match_difference";
  cursor: string;
  /** ct:<id>, jl:<id> or match:<uuid>. */
  key: string;
  date: string;
  /** The record's own amount; for a match, its statement side. */
  amount: string;
  /** For a match: its ledger side. */
  ledgerAmount: string | null;
  /** What the item adds to statement balance − ledger balance. */
  effect: string;
  counterparty: string | null;
  reference: string | null;
  description: string | null;
  /**
   * The active match the record is in, if any. For an outstanding line this is a timing
   * difference: matched, but its counterpart is dated after the as-of date (counterpartDate).
   */
  match: { id: string; status: string; counterpartDate: string | null } | null;
};

export type ItemsPage = { items: ReconcilingItem[]; next: string | null };

/**
 * The reconciling items of one source as of a date, oldest first, keyset-paged on
 * (date, list, sequence): a sequence is the record's id, or for a match its first member's id, so
 * every item has one fixed place in the order and a page never repeats or skips one (no OFFSET).
 * Together with the overview's unexplained remainder, all pages sum to the difference.
 */
export async function reconcilingItems(db: Db, ctx: Ctx, raw: z.input<typeof itemsInput>): Promise<ItemsPage> {
  requirePermission(ctx, "ledger.read");
  const q = parse(itemsInput, raw);
  if (!isUuid(q.sourceId)) throw notFound("The source");
  return inOrg(db, ctx, async (tx) => {
    const [s] = await reconciledSources(tx, ctx.orgId, q.sourceId);
    if (!s) throw notFound("The source");
    const sides = q.side ? [q.side] : [...ITEM_SIDES];
    const c = q.after ? CURSOR.exec(q.after)! : null;
    const after = c ? sql`and (date, rank, seq) > (${c[1]}::date, ${Number(c[2])}::int, ${c[3]}::bigint)` : sql``;
    const branches: SQL[] = [];
    const scope = { orgId: ctx.orgId, sourceId: s.id, accountId: s.gl_account_id, asOf: q.asOf };
    if (sides.includes("statement")) branches.push(statementOnly(scope));
    if (sides.includes("ledger")) branches.push(ledgerOnly(scope));
    if (sides.includes("matches")) branches.push(matchDifferences(scope));
    const rows = await tx.execute<Row>(sql`
      with page as (
        select * from (${sql.join(branches, sql` union all `)}) items
        where true ${after}
        order by date, rank, seq limit ${q.limit + 1}
      )
      select p.rank, p.date::text, p.seq::text, p.key, p.amount::text, p.ledger_amount::text, p.effect::text, p.counterparty, p.reference, p.description,
             a.match_id::text, a.status, a.counterpart_date::text
      from page p
      left join lateral (
        select m.id as match_id, m.status,
               (select max(o.record_date) from match_members o where o.match_id = m.id and o.side <> mm.side) as counterpart_date
        from match_members mm join matches m on m.id = mm.match_id
        where mm.active and ((p.rank = 1 and mm.canonical_transaction_id = p.seq and mm.pairing = 'ledger') or (p.rank = 2 and mm.journal_line_id = p.seq))
        union all
        select m.id, m.status, null from matches m where p.rank = 3 and m.id = p.match_id
        limit 1
      ) a on true
      order by p.date, p.rank, p.seq`);
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit).map(toItem);
    return { items, next: more ? items[items.length - 1].cursor : null };
  });
}

type Scope = { orgId: string; sourceId: string; accountId: string; asOf: string };

type Row = {
  rank: number; date: string; seq: string; key: string; amount: string; ledger_amount: string | null; effect: string;
  counterparty: string | null; reference: string | null; description: string | null;
  match_id: string | null; status: string | null; counterpart_date: string | null;
};

const KIND = { 1: "statement_only", 2: "ledger_only", 3: "match_difference" } as const;

function toItem(r: Row): ReconcilingItem {
  return {
    kind: KIND[r.rank as 1 | 2 | 3], cursor: `${r.date}.${r.rank}.${r.seq}`, key: r.key, date: r.date,
    amount: money(r.amount).toFixed(), ledgerAmount: r.ledger_amount === null ? null : money(r.ledger_amount).toFixed(), effect: money(r.effect).toFixed(),
    counterparty: r.counterparty, reference: r.reference, description: r.description,
    match: r.match_id ? { id: r.match_id, status: r.status!, counterpartDate: r.counterpart_date } : null,
  };
}

// Each branch yields the same columns: rank, date, seq, key, amount, ledger_amount, effect, text fields, match_id.

const statementOnly = (s: Scope) => sql`
  select 1 as rank, t.booked_date as date, t.id as seq, 'ct:' || t.id as key, t.amount, null::numeric as ledger_amount, t.amount as effect,
         t.counterparty_name as counterparty, t.reference, t.description, null::uuid as match_id
  from canonical_transactions t
  where t.org_id = ${s.orgId} and t.source_id = ${s.sourceId} and t.booked_date <= ${s.asOf}::date
    and not exists (${settlingMatchOfTransaction(s.asOf)})`;

const ledgerOnly = (s: Scope) => sql`
  select 2 as rank, l.entry_date as date, l.id as seq, 'jl:' || l.id as key, l.amount, l.amount as ledger_amount, -l.amount as effect,
         l.counterparty, l.reference, coalesce(l.memo, e.description) as description, null::uuid as match_id
  from journal_lines l join journal_entries e on e.id = l.entry_id
  where l.org_id = ${s.orgId} and l.account_id = ${s.accountId} and l.entry_date <= ${s.asOf}::date
    and not exists (${settlingMatchOfLine(s.asOf, s.sourceId)})`;

/**
 * Matches reconciled as of the date whose sides differ, with each side summed from the records
 * themselves (the statement's lines of this source, the ledger's lines on its account), the same
 * way the overview sums them, so the two always agree.
 */
const matchDifferences = (s: Scope) => sql`
  select 3 as rank, max(x.date) as date, min(x.member_id) as seq, 'match:' || x.match_id as key,
         coalesce(sum(x.amount) filter (where x.ext), 0) as amount, coalesce(sum(x.amount) filter (where not x.ext), 0) as ledger_amount,
         coalesce(sum(x.amount) filter (where x.ext), 0) - coalesce(sum(x.amount) filter (where not x.ext), 0) as effect,
         null::text as counterparty, null::text as reference, min(x.description) as description, x.match_id
  from (
    select k.match_id, k.member_id, t.booked_date as date, t.amount, true as ext, coalesce(t.counterparty_name, t.description) as description
    from canonical_transactions t
    join lateral (select q.match_id, (select min(id) from match_members z where z.match_id = q.match_id) as member_id
                  from (${settlingMatchOfTransaction(s.asOf)} limit 1) q) k on true
    where t.org_id = ${s.orgId} and t.source_id = ${s.sourceId} and t.booked_date <= ${s.asOf}::date
    union all
    select k.match_id, k.member_id, l.entry_date, l.amount, false, null
    from journal_lines l
    join lateral (select q.match_id, (select min(id) from match_members z where z.match_id = q.match_id) as member_id
                  from (${settlingMatchOfLine(s.asOf, s.sourceId)} limit 1) q) k on true
    where l.org_id = ${s.orgId} and l.account_id = ${s.accountId} and l.entry_date <= ${s.asOf}::date
  ) x
  group by x.match_id
  having coalesce(sum(x.amount) filter (where x.ext), 0) <> coalesce(sum(x.amount) filter (where not x.ext), 0)`;
