import { sql } from "drizzle-orm";
import { check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const roleEnum = pgEnum("member_role", ["admin", "accountant", "approver", "viewer"]);

/** A person who can sign in. Global (not a tenant table): one identity may belong to several organisations. */
export const users = pgTable(
  "users",
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    name: text().notNull(),
    passwordHash: text(),
    disabledAt: timestamp({ withTimezone: true }),
    failedSignIns: integer().notNull().default(0),
    lockedUntil: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

/**
 * One row per signed-in browser. The JWT only carries this id; every request checks the row is
 * not revoked, so sign-out and disabling a user end access on the next request.
 */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid().notNull().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

export const organisations = pgTable("organisations", {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const memberships = pgTable(
  "memberships",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    userId: uuid().notNull().references(() => users.id),
    role: roleEnum().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

/** A legal entity keeps its own books: one functional currency, one time zone. */
export const entities = pgTable(
  "entities",
  {
    orgId: uuid().notNull().references(() => organisations.id),
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    functionalCurrency: text().notNull(),
    timeZone: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("entities_org_id_id_key").on(t.orgId, t.id),
    check("entities_currency_iso", sql`${t.functionalCurrency} ~ '^[A-Z]{3}$'`),
  ],
);
