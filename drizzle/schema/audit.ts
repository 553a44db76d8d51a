import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Append-only, hash-chained per organisation: hash = sha256(prevHash + canonical content).
 * UPDATE, DELETE and TRUNCATE are refused by triggers and by grants.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    // Keys to organisations and users are checked once per INSERT statement by audit_log_links
    // (drizzle/migrations/0006); the parents refuse to lose a referenced row.
    orgId: uuid().notNull(),
    seq: bigint({ mode: "number" }).notNull(),
    at: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    actorUserId: uuid(),
    actorLabel: text().notNull(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    prevHash: text().notNull(),
    hash: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.seq] }), index("audit_log_org_action_idx").on(t.orgId, t.action, t.seq)],
);
