import { sql, type SQL } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import type { Ctx } from "@/server/tenancy/context";

/**
 * The one way runs and sweeps raise exceptions: a set of candidates (one per kind and subject)
 * becomes one INSERT … SELECT … ON CONFLICT on the partial unique index of unresolved exceptions,
 * so a candidate whose subject already has an unresolved exception refreshes it (same id, a
 * snoozed one stays snoozed, a person's assignee stays) and any other raises a new one. Severity
 * comes from the organisation's policy in SQL (exception_severity), the one place it is worked out.
 *
 * A person's decision sticks: a subject whose latest exception of the kind was resolved as
 * explained, written off or adjusted is not raised again — the accountant dealt with it, and the
 * next run must not undo that. After matched, excluded or cleared (a match that was later undone,
 * a rule that was removed) the disagreement is new and is raised again.
 */

/** Kinds raised through here; their severity follows the policy as they age (sweepExceptionClock). */
export const POLICY_SEVERITY_KINDS = ["unmatched_transaction", "unmatched_ledger_line", "amount_mismatch", "possible_duplicate", "stale_source"] as const;
export type RaisedKind = (typeof POLICY_SEVERITY_KINDS)[number];

/** Resolutions only a person gives, that a run must respect. */
export const STICKY_RESOLUTIONS = ["explained", "written_off", "adjusted"] as const;

export type ExceptionCandidate = {
  kind: RaisedKind;
  /** 'ct:<id>', 'jl:<id>', 'match:<uuid>', 'source:<uuid>'. */
  subjectKey: string;
  sourceId: string | null;
  /** Decimal string; null when the disagreement has no amount (a stale source). */
  amount: string | null;
  currency: string | null;
  /** The record's date, yyyy-mm-dd: the exception's age counts from it. */
  occurredOn: string;
  title: string;
  details: Record<string, unknown>;
  canonicalTransactionId?: string | null;
  journalLineId?: string | null;
  matchId?: string | null;
  /** Suggested by a rule; a person's assignment on an existing exception wins. */
  assigneeId?: string | null;
};

export type RaiseCounts = { raised: number; refreshed: number };

/** Titles are shown in lists and searched; a very long counterparty must not make them unreadable. */
const TITLE_MAX = 300;

/**
 * The candidates query's columns, in this order and these types:
 * kind text, subject_key text, source_id uuid, amount numeric, currency text, occurred_on date,
 * title text, details jsonb, ct_id bigint, jl_id bigint, match_id uuid, assignee uuid.
 * Each (kind, subject_key) at most once.
 */
export async function raiseExceptionsFrom(tx: Db, ctx: Ctx, today: string, candidates: SQL): Promise<RaiseCounts> {
  const [counts] = await tx.execute<{ raised: number; refreshed: number }>(sql`
    with candidate as (${candidates}),
    upserted as (
      insert into exceptions (org_id, kind, severity, title, subject_key, source_id, amount, currency, details, occurred_on,
                              canonical_transaction_id, journal_line_id, match_id, assignee_id)
      select ${ctx.orgId}, c.kind, exception_severity(c.amount, c.occurred_on, ${today}::date, p), left(c.title, ${TITLE_MAX}), c.subject_key, c.source_id,
             c.amount, c.currency, c.details, c.occurred_on, c.ct_id, c.jl_id, c.match_id, c.assignee
      from candidate c cross join exception_policies p
      where p.org_id = ${ctx.orgId}
        and not exists (
          -- The subject's latest exception of the kind (index exceptions_subject_history_idx), if a person settled it.
          select 1 from (
            select x.status, x.resolution from exceptions x
            where x.org_id = ${ctx.orgId} and x.kind = c.kind and x.subject_key = c.subject_key
            order by x.raised_at desc, x.id desc limit 1
          ) latest
          where latest.status = 'resolved' and latest.resolution in (${sql.join(STICKY_RESOLUTIONS.map((r) => sql`${r}`), sql`, `)}))
      on conflict (org_id, kind, subject_key) where status <> 'resolved' and subject_key is not null
      do update set severity = excluded.severity, title = excluded.title, details = excluded.details, amount = excluded.amount,
                    currency = excluded.currency, occurred_on = excluded.occurred_on,
                    assignee_id = coalesce(exceptions.assignee_id, excluded.assignee_id)
      returning (xmax = 0) as inserted)
    select (count(*) filter (where inserted))::int as raised, (count(*) filter (where not inserted))::int as refreshed from upserted`);
  return counts;
}

const STAGE_COLUMNS = ["kind", "subject_key", "source_id", "amount", "currency", "occurred_on", "title", "details", "ct_id", "jl_id", "match_id", "assignee"] as const;

/**
 * Candidates worked out in TypeScript (a run's unmatched records and proposals): streamed into a
 * temporary table with COPY (row-level security forbids COPY into exceptions itself), then
 * raised in one statement.
 */
export async function raiseExceptions(tx: Db, ctx: Ctx, today: string, candidates: readonly ExceptionCandidate[]): Promise<RaiseCounts> {
  if (candidates.length === 0) return { raised: 0, refreshed: 0 };
  await tx.execute(sql.raw(`create temp table exception_stage (kind text, subject_key text, source_id uuid, amount numeric, currency text, occurred_on date,
    title text, details jsonb, ct_id bigint, jl_id bigint, match_id uuid, assignee uuid) on commit drop`));
  await copyRows(tx, "exception_stage", STAGE_COLUMNS, candidates.map((c) => [
    c.kind, c.subjectKey, c.sourceId, c.amount, c.currency, c.occurredOn, c.title, JSON.stringify(c.details),
    c.canonicalTransactionId ?? null, c.journalLineId ?? null, c.matchId ?? null, c.assigneeId ?? null,
  ]));
  // A temp table has no statistics: without them the planner guesses a handful of rows and probes per row anyway.
  await tx.execute(sql.raw(`analyze exception_stage`));
  const counts = await raiseExceptionsFrom(tx, ctx, today, sql.raw(`select ${STAGE_COLUMNS.join(", ")} from exception_stage`));
  await tx.execute(sql.raw(`drop table exception_stage`));
  return counts;
}
