import { sql } from "drizzle-orm";
import { bigint, boolean, check, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { entities, organisations, users } from "./identity";
import { accounts } from "./ledger";
import { sources } from "./ingest";

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

/**
 * An authorisation in flight: the `state` we sent to Xero's authorize page and the PKCE verifier,
 * encrypted. Single use, short lived; the callback finds it by state and marks it used.
 */
export const xeroAuthRequests = pgTable(
  "xero_auth_requests",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    state: text().primaryKey(),
    userId: uuid().notNull().references(() => users.id),
    keyId: text().notNull(),
    codeVerifier: bytea().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    usedAt: timestamp({ withTimezone: true }),
  },
);

/**
 * One Xero token set (a Xero user's consent to this app). It covers every Xero organisation the
 * user picked, so the organisations (xero_connections) hang off it and share one refresh chain.
 * Tokens are AES-256-GCM ciphertexts under the key named by key_id (server/xero/token-vault.ts).
 */
export const xeroGrants = pgTable(
  "xero_grants",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    status: text().notNull().default("active"),
    xeroUserId: text(),
    authEventId: text(),
    scopes: text().notNull(),
    keyId: text().notNull(),
    accessToken: bytea().notNull(),
    accessExpiresAt: timestamp({ withTimezone: true }).notNull(),
    refreshToken: bytea().notNull(),
    refreshedAt: timestamp({ withTimezone: true }),
    refreshCount: integer().notNull().default(0),
    statusReason: text(),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("xero_grants_status", sql`${t.status} in ('active', 'needs_reauth', 'revoked')`)],
);

/**
 * A Xero organisation (tenant) this Tieout organisation reads, mapped to one of its entities. The
 * source (kind 'xero') is what its bank transactions and payments land under as canonical lines.
 */
export const xeroConnections = pgTable(
  "xero_connections",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    grantId: uuid().notNull().references(() => xeroGrants.id),
    /** Xero's connection id: what DELETE /connections/{id} takes (not the tenant id). */
    xeroConnectionId: text().notNull(),
    tenantId: text().notNull(),
    tenantName: text().notNull(),
    tenantType: text().notNull(),
    entityId: uuid().references(() => entities.id),
    sourceId: uuid().references(() => sources.id),
    status: text().notNull().default("unmapped"),
    /** null until the first sync asks; 'unavailable' after a 401 (Journals are a premium tier). */
    journals: text(),
    /** The daily budget is spent (or Xero said so with a day 429): no calls before this instant. */
    parkedUntil: timestamp({ withTimezone: true }),
    dayWindowStart: timestamp({ withTimezone: true }),
    dayCalls: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    disconnectedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("xero_connections_org_tenant_key").on(t.orgId, t.tenantId),
    index("xero_connections_tenant_idx").on(t.tenantId),
    check("xero_connections_status", sql`${t.status} in ('unmapped', 'active', 'needs_reauth', 'disconnected')`),
  ],
);

/** A sync run: full or incremental, with its state, timings and the error that ended it. */
export const xeroSyncJobs = pgTable(
  "xero_sync_jobs",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    connectionId: uuid().notNull().references(() => xeroConnections.id),
    kind: text().notNull(),
    status: text().notNull().default("queued"),
    trigger: text().notNull(),
    resources: text().array().notNull(),
    requestedBy: uuid().references(() => users.id),
    retryOf: uuid(),
    calls: integer().notNull().default(0),
    parkedUntil: timestamp({ withTimezone: true }),
    error: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
    heartbeatAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("xero_sync_jobs_connection_idx").on(t.orgId, t.connectionId, t.createdAt),
    check("xero_sync_jobs_kind", sql`${t.kind} in ('full', 'incremental')`),
    check("xero_sync_jobs_status", sql`${t.status} in ('queued', 'running', 'parked', 'succeeded', 'failed', 'cancelled')`),
    check("xero_sync_jobs_trigger", sql`${t.trigger} in ('manual', 'schedule', 'webhook', 'retry')`),
  ],
);

/**
 * Per job and resource: where the sync stands (the cursor it resumes from after a crash, written
 * in the same transaction as the page's records) and what it found.
 */
export const xeroSyncProgress = pgTable(
  "xero_sync_progress",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    jobId: uuid().notNull().references(() => xeroSyncJobs.id),
    resource: text().notNull(),
    position: integer().notNull(),
    status: text().notNull().default("pending"),
    cursor: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    pages: integer().notNull().default(0),
    newCount: integer().notNull().default(0),
    updatedCount: integer().notNull().default(0),
    unchangedCount: integer().notNull().default(0),
    note: text(),
    error: text(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.resource] }),
    check("xero_sync_progress_status", sql`${t.status} in ('pending', 'running', 'done', 'skipped', 'failed')`),
  ],
);

/** Per connection and resource: the If-Modified-Since watermark (or journal offset) the next incremental sync starts from. */
export const xeroSyncCursors = pgTable(
  "xero_sync_cursors",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    connectionId: uuid().notNull().references(() => xeroConnections.id),
    resource: text().notNull(),
    watermark: timestamp({ withTimezone: true }),
    journalOffset: bigint({ mode: "number" }),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.resource] })],
);

/**
 * Tieout's copy of each Xero record, keyed by Xero's id: a re-read page updates in place, so
 * nothing is duplicated. Amounts inside `data` are kept as exact decimal strings. Voided and
 * deleted records stay, with Xero's status.
 */
export const xeroRecords = pgTable(
  "xero_records",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    connectionId: uuid().notNull().references(() => xeroConnections.id),
    resource: text().notNull(),
    xeroId: text().notNull(),
    status: text(),
    xeroUpdatedAt: timestamp({ withTimezone: true }),
    contentHash: text().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    /** The canonical transaction this record landed as (bank transactions and payments), once. */
    landed: boolean().notNull().default(false),
    firstJobId: uuid(),
    lastChangedJobId: uuid(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.resource, t.xeroId] }),
    index("xero_records_org_resource_idx").on(t.orgId, t.connectionId, t.resource, t.xeroUpdatedAt),
  ],
);

/** Xero chart-of-accounts code → Tieout ledger account of the mapped entity. */
export const xeroAccountMap = pgTable(
  "xero_account_map",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    connectionId: uuid().notNull().references(() => xeroConnections.id),
    xeroAccountId: text().notNull(),
    accountId: uuid().references(() => accounts.id),
    mappedBy: text().notNull(),
    mappedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.xeroAccountId] })],
);

/**
 * Webhook events, one row per (tenant, resource, event time, event type): Xero sends no delivery id
 * or timestamp and delivers at least once, so a repeat finds its row and schedules nothing.
 */
export const xeroWebhookEvents = pgTable(
  "xero_webhook_events",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    connectionId: uuid().notNull().references(() => xeroConnections.id),
    eventKey: text().notNull(),
    category: text().notNull(),
    eventType: text().notNull(),
    resourceId: text().notNull(),
    eventDate: text().notNull(),
    jobId: uuid(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("xero_webhook_events_key").on(t.connectionId, t.eventKey)],
);

/*
 * Xero's limits belong to the app (one client id) and to each Xero organisation it calls, not to a
 * process: the Next server, `npm start`'s runner and every Inngest worker draw from the same
 * allowance. These three tables hold that shared budget. They carry no organisation's data and
 * no org_id: the same Xero organisation connected by two Tieout organisations is one budget at
 * Xero. tieout_app has no grant on them; it reaches them only through the SECURITY DEFINER
 * functions of migration 0018 (server/xero/rate-budget.ts calls them).
 */

/** Calls made, per scope (`client/tenant`, or `client/*` for the app as a whole) and time bucket (a sixtieth of the minute window). */
export const xeroCallWindows = pgTable(
  "xero_call_windows",
  {
    scope: text().notNull(),
    bucket: bigint({ mode: "number" }).notNull(),
    calls: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.bucket] })],
);

/** Calls in flight, one lease each; a lease a crashed process never gave back expires. */
export const xeroCallLeases = pgTable(
  "xero_call_leases",
  {
    lease: uuid().primaryKey().defaultRandom(),
    scope: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("xero_call_leases_scope_idx").on(t.scope)],
);

/** Per Xero organisation (and client): the daily count and any Retry-After pause. */
export const xeroTenantBudgets = pgTable("xero_tenant_budgets", {
  scope: text().primaryKey(),
  dayStart: timestamp({ withTimezone: true }).notNull(),
  dayCalls: integer().notNull(),
  pausedUntil: timestamp({ withTimezone: true }),
});
