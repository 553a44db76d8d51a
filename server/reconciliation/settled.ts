import { sql, type SQL } from "drizzle-orm";

/**
 * When is a record reconciled "as of" a date? When it sits in an active ledger match whose every
 * member (both sides) is dated on or before that date. A bank line of 31 March matched to a ledger
 * line of 1 April is reconciled as of 1 April, but as of 31 March it is a timing difference: in
 * the bank, not yet in the ledger. So the question is asked per record and per date, never stored.
 *
 * Each fragment below yields the settling match's id (or nothing) for one record, as a probe on
 * the partial unique index of active members (match_members_one_active_transaction / _line: the
 * `active` literal and the equality on the record id imply the index predicate), then a probe on
 * match_members_match_idx for the match's other members. Both are index lookups per record, so
 * the cost grows with the records dated up to the as-of date, not with the size of match_members.
 */

/** The settling match of canonical transaction `t` (alias) as of `asOf`, or no row. */
export const settlingMatchOfTransaction = (asOf: string): SQL => sql`
  select mm.match_id from match_members mm
  where mm.canonical_transaction_id = t.id and mm.pairing = 'ledger' and mm.active
    and not exists (select 1 from match_members o where o.match_id = mm.match_id and o.record_date > ${asOf}::date)`;

/**
 * The settling match of journal line `l` (alias) as of `asOf`, or no row. Only matches of this
 * source count: were two sources ever tied to one GL account, a line matched to the other
 * source's statement is, from this source's point of view, still outstanding.
 */
export const settlingMatchOfLine = (asOf: string, sourceId: string): SQL => sql`
  select mm.match_id from match_members mm join matches m on m.id = mm.match_id
  where mm.journal_line_id = l.id and mm.active and m.source_id = ${sourceId}
    and not exists (select 1 from match_members o where o.match_id = mm.match_id and o.record_date > ${asOf}::date)`;
