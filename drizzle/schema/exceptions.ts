import { sql } from "drizzle-orm";
import { bigint, check, date, foreignKey, index, integer, jsonb, numeric, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { organisations, users } from "./identity";
import { accounts } from "./ledger";
import { sources, statements } from "./ingest";

const money = (name: string) => numeric(name, { precision: 20, scale: 4 });

/**
 * A disagreement a person must look at. Ingestion, matching, sync and scheduled sweeps raise them;
 * each names its subject (`ct:12`, `jl:34`, `match:<uuid>`, `source:<uuid>`), and at most one
 * exception per kind and subject is unresolved at a time, so a re-run refreshes it instead of
 * raising another and closes it when its subject ties out. Never deleted: resolving and reopening
 * are status changes, each written to exception_events by the database itself.
 */
export const exceptions = pgTable(
  "exceptions",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    kind: text().notNull(),
    /** open → snoozed → open (the snooze ends) → resolved → open (reopened). */
    status: text().notNull().default("open"),
    severity: text().notNull(),
    /** 0 critical … 3 low: the queue sorts worst first on an index. */
    severityRank: smallint().generatedAlwaysAs(sql`case severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end`),
    title: text().notNull(),
    subjectKey: text(),
    sourceId: uuid().references(() => sources.id),
    statementId: uuid().references(() => statements.id),
    amount: money("amount"),
    /**
     * |amount| in ten-thousandths (the column's scale), 0 without an amount: the queue's amount sort
     * and range filter. A bigint, not numeric, because bigint comparison is leakproof, so PostgreSQL
     * may use it in an index condition under row-level security (numeric's is not, and a deep page
     * would then filter row by row). Amounts beyond 900 trillion sort together at the cap.
     */
    amountSort: bigint({ mode: "number" }).generatedAlwaysAs(sql`(least(coalesce(abs(amount), 0), 900000000000000) * 10000)::bigint`),
    currency: text(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    /** The day the disagreement's record happened (a bank line's date): what its age counts from. */
    occurredOn: date().notNull().default(sql`current_date`),
    raisedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Set by the database from the organisation's SLA for the severity (trigger exceptions_due). */
    dueAt: timestamp({ withTimezone: true }),
    /** Matching: the canonical transaction that found no match (kind unmatched_transaction, possible_duplicate). */
    canonicalTransactionId: bigint({ mode: "number" }),
    /** Matching: the ledger line that found no match (kind unmatched_ledger_line). */
    journalLineId: bigint({ mode: "number" }),
    /** Matching: the proposed match whose sides disagree (kind amount_mismatch). */
    matchId: uuid(),
    assigneeId: uuid().references(() => users.id),
    snoozedUntil: timestamp({ withTimezone: true }),
    resolution: text(),
    reasonCode: text(),
    resolutionNote: text(),
    resolvedBy: uuid().references(() => users.id),
    resolvedAt: timestamp({ withTimezone: true }),
    /** Lower-cased title, counterparty and reference: the queue's text filter (trigram index). */
    searchText: text().generatedAlwaysAs(sql`lower(title || ' ' || coalesce(details->>'counterparty', '') || ' ' || coalesce(details->>'reference', ''))`),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Keyset pagination: one index per sort order, each ending in id so a page boundary is exact.
    index("exceptions_queue_priority_idx").on(t.orgId, t.status, t.severityRank, t.dueAt, t.id),
    index("exceptions_queue_amount_idx").on(t.orgId, t.status, t.amountSort, t.id),
    index("exceptions_queue_age_idx").on(t.orgId, t.status, t.occurredOn, t.id),
    index("exceptions_queue_raised_idx").on(t.orgId, t.status, t.raisedAt, t.id),
    // Text search within one organisation (btree_gin puts org_id in the same index): read through
    // exception_search_ids, since row-level security keeps LIKE off any index (migration 0015).
    index("exceptions_search_idx").using("gin", t.orgId, sql`${t.searchText} gin_trgm_ops`),
    index("exceptions_snoozed_idx").on(t.orgId, t.snoozedUntil).where(sql`${t.status} = 'snoozed'`),
    index("exceptions_ct_idx").on(t.canonicalTransactionId).where(sql`${t.canonicalTransactionId} is not null`),
    index("exceptions_jl_idx").on(t.journalLineId).where(sql`${t.journalLineId} is not null`),
    // A subject's exceptions newest first: whether a person already decided it (sticky resolutions).
    index("exceptions_subject_history_idx").on(t.orgId, t.kind, t.subjectKey, t.raisedAt),
    uniqueIndex("exceptions_unresolved_subject_key").on(t.orgId, t.kind, t.subjectKey).where(sql`${t.status} <> 'resolved' and ${t.subjectKey} is not null`),
    check("exceptions_severity", sql`${t.severity} in ('low', 'medium', 'high', 'critical')`),
    check("exceptions_status", sql`${t.status} in ('open', 'snoozed', 'resolved')`),
    check("exceptions_snoozed_until", sql`${t.status} <> 'snoozed' or ${t.snoozedUntil} is not null`),
    check("exceptions_resolved", sql`(${t.status} = 'resolved') = (${t.resolution} is not null and ${t.resolvedAt} is not null)`),
    check(
      "exceptions_resolution",
      sql`${t.resolution} in ('matched', 'matched_manually', 'explained', 'written_off', 'adjusted', 'excluded', 'cleared')`,
    ),
  ],
);

/** The thread under an exception. Append-only. */
export const exceptionComments = pgTable(
  "exception_comments",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    exceptionId: uuid().notNull().references(() => exceptions.id),
    authorId: uuid().references(() => users.id),
    authorLabel: text().notNull(),
    body: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("exception_comments_exception_idx").on(t.exceptionId, t.id)],
);

/**
 * An exception's history: every raise and every change of status, severity, assignee or snooze,
 * written by a trigger (whoever made the change: a person, a run, a sweep). Append-only.
 */
export const exceptionEvents = pgTable(
  "exception_events",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    exceptionId: uuid().notNull().references(() => exceptions.id),
    action: text().notNull(),
    actorUserId: uuid(),
    actorLabel: text().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("exception_events_exception_idx").on(t.exceptionId, t.id)],
);

/**
 * How many exceptions per status, severity and day they happened, kept by statement triggers on
 * exceptions: the queue's counts per severity and age bucket are a sum over a few hundred rows,
 * never a count over a million.
 */
export const exceptionCounts = pgTable(
  "exception_counts",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    status: text().notNull(),
    severity: text().notNull(),
    occurredOn: date().notNull(),
    n: bigint({ mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.status, t.severity, t.occurredOn] })],
);

/**
 * The organisation's exception policy: amounts and ages that set severity, the SLA per severity,
 * when a source counts as stale, and the account write-offs go to. One row per organisation,
 * created with it; severity is computed in SQL from this row (function exception_severity).
 */
export const exceptionPolicies = pgTable(
  "exception_policies",
  {
    orgId: uuid().primaryKey().references(() => organisations.id),
    /** At or above: medium; at or above amountHigh: high. */
    amountMedium: money("amount_medium").notNull().default("1000"),
    amountHigh: money("amount_high").notNull().default("10000"),
    /** Each age step passed (days since the record's date) raises severity one level. */
    ageStepDays: integer().array().notNull().default(sql`'{30,60}'::integer[]`),
    slaDaysCritical: integer().notNull().default(1),
    slaDaysHigh: integer().notNull().default(2),
    slaDaysMedium: integer().notNull().default(5),
    slaDaysLow: integer().notNull().default(10),
    /** No import for this many days raises a stale_source exception. */
    staleSourceDays: integer().notNull().default(3),
    /** An active, non-control account of this organisation (a composite key: never another tenant's). */
    writeOffAccountId: uuid(),
    version: integer().notNull().default(1),
    updatedBy: uuid().references(() => users.id),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ name: "exception_policies_write_off_account_fk", columns: [t.orgId, t.writeOffAccountId], foreignColumns: [accounts.orgId, accounts.id] }),
    check("exception_policies_amounts", sql`${t.amountMedium} >= 0 and ${t.amountHigh} >= ${t.amountMedium}`),
    check("exception_policies_sla", sql`least(${t.slaDaysCritical}, ${t.slaDaysHigh}, ${t.slaDaysMedium}, ${t.slaDaysLow}) >= 0 and ${t.staleSourceDays} >= 1`),
  ],
);
