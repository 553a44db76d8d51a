import type { SQL } from "drizzle-orm";
import type { PgDialect } from "drizzle-orm/pg-core";
import type { Sql } from "postgres";
import type { Db } from "./client";

/**
 * Runs `query` as a named prepared statement of its connection, for the statements every request
 * sends (the session's actor, the organisation settings, the queue's page and counts).
 *
 * drizzle's `execute` sends an unnamed statement, so postgres.js parses it, waits for its
 * parameter types, then binds it: two round trips, a parse and a plan on every call. Named,
 * postgres.js keeps the statement per connection under its SQL text, and a repeat is one Bind and
 * Execute. Only for SQL whose text comes from a small fixed set (parameters are bound, never
 * inlined): each distinct text stays prepared for the connection's life.
 */
export function executePrepared<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  // A drizzle database or transaction holds its dialect and its session's postgres.js handle
  // (the pool, or the transaction's reserved connection); drizzle has no public way to ask for
  // a named statement on raw SQL.
  const { dialect, session } = db as unknown as { dialect: PgDialect; session: { client: Sql } };
  const { sql, params } = dialect.sqlToQuery(query);
  return session.client.unsafe<T[]>(sql, params as never[], { prepare: true });
}
