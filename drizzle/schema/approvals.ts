import { sql } from "drizzle-orm";
import { boolean, check, date, foreignKey, index, integer, jsonb, numeric, pgTable, text, timestamp, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { entities, organisations, users } from "./identity";
import { fiscalPeriods } from "./ledger";

const money = (name: string) => numeric(name, { precision: 20, scale: 4 });

/**
 * One amount tier of an organisation's approval policy for one kind of controlled action. The
 * tier that applies is the one with the highest `min_amount` not above the request's amount (in
 * the entity's functional currency). `approvals_required = 0` lets an action below the next tier
 * run without approval. Kinds without rows use the defaults in server/approvals/policy.ts.
 */
export const approvalPolicies = pgTable(
  "approval_policies",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    kind: text().notNull(),
    minAmount: money("min_amount").notNull().default("0"),
    approvalsRequired: integer().notNull(),
    adminRequired: boolean().notNull().default(false),
    updatedBy: uuid().references(() => users.id),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("approval_policies_kind_tier_key").on(t.orgId, t.kind, t.minAmount),
    check("approval_policies_approvals_range", sql`${t.approvalsRequired} between 0 and 5`),
    check("approval_policies_min_amount", sql`${t.minAmount} >= 0`),
    check("approval_policies_admin_needs_approval", sql`not ${t.adminRequired} or ${t.approvalsRequired} >= 1`),
  ],
);

/** Per-organisation settings of the controls: how long requests live, what closed periods do to late arrivals. */
export const controlSettings = pgTable(
  "control_settings",
  {
    orgId: uuid().primaryKey().references(() => organisations.id),
    requestTtlHours: integer().notNull().default(336),
    /** Automated postings (Xero sync, future jobs) dated in a closed period: refuse them, or move them to the next open period. */
    closedPeriodPostings: text().notNull().default("refuse"),
    /** Statement lines dated in a closed period: refuse the file, or land them and raise an exception. */
    closedPeriodImports: text().notNull().default("refuse"),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("control_settings_ttl", sql`${t.requestTtlHours} between 1 and 8760`),
    check("control_settings_postings", sql`${t.closedPeriodPostings} in ('refuse', 'next_open_period')`),
    check("control_settings_imports", sql`${t.closedPeriodImports} in ('refuse', 'flag')`),
  ],
);

/**
 * A controlled action waiting for sign-off: the exact content to execute and its hash, who made
 * it and why, and the policy tier that applied when it was (last) submitted. Editing the content
 * bumps `version` and voids every decision given so far (trigger in 0008_approvals).
 */
export const approvalRequests = pgTable(
  "approval_requests",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    kind: text().notNull(),
    /** Identifies what the request acts on (a draft, a period), so one thing has one pending request. */
    targetKey: text().notNull(),
    status: text().notNull().default("pending"),
    entityId: uuid(),
    /** The date the action takes effect (an entry's date, a period's end): pending requests block closing its period. */
    effectiveDate: date(),
    amount: money("amount"),
    currency: text(),
    summary: text().notNull(),
    content: jsonb().$type<Record<string, unknown>>().notNull(),
    contentHash: text().notNull(),
    version: integer().notNull().default(1),
    makerId: uuid().notNull().references(() => users.id),
    makerLabel: text().notNull(),
    reason: text().notNull(),
    links: jsonb().$type<{ label: string; url: string }[]>().notNull().default([]),
    policy: jsonb().$type<Record<string, unknown>>().notNull(),
    approvalsRequired: integer().notNull(),
    adminRequired: boolean().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp({ withTimezone: true }),
    result: jsonb().$type<Record<string, unknown>>(),
  },
  (t) => [
    foreignKey({ columns: [t.orgId, t.entityId], foreignColumns: [entities.orgId, entities.id] }),
    // Target of the decisions' composite key: a decision carries the request's true maker.
    unique("approval_requests_id_maker_key").on(t.id, t.makerId),
    uniqueIndex("approval_requests_one_pending_key").on(t.orgId, t.kind, t.targetKey).where(sql`${t.status} = 'pending'`),
    index("approval_requests_org_status_idx").on(t.orgId, t.status, t.createdAt),
    index("approval_requests_org_maker_idx").on(t.orgId, t.makerId, t.createdAt),
    check("approval_requests_status", sql`${t.status} in ('pending', 'executed', 'rejected', 'expired', 'withdrawn')`),
    check("approval_requests_required", sql`${t.approvalsRequired} between 1 and 5`),
    check("approval_requests_version", sql`${t.version} >= 1`),
  ],
);

/**
 * One approver's decision on one version of a request. The maker is copied from the request
 * under a composite key, so "nobody approves their own work" is a CHECK on this row. Voided
 * decisions (the request changed after them) stay, with the time they were voided.
 */
export const approvalDecisions = pgTable(
  "approval_decisions",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    requestId: uuid().notNull(),
    makerId: uuid().notNull(),
    approverId: uuid().notNull().references(() => users.id),
    approverLabel: text().notNull(),
    approverRole: text().notNull(),
    decision: text().notNull(),
    comment: text().notNull().default(""),
    requestVersion: integer().notNull(),
    contentHash: text().notNull(),
    decidedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    voidedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({ name: "approval_decisions_request_maker_fk", columns: [t.requestId, t.makerId], foreignColumns: [approvalRequests.id, approvalRequests.makerId] }),
    check("approval_decisions_not_maker", sql`${t.approverId} <> ${t.makerId}`),
    check("approval_decisions_decision", sql`${t.decision} in ('approved', 'rejected')`),
    check("approval_decisions_role", sql`${t.approverRole} in ('approver', 'admin')`),
    // Distinct approvers: one live decision per person per request.
    uniqueIndex("approval_decisions_one_per_approver_key").on(t.requestId, t.approverId).where(sql`${t.voidedAt} is null`),
    index("approval_decisions_org_request_idx").on(t.orgId, t.requestId),
  ],
);

/** Each close and reopen of a period: the checklist as it stood, the overrides and their reasons. */
export const periodCloseEvents = pgTable(
  "period_close_events",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    periodId: uuid().notNull().references(() => fiscalPeriods.id),
    action: text().notNull(),
    actorId: uuid().references(() => users.id),
    actorLabel: text().notNull(),
    checklist: jsonb().$type<unknown[]>().notNull().default([]),
    overrides: jsonb().$type<{ key: string; reason: string }[]>().notNull().default([]),
    reason: text(),
    approvalRequestId: uuid().references(() => approvalRequests.id),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("period_close_events_period_idx").on(t.orgId, t.periodId, t.at),
    check("period_close_events_action", sql`${t.action} in ('closed', 'reopened')`),
    check("period_close_events_reopen_approved", sql`${t.action} <> 'reopened' or ${t.approvalRequestId} is not null`),
  ],
);
