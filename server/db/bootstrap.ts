import path from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { sql } from "drizzle-orm";
import { connect } from "./client";

export const APP_ROLE = "tieout_app";
const MIGRATION_LOCK = 727_274_001; // any constant shared by every process that migrates

/**
 * Brings a database up to the current schema, under an advisory lock so that two processes
 * starting at once do not both migrate. Runs as the owner (admin URL); never during `next build`.
 */
export async function migrateDatabase(adminUrl: string): Promise<void> {
  const { db, client, close } = connect(adminUrl, { max: 1 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migrate(db as never, { migrationsFolder: path.join(process.cwd(), "drizzle/migrations") });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    await close();
  }
}

/** Lets the application role log in with the given password (the role itself comes from a migration). */
export async function enableAppRole(adminUrl: string, password: string): Promise<void> {
  const { db, close } = connect(adminUrl, { max: 1 });
  try {
    await db.execute(sql.raw(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`));
  } finally {
    await close();
  }
}

/** The same server and database, connected as the application role. */
export function appRoleUrl(adminUrl: string, password: string): string {
  const u = new URL(adminUrl);
  u.username = APP_ROLE;
  u.password = password;
  return u.toString();
}
