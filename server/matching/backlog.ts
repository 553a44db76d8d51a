import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";

/**
 * The sources Tieout reconciles on its own — after each delivery and nightly. A Xero source is not
 * among them: Xero's bank transactions are another book's view of the same money, reconciled when
 * a person asks for it (there is no ledger of Xero's own here to tie them to).
 */
export const RECONCILED_SOURCE_KINDS = ["bank", "psp"] as const;
/** `kind in (...)` over `sources.kind`, for queries that pick the reconciled sources. */
export const isReconciledSourceKind = sql.raw(`kind in (${RECONCILED_SOURCE_KINDS.map((k) => `'${k}'`).join(", ")})`);

export type BacklogRange = { from: string; to: string };

/**
 * Adds the booked dates of lines that just landed to the source's backlog, inside the landing's
 * transaction: if the landing commits, the promise of a reconciliation run over them commits with
 * it. The range only widens; a source of a kind not reconciled automatically gets none.
 */
export async function widenMatchingBacklog(tx: Db, orgId: string, sourceId: string, range: BacklogRange): Promise<void> {
  await tx.execute(sql`
    insert into matching_backlog (org_id, source_id, date_from, date_to)
    select org_id, id, ${range.from}::date, ${range.to}::date from sources
    where org_id = ${orgId} and id = ${sourceId} and ${isReconciledSourceKind} and archived_at is null
    on conflict (source_id) do update set
      date_from = least(matching_backlog.date_from, excluded.date_from),
      date_to = greatest(matching_backlog.date_to, excluded.date_to)`);
}

/**
 * Takes the source's whole backlog for one run (the row is gone once the caller commits): lines
 * landing meanwhile start a new range, which the next run takes.
 */
export async function takeMatchingBacklog(tx: Db, orgId: string, sourceId: string): Promise<BacklogRange | null> {
  const [row] = await tx.execute<{ from: string; to: string }>(sql`
    delete from matching_backlog where org_id = ${orgId} and source_id = ${sourceId}
    returning date_from::text as from, date_to::text as to`);
  return row ?? null;
}

/** The organisation's sources with dates waiting for a run (what a restarted process picks up). */
export async function sourcesWithBacklog(tx: Db, orgId: string): Promise<string[]> {
  const rows = await tx.execute<{ source_id: string }>(sql`select source_id from matching_backlog where org_id = ${orgId} order by since, source_id`);
  return rows.map((r) => r.source_id);
}
