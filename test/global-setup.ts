import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@/server/db/embedded";
import { enableAppRole, migrateDatabase } from "@/server/db/bootstrap";

export const TEMPLATE_DB = "tieout_template";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the run's server, with database `postgres`. */
    pgAdminUrl: string;
    /** Password of the application role tieout_app (a cluster-wide role). */
    pgAppPassword: string;
  }
}

/**
 * Starts one PostgreSQL for the whole run, migrates a template database once and hands its
 * address to the test files; each db test file clones the template (test/db.ts).
 */
export default async function setup(project: TestProject) {
  const root = mkdtempSync(path.join(os.tmpdir(), "tieout-test-"));
  // As root the server runs as the OS user `postgres`, which must be able to enter the folder.
  chmodSync(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(root, "pg"), persistent: false, preferredPort: 0 });
  try {
    const admin = postgres(server.adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE_DB}`);
    await admin.end();
    const templateUrl = server.adminUrl(TEMPLATE_DB);
    await migrateDatabase(templateUrl);
    const appPassword = randomBytes(12).toString("hex");
    await enableAppRole(templateUrl, appPassword);
    // CREATE DATABASE ... TEMPLATE needs the template to have no sessions.
    const admin2 = postgres(server.adminUrl(), { max: 1, onnotice: () => {} });
    await admin2`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${TEMPLATE_DB} and pid <> pg_backend_pid()`;
    await admin2.unsafe(`ALTER DATABASE ${TEMPLATE_DB} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    await admin2.end();
    project.provide("pgAdminUrl", server.adminUrl());
    project.provide("pgAppPassword", appPassword);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  };
}
