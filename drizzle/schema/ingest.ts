import { sql } from "drizzle-orm";
import {
  bigint, boolean, check, customType, date, foreignKey, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid,
} from "drizzle-orm/pg-core";
import { entities, organisations, users } from "./identity";
import { accounts } from "./ledger";

const money = (name: string) => numeric(name, { precision: 20, scale: 4 });
const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

/**
 * Where outside records come from: a bank account (tied to a GL cash account), a payment-provider
 * account (tied to a clearing account), or a Xero organisation. Every import belongs to one.
 */
export const sources = pgTable(
  "sources",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    entityId: uuid().notNull(),
    kind: text().notNull(),
    name: text().notNull(),
    currency: text().notNull(),
    /** IBAN or account number for a bank; merchant/account id for a provider. */
    accountNumber: text(),
    /** Payment provider (stripe, adyen, paypal) for kind psp. */
    provider: text(),
    glAccountId: uuid().notNull(),
    /** Shared secret for signed webhooks (PSP sources only). */
    webhookSecret: text(),
    csvProfileId: uuid(),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    archivedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({ columns: [t.orgId, t.entityId], foreignColumns: [entities.orgId, entities.id] }),
    // The GL account must belong to the source's entity.
    foreignKey({ columns: [t.orgId, t.entityId, t.glAccountId], foreignColumns: [accounts.orgId, accounts.entityId, accounts.id] }),
    uniqueIndex("sources_org_name_key").on(t.orgId, t.name),
    check("sources_kind", sql`${t.kind} in ('bank', 'psp', 'xero')`),
    check("sources_provider", sql`(${t.kind} = 'psp') = (${t.provider} is not null)`),
    check("sources_currency_iso", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

/** A saved CSV/XLSX column mapping, reusable across imports of the same bank's exports. */
export const mappingProfiles = pgTable(
  "mapping_profiles",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    mapping: jsonb().$type<Record<string, unknown>>().notNull(),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("mapping_profiles_org_name_key").on(t.orgId, t.name)],
);

/** The file as uploaded, kept byte for byte (under a generated id, never the user's filename). */
export const uploads = pgTable(
  "uploads",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().notNull().references(() => sources.id),
    fileName: text().notNull(),
    sha256: text().notNull(),
    sizeBytes: integer().notNull(),
    content: bytea().notNull(),
    uploadedBy: uuid().references(() => users.id),
    uploadedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("uploads_source_idx").on(t.orgId, t.sourceId, t.uploadedAt)],
);

/** One completed import: it landed whole (an import that fails leaves no row here, nor any line). */
export const imports = pgTable(
  "imports",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().notNull().references(() => sources.id),
    uploadId: uuid().references(() => uploads.id),
    /** "file" or "webhook". */
    channel: text().notNull(),
    fileName: text(),
    format: text().notNull(),
    parserVersion: text().notNull(),
    newCount: integer().notNull(),
    duplicateCount: integer().notNull(),
    rejectedCount: integer().notNull(),
    statementCount: integer().notNull(),
    unbalancedStatementCount: integer().notNull(),
    /** Per rejected record: line and reason. Warnings from the parser. */
    rejections: jsonb().$type<{ line: number | null; reason: string }[]>().notNull().default([]),
    warnings: jsonb().$type<string[]>().notNull().default([]),
    importedBy: uuid().references(() => users.id),
    importedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    durationMs: integer(),
  },
  (t) => [index("imports_source_idx").on(t.orgId, t.sourceId, t.importedAt)],
);

/** A statement as the file states it: balances are the bank's, movements are our sum of its lines. */
export const statements = pgTable(
  "statements",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().notNull().references(() => sources.id),
    importId: uuid().notNull().references(() => imports.id),
    statementRef: text(),
    account: text(),
    currency: text().notNull(),
    openingDate: date(),
    openingBalance: money("opening_balance"),
    closingDate: date(),
    closingBalance: money("closing_balance"),
    movements: money("movements").notNull(),
    lineCount: integer().notNull(),
    /** opening + movements = closing; null when the statement lacks one of the balances. */
    balanced: boolean(),
  },
  (t) => [index("statements_source_idx").on(t.orgId, t.sourceId, t.closingDate)],
);

/**
 * What the outside world says happened, one row per line, whatever the format. Never updated:
 * exactly-once rests on the unique (source, dedupe key). Ids are sequential bigints because this
 * is the biggest table and random keys make bulk imports slow.
 */
export const canonicalTransactions = pgTable(
  "canonical_transactions",
  {
    orgId: uuid().notNull(),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sourceId: uuid().notNull(),
    importId: uuid().notNull(),
    statementId: uuid(),
    externalId: text(),
    /** "id:<external id>" or "fp:<content hash>:<ordinal among equal lines>" — see dedupe-key.ts. */
    dedupeKey: text().notNull(),
    bookedDate: date().notNull(),
    valueDate: date(),
    amount: money("amount").notNull(),
    currency: text().notNull(),
    counterpartyName: text(),
    counterpartyAccount: text(),
    reference: text(),
    description: text(),
    bankTransactionCode: text(),
    type: text().notNull(),
    originalAmount: money("original_amount"),
    originalCurrency: text(),
    raw: jsonb().notNull(),
    parser: text().notNull(),
    parserVersion: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One index for both reads and exactly-once: every dedupe key carries its line's booked date
    // (see server/ingest/dedupe-key.ts), so a key is unique per source exactly when it is unique per
    // source and date. Led by the date, an import (inserted in date order) appends to the index instead
    // of scattering a million random keys over it, and date-range reads of a source use it too.
    uniqueIndex("canonical_transactions_source_date_key").on(t.sourceId, t.bookedDate, t.dedupeKey),
    check(
      "canonical_transactions_type",
      sql`${t.type} in ('payment', 'refund', 'fee', 'chargeback', 'payout', 'transfer', 'interest', 'other')`,
    ),
  ],
);

/** Signed webhook deliveries, one row per provider event: a replay finds its row and changes nothing. */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    sourceId: uuid().notNull().references(() => sources.id),
    eventId: text().notNull(),
    eventType: text().notNull(),
    importId: uuid().references(() => imports.id),
    transactionCount: integer().notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    payload: jsonb().notNull(),
  },
  (t) => [uniqueIndex("webhook_events_source_event_key").on(t.sourceId, t.eventId)],
);
