import { sql } from "drizzle-orm";
import {
  bigint, boolean, check, date, foreignKey, index, integer, jsonb, numeric, pgEnum, pgTable, text, timestamp, unique, uniqueIndex, uuid,
} from "drizzle-orm/pg-core";
import { entities, organisations, users } from "./identity";

export const accountTypeEnum = pgEnum("account_type", ["asset", "liability", "equity", "income", "expense"]);
export const normalBalanceEnum = pgEnum("normal_balance", ["debit", "credit"]);
export const periodStatusEnum = pgEnum("period_status", ["open", "closed"]);
export const draftStatusEnum = pgEnum("draft_status", ["draft", "posted", "discarded"]);

/** Money columns: numeric, read back as strings, never JS numbers. */
const money = (name?: string) => (name ? numeric(name, { precision: 20, scale: 4 }) : numeric({ precision: 20, scale: 4 }));

export const accounts = pgTable(
  "accounts",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    entityId: uuid().notNull(),
    code: text().notNull(),
    name: text().notNull(),
    type: accountTypeEnum().notNull(),
    normalBalance: normalBalanceEnum().notNull(),
    currency: text().notNull(),
    isControl: boolean().notNull().default(false),
    isActive: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.orgId, t.entityId], foreignColumns: [entities.orgId, entities.id] }),
    uniqueIndex("accounts_entity_code_key").on(t.orgId, t.entityId, t.code),
    // Target of the lines' composite key: a line's account must belong to the line's entity.
    unique("accounts_org_entity_id_key").on(t.orgId, t.entityId, t.id),
    // Target of keys that name an account of the organisation without an entity (the write-off account).
    unique("accounts_org_id_key").on(t.orgId, t.id),
    check("accounts_currency_iso", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const fiscalPeriods = pgTable(
  "fiscal_periods",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    entityId: uuid().notNull(),
    name: text().notNull(),
    startsOn: date().notNull(),
    endsOn: date().notNull(),
    status: periodStatusEnum().notNull().default("open"),
    closedAt: timestamp({ withTimezone: true }),
    closedBy: uuid().references(() => users.id),
  },
  (t) => [
    foreignKey({ columns: [t.orgId, t.entityId], foreignColumns: [entities.orgId, entities.id] }),
    uniqueIndex("fiscal_periods_entity_start_key").on(t.orgId, t.entityId, t.startsOn),
    check("fiscal_periods_range", sql`${t.startsOn} <= ${t.endsOn}`),
  ],
);

/**
 * A posted journal entry. Append-only: never updated or deleted (triggers and grants), corrected
 * only by a reversal, which points back at the entry it reverses. Drafts live in journal_drafts.
 */
export const journalEntries = pgTable(
  "journal_entries",
  {
    // Keys to entities and users are checked once per INSERT statement by journal_entries_checks
    // (drizzle/migrations/0006), and the parents refuse to lose a referenced row; the organisation
    // follows from the entity.
    orgId: uuid().notNull(),
    id: uuid().primaryKey().defaultRandom(),
    entityId: uuid().notNull(),
    entryNumber: bigint({ mode: "number" }).notNull(),
    entryDate: date().notNull(),
    description: text().notNull(),
    idempotencyKey: text().notNull(),
    contentHash: text().notNull(),
    reversesEntryId: uuid(),
    source: text().notNull().default("manual"),
    postedBy: uuid(),
    postedByLabel: text().notNull(),
    postedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Transaction that posted the entry: its lines may be inserted in that transaction only. Defaults to it; a trigger refuses any other value. */
    postedTxid: bigint({ mode: "number" }).default(sql`txid_current()`),
  },
  (t) => [
    uniqueIndex("journal_entries_idempotency_key").on(t.orgId, t.idempotencyKey),
    // One reversal per entry: a second attempt to reverse the same entry is refused by the database.
    // Partial: NULLs never conflict in a unique index anyway, so only reversals need an index entry.
    uniqueIndex("journal_entries_one_reversal_key").on(t.orgId, t.reversesEntryId).where(sql`${t.reversesEntryId} is not null`),
    uniqueIndex("journal_entries_number_key").on(t.orgId, t.entityId, t.entryNumber),
    index("journal_entries_org_entity_date_idx").on(t.orgId, t.entityId, t.entryDate),
  ],
);

/** A journal entry being prepared: editable until posted (then it points at the posted entry) or discarded. */
export const journalDrafts = pgTable(
  "journal_drafts",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    entityId: uuid().notNull(),
    entryDate: date().notNull(),
    description: text().notNull(),
    lines: jsonb().$type<unknown[]>().notNull(),
    status: draftStatusEnum().notNull().default("draft"),
    postedEntryId: uuid().references(() => journalEntries.id),
    createdBy: uuid().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.orgId, t.entityId], foreignColumns: [entities.orgId, entities.id] }),
    index("journal_drafts_org_status_idx").on(t.orgId, t.status, t.updatedAt),
  ],
);

/**
 * A line of a journal entry. `amount` is signed in the line's currency (debit positive, credit
 * negative); `functionalAmount` is the same movement in the entity's functional currency at `rate`.
 * entity, account and date are copied from the entry (both immutable once posted) so balances
 * as of a date are one index range scan.
 */
export const journalLines = pgTable(
  "journal_lines",
  {
    // No declared keys: journal_lines_belong_to_new_entries (drizzle/migrations/0006) checks each
    // INSERT statement's lines once against their entries (posted in this transaction, same
    // organisation, entity and date) and their (org, entity, account), and accounts refuse to lose
    // a referenced row. Entries are append-only, so they cannot disappear from under a line.
    orgId: uuid().notNull(),
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    entryId: uuid().notNull(),
    lineNo: integer().notNull(),
    entityId: uuid().notNull(),
    accountId: uuid().notNull(),
    entryDate: date().notNull(),
    amount: money().notNull(),
    currency: text().notNull(),
    rate: numeric({ precision: 20, scale: 10 }).notNull(),
    functionalAmount: money().notNull(),
    memo: text(),
    counterparty: text(),
    reference: text(),
    dimensions: jsonb().$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex("journal_lines_entry_line_key").on(t.entryId, t.lineNo),
    index("journal_lines_account_date_idx").on(t.orgId, t.accountId, t.entryDate),
    check("journal_lines_currency_iso", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("journal_lines_rate_positive", sql`${t.rate} > 0`),
    check("journal_lines_amount_nonzero", sql`${t.amount} <> 0`),
    check("journal_lines_same_sign", sql`sign(${t.amount}) = sign(${t.functionalAmount})`),
  ],
);

/** Per-entity counter for human-readable entry numbers, allocated inside the posting transaction. */
export const entrySequences = pgTable("entry_sequences", {
  orgId: uuid().notNull().references(() => organisations.id),
  entityId: uuid().primaryKey(),
  lastNumber: bigint({ mode: "number" }).notNull().default(0),
});

/**
 * Entries still to be proved balanced at commit: one row per INSERT statement into
 * journal_entries, written by that statement's trigger and removed by the deferred check that
 * reads it (drizzle/migrations/0020). Empty outside a posting transaction.
 */
export const journalEntryBalanceDue = pgTable("journal_entry_balance_due", {
  id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  orgId: uuid().notNull(),
  entryIds: uuid().array().notNull(),
});
