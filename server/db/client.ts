import { drizzle, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import type { PgDatabase } from "drizzle-orm/pg-core";
import postgres from "postgres";
import * as schema from "@/drizzle/schema";

export type Schema = typeof schema;
/** A database handle or an open transaction: services take either as their first argument. */
export type Db = PgDatabase<PostgresJsQueryResultHKT, Schema>;

export function connect(url: string, options: { max?: number } = {}) {
  const client = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // numeric stays a string (postgres.js default); dates stay 'YYYY-MM-DD' strings, not JS Dates.
    types: { date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x } },
  });
  const db = drizzle({ client, schema, casing: "snake_case" });
  return { db: db as unknown as Db, client, close: () => client.end({ timeout: 5 }) };
}

const globalForDb = globalThis as unknown as { tieoutDb?: ReturnType<typeof connect> };

/** The app's pool, connected as the application role (see server/db/bootstrap.ts). */
export function appDb(url: string): Db {
  globalForDb.tieoutDb ??= connect(url);
  return globalForDb.tieoutDb.db;
}
