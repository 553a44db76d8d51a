import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startEmbeddedPostgres } from "@/server/db/embedded";
import { appRoleUrl, enableAppRole, migrateDatabase } from "@/server/db/bootstrap";
import { connect } from "@/server/db/client";

export type BenchConnection = ReturnType<typeof connect>;

/**
 * A throw-away embedded PostgreSQL for one benchmark: migrated, with the application role enabled
 * (the path the product takes: row-level security applies) and an owner connection for the
 * references and the checks. Everything is stopped and deleted afterwards, also on failure.
 */
export async function withBenchDatabase<T>(
  run: (db: { app: BenchConnection; admin: BenchConnection; appUrl: string; adminUrl: string }) => Promise<T>,
  opts: { log?: (line: string) => void } = {},
): Promise<T> {
  const root = mkdtempSync(path.join(os.tmpdir(), "tieout-bench-"));
  chmodSync(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(root, "pg"), persistent: false, preferredPort: 0, log: opts.log });
  try {
    const adminUrl = server.adminUrl();
    await migrateDatabase(adminUrl);
    const password = randomBytes(12).toString("hex");
    await enableAppRole(adminUrl, password);
    const appUrl = appRoleUrl(adminUrl, password);
    const app = connect(appUrl, { max: 2 });
    const admin = connect(adminUrl, { max: 2 });
    try {
      // The URLs are for benchmarks that start the app itself against this database.
      return await run({ app, admin, appUrl, adminUrl });
    } finally {
      await app.close();
      await admin.close();
    }
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
