import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import type { PeriodRef } from "./open-period";

export type Blocker = { label: string; href: string };
export type ChecklistItem = { key: string; label: string; ok: boolean; detail: string; blockers: Blocker[] };
export type PeriodCheck = (tx: Db, orgId: string, period: PeriodRef) => Promise<ChecklistItem>;

const MAX_BLOCKERS = 20;
const more = (n: number, shown: number) => (n > shown ? ` (first ${shown} shown)` : "");

/** Sources of the entity that were in use at the period end (not archived before it). */
const entitySources = (orgId: string, p: PeriodRef) => sql`
  select s.id, s.name from sources s
  where s.org_id = ${orgId} and s.entity_id = ${p.entityId} and (s.archived_at is null or s.archived_at::date > ${p.endsOn})`;

/**
 * Every source reconciled to the period end: no unmatched item (external or ledger side) dated on
 * or before it waits unresolved. Matching raises those exceptions and closes them as items tie
 * out; a person resolves the rest (explained, written off, adjusted). A snoozed one still counts.
 */
export const sourcesReconciled: PeriodCheck = async (tx, orgId, p) => {
  const rows = await tx.execute<{ id: string; source_id: string; source_name: string; title: string; n: number }>(sql`
    with src as (${entitySources(orgId, p)})
    select x.id, x.source_id, src.name as source_name, x.title, count(*) over ()::int as n
    from exceptions x join src on src.id = x.source_id
    where x.org_id = ${orgId} and x.kind in ('unmatched_transaction', 'unmatched_ledger_line') and x.status <> 'resolved' and x.occurred_on <= ${p.endsOn}
    order by x.occurred_on, x.id limit ${MAX_BLOCKERS}`);
  const n = rows[0]?.n ?? 0;
  return {
    key: "sources_reconciled",
    label: `Every source reconciled to ${p.endsOn}`,
    ok: n === 0,
    detail: n === 0 ? "No unexplained unmatched items dated on or before the period end." : `${n} unmatched item(s) dated on or before ${p.endsOn} without an explanation${more(n, rows.length)}.`,
    blockers: rows.map((r) => ({ label: `${r.source_name}: ${r.title}`, href: `/exceptions/${r.id}` })),
  };
};

/** Every source has been imported through the period end: its latest statement or line reaches it. */
export const sourcesImportedThroughPeriodEnd: PeriodCheck = async (tx, orgId, p) => {
  const rows = await tx.execute<{ id: string; name: string; last: string | null }>(sql`
    with src as (${entitySources(orgId, p)})
    select src.id, src.name, greatest(
      (select max(s.closing_date) from statements s where s.source_id = src.id),
      (select max(c.booked_date) from canonical_transactions c where c.source_id = src.id))::text as last
    from src order by src.name`);
  const behind = rows.filter((r) => r.last === null || r.last < p.endsOn);
  return {
    key: "sources_imported",
    label: `Every source imported through ${p.endsOn}`,
    ok: behind.length === 0,
    detail: rows.length === 0 ? "The entity has no sources." : behind.length === 0 ? `${rows.length} source(s) have statements or lines through the period end.` : `${behind.length} source(s) stop before the period end.`,
    blockers: behind.map((r) => ({ label: `${r.name}: ${r.last ? `latest data ${r.last}` : "nothing imported"}`, href: `/sources/${r.id}` })),
  };
};

/** No open high or critical exception on the entity's sources (or naming the entity). */
export const noOpenSevereExceptions: PeriodCheck = async (tx, orgId, p) => {
  const rows = await tx.execute<{ id: string; title: string; severity: string; source_id: string | null; n: number }>(sql`
    with src as (${entitySources(orgId, p)})
    select x.id, x.title, x.severity, x.source_id, count(*) over ()::int as n from exceptions x
    where x.org_id = ${orgId} and x.status <> 'resolved' and x.severity in ('high', 'critical')
      and (x.source_id in (select id from src) or x.details->>'entityId' = ${p.entityId})
    order by x.severity desc, x.raised_at limit ${MAX_BLOCKERS}`);
  const n = rows[0]?.n ?? 0;
  return {
    key: "severe_exceptions",
    label: "No open high or critical exceptions",
    ok: n === 0,
    detail: n === 0 ? "None open." : `${n} open${more(n, rows.length)}.`,
    blockers: rows.map((r) => ({ label: `${r.severity}: ${r.title}`, href: `/exceptions/${r.id}` })),
  };
};

/** No approval request pending for something dated in the period. */
export const noPendingApprovals: PeriodCheck = async (tx, orgId, p) => {
  const rows = await tx.execute<{ id: string; summary: string; n: number }>(sql`
    select id, summary, count(*) over ()::int as n from approval_requests
    where org_id = ${orgId} and status = 'pending' and expires_at > now() and entity_id = ${p.entityId}
      and effective_date between ${p.startsOn} and ${p.endsOn}
    order by created_at limit ${MAX_BLOCKERS}`);
  const n = rows[0]?.n ?? 0;
  return {
    key: "pending_approvals",
    label: "No pending approvals dated in the period",
    ok: n === 0,
    detail: n === 0 ? "Nothing waits for approval." : `${n} request(s) wait${more(n, rows.length)}.`,
    blockers: rows.map((r) => ({ label: r.summary, href: `/approvals/${r.id}` })),
  };
};

/**
 * The checklist, in order. Balance checks and FX revaluation join here as named checks when they
 * exist; matching replaces sources_reconciled with its own by the same key.
 */
export const PERIOD_CHECKS: PeriodCheck[] = [sourcesReconciled, sourcesImportedThroughPeriodEnd, noOpenSevereExceptions, noPendingApprovals];

export async function computeChecklist(tx: Db, orgId: string, period: PeriodRef, checks = PERIOD_CHECKS): Promise<ChecklistItem[]> {
  const items: ChecklistItem[] = [];
  for (const check of checks) items.push(await check(tx, orgId, period));
  return items;
}
