import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startEmbeddedPostgres } from "@/server/db/embedded";
import { appRoleUrl, enableAppRole, migrateDatabase } from "@/server/db/bootstrap";
import { connect } from "@/server/db/client";
import { sql } from "drizzle-orm";

export type BenchConnection = ReturnType<typeof connect>;

/**
 * A throw-away embedded PostgreSQL for one benchmark: migrated, with the application role enabled
 * (the path the product takes: row-level security applies) and an owner connection for the
 * references and the checks. Everything is stopped and deleted afterwards, also on failure.
 */
export async function withBenchDatabase<T>(
  run: (db: { app: BenchConnection; admin: BenchConnection; appUrl: string; adminUrl: string }) => Promise<T>,
  opts: { log?: (line: string) => void; recycledWal?: number } = {},
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
      if (opts.recycledWal) await recycleWal(admin, opts.recycledWal);
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

/**
 * Gives a fresh cluster what a server that has been running has: `segments` WAL segments already
 * created and recycled for reuse by a checkpoint. A fresh cluster creates and zero-fills a new
 * 16 MB segment each time its WAL grows past the last one (≈ 60 ms, inside whichever commit
 * crosses it); a running server renames old segments instead.
 */
async function recycleWal(admin: BenchConnection, segments: number) {
  await admin.db.execute(sql`create table wal_warmup (x int)`);
  for (let i = 0; i < segments; i++) {
    await admin.db.execute(sql`insert into wal_warmup values (1)`); // a switch needs WAL since the last one
    await admin.db.execute(sql`select pg_switch_wal()`);
  }
  await admin.db.execute(sql`drop table wal_warmup`);
  await admin.db.execute(sql`checkpoint`);
}
