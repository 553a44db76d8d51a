import { sql } from "drizzle-orm";
import { bigint, boolean, check, date, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { organisations, users } from "./identity";
import { sources } from "./ingest";

const money = (name: string) => numeric(name, { precision: 20, scale: 4 });

/**
 * The organisation's matching knobs (weights, thresholds, windows, tolerances), one current row per
 * organisation (source_id null) plus optional per-source overrides. `settings` is stored over the
 * engine's defaults (server/matching/settings.ts): `{}` means "the defaults", so a knob the engine
 * adds later has a value without a data migration. Every change is a row in matching_settings_changes.
 */
export const matchingSettings = pgTable(
  "matching_settings",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().references(() => sources.id),
    version: integer().notNull(),
    settings: jsonb().$type<Record<string, unknown>>().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("matching_settings_org_key").on(t.orgId).where(sql`${t.sourceId} is null`),
    uniqueIndex("matching_settings_source_key").on(t.orgId, t.sourceId).where(sql`${t.sourceId} is not null`),
  ],
);

/** Every settings version: before, after and why. Append-only; a rollback is a change of its own. */
export const matchingSettingsChanges = pgTable(
  "matching_settings_changes",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().references(() => sources.id),
    version: integer().notNull(),
    kind: text().notNull(),
    before: jsonb().$type<Record<string, unknown>>(),
    after: jsonb().$type<Record<string, unknown>>().notNull(),
    why: text().notNull(),
    /** Learning: the last match_feedback id this change consumed (the next learn starts after it). */
    feedbackThrough: bigint({ mode: "number" }),
    /** Rollback: the version whose settings were restored. */
    restoresVersion: integer(),
    actorUserId: uuid().references(() => users.id),
    actorLabel: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("matching_settings_changes_org_idx").on(t.orgId, t.at),
    check("matching_settings_changes_kind", sql`${t.kind} in ('initial', 'learn', 'calibrate', 'manual', 'rollback')`),
  ],
);

/** One reconciliation run of a source against the ledger or against another source, for a date range. */
export const matchRuns = pgTable(
  "match_runs",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().notNull().references(() => sources.id),
    /** 'ledger' (the source's GL account) or 'source' (counterpart_source_id). */
    counterpartKind: text().notNull(),
    counterpartSourceId: uuid().references(() => sources.id),
    dateFrom: date().notNull(),
    dateTo: date().notNull(),
    trigger: text().notNull(),
    status: text().notNull(),
    settingsVersion: integer(),
    counts: jsonb().$type<Record<string, number>>().notNull().default({}),
    error: text(),
    requestedBy: uuid().references(() => users.id),
    queuedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("match_runs_org_idx").on(t.orgId, t.queuedAt),
    check("match_runs_counterpart", sql`(${t.counterpartKind} = 'source') = (${t.counterpartSourceId} is not null) and ${t.counterpartKind} in ('ledger', 'source')`),
    check("match_runs_trigger", sql`${t.trigger} in ('manual', 'import', 'schedule', 'cli')`),
    check("match_runs_status", sql`${t.status} in ('queued', 'running', 'succeeded', 'failed')`),
    check("match_runs_range", sql`${t.dateFrom} <= ${t.dateTo}`),
  ],
);

/**
 * Dates delivered into a source that no reconciliation run has covered yet: one range per source,
 * widened by every landing (file, webhook) in the landing's own transaction and taken whole by the
 * run that reconciles it. A burst of deliveries therefore becomes one run over the dates they
 * brought, and work a crashed process had promised is still here when it starts again.
 */
export const matchingBacklog = pgTable(
  "matching_backlog",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    sourceId: uuid().primaryKey().references(() => sources.id),
    dateFrom: date().notNull(),
    dateTo: date().notNull(),
    /** When the oldest still-unreconciled delivery in the range landed. */
    since: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("matching_backlog_range", sql`${t.dateFrom} <= ${t.dateTo}`)],
);

/**
 * A set of records on both sides that tie out. Lifecycle (enforced by the service and by the
 * trigger matches_transition): suggested → confirmed | rejected | superseded; auto_matched →
 * confirmed | undone | superseded; confirmed → undone. A manual match starts confirmed.
 */
export const matches = pgTable(
  "matches",
  {
    // Organisation, run and source are not declared keys: matches_checks (drizzle/migrations/0021)
    // checks each INSERT statement's matches once against them, in the match's own organisation,
    // and the parents refuse to lose a referenced row. A match's keys never change (matches_transition).
    orgId: uuid().notNull(),
    id: uuid().primaryKey().defaultRandom(),
    runId: uuid(),
    sourceId: uuid().notNull(),
    /** 'ledger' or 'source': which reconciliation this match belongs to (see match_members). */
    pairing: text().notNull(),
    level: text().notNull(),
    confidence: numeric({ precision: 6, scale: 5 }).notNull(),
    decision: text().notNull(),
    status: text().notNull(),
    signals: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    difference: money("difference").notNull(),
    currency: text().notNull(),
    reason: text().notNull(),
    ruleId: uuid(),
    decidedBy: uuid().references(() => users.id),
    decidedAt: timestamp({ withTimezone: true }),
    undoReason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("matches_org_status_idx").on(t.orgId, t.status, t.createdAt),
    index("matches_run_idx").on(t.runId),
    check("matches_status", sql`${t.status} in ('suggested', 'auto_matched', 'confirmed', 'rejected', 'undone', 'superseded')`),
    check("matches_decision", sql`${t.decision} in ('auto', 'suggest', 'manual')`),
    check("matches_pairing", sql`${t.pairing} in ('ledger', 'source')`),
    check("matches_level", sql`${t.level} in ('rule', 'exact', 'amount_date', 'fuzzy', 'group', 'manual')`),
  ],
);

/**
 * The records of a match. `active` follows the match's status (set by the trigger
 * matches_members_follow); the partial unique indexes below make "a record is in at most one
 * active match" a database fact, per reconciliation (a bank line may tie to a ledger line and,
 * separately, to the PSP payout that funded it).
 */
export const matchMembers = pgTable(
  "match_members",
  {
    // No declared keys: match_members_checks (drizzle/migrations/0021) checks each INSERT
    // statement's members once against their matches in the same organisation and pairing.
    // Matches can be neither deleted nor re-keyed, so they cannot disappear from under a member.
    orgId: uuid().notNull(),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    matchId: uuid().notNull(),
    pairing: text().notNull(),
    side: text().notNull(),
    canonicalTransactionId: bigint({ mode: "number" }),
    journalLineId: bigint({ mode: "number" }),
    amount: money("amount").notNull(),
    recordDate: date().notNull(),
    active: boolean().notNull().default(true),
  },
  (t) => [
    index("match_members_match_idx").on(t.matchId),
    uniqueIndex("match_members_one_active_transaction").on(t.canonicalTransactionId, t.pairing).where(sql`${t.active} and ${t.canonicalTransactionId} is not null`),
    uniqueIndex("match_members_one_active_line").on(t.journalLineId).where(sql`${t.active} and ${t.journalLineId} is not null`),
    check("match_members_one_record", sql`(${t.canonicalTransactionId} is null) <> (${t.journalLineId} is null)`),
    check("match_members_side", sql`${t.side} in ('left', 'right')`),
    check("match_members_pairing", sql`${t.pairing} in ('ledger', 'source')`),
  ],
);

/** A pair an accountant rejected ("ct:1", "jl:2"): never proposed again. */
export const rejectedPairs = pgTable(
  "rejected_pairs",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    leftKey: text().notNull(),
    rightKey: text().notNull(),
    matchId: uuid().references(() => matches.id),
    rejectedBy: uuid().references(() => users.id),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("rejected_pairs_key").on(t.orgId, t.leftKey, t.rightKey)],
);

/** What people decided about proposals, with the signals they saw: the input of learning. */
export const matchFeedback = pgTable(
  "match_feedback",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    matchId: uuid().notNull().references(() => matches.id),
    decision: text().notNull(),
    signals: jsonb().$type<Record<string, unknown>>().notNull(),
    confidence: numeric({ precision: 6, scale: 5 }).notNull(),
    actorUserId: uuid().references(() => users.id),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("match_feedback_org_idx").on(t.orgId, t.id),
    check("match_feedback_decision", sql`${t.decision} in ('accept', 'reject', 'unmatch')`),
  ],
);

/** A tenant rule; its content lives in versions (editing adds one, history is kept). */
export const matchingRules = pgTable(
  "matching_rules",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    /** Lower runs first. */
    position: integer().notNull(),
    enabled: boolean().notNull().default(true),
    currentVersion: integer().notNull(),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("matching_rules_org_idx").on(t.orgId, t.position)],
);

/** One version of a rule: the JSON the engine reads (validated by ruleSchema). Append-only. */
export const matchingRuleVersions = pgTable(
  "matching_rule_versions",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    ruleId: uuid().notNull().references(() => matchingRules.id),
    version: integer().notNull(),
    definition: jsonb().$type<Record<string, unknown>>().notNull(),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("matching_rule_versions_key").on(t.ruleId, t.version)],
);

/** What a rule did to a record in a run (categorise → the journal draft it created). */
export const matchRuleOutcomes = pgTable(
  "match_rule_outcomes",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    runId: uuid().notNull().references(() => matchRuns.id),
    ruleId: uuid().notNull(),
    side: text().notNull(),
    recordKey: text().notNull(),
    action: jsonb().$type<Record<string, unknown>>().notNull(),
    draftId: uuid(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("match_rule_outcomes_run_idx").on(t.runId),
    // One journal draft per categorised record, however often matching re-runs.
    uniqueIndex("match_rule_outcomes_one_draft").on(t.orgId, t.recordKey).where(sql`${t.draftId} is not null`),
  ],
);
