import { randomBytes } from "node:crypto";
import { afterAll, inject } from "vitest";
import postgres from "postgres";
import { connect, type Db } from "@/server/db/client";
import { appRoleUrl } from "@/server/db/bootstrap";

const TEMPLATE_DB = "tieout_template";

export type TestDatabase = {
  name: string;
  /** The application role: row-level security and grants apply. */
  db: Db;
  /** The owner (superuser): for setup the app cannot do, and for tampering. */
  adminDb: Db;
  /** Raw postgres.js clients, for statements that need exact control (session settings, COMMIT). */
  appClient: postgres.Sql;
  adminClient: postgres.Sql;
  appUrl: string;
  adminUrl: string;
  close: () => Promise<void>;
};

function withDatabase(url: string, database: string) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh database cloned from the migrated template, dropped after the file's tests.
 * Call at the top level of a test file: `const t = await testDatabase()`.
 */
export async function testDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const serverUrl = inject("pgAdminUrl");
  const password = inject("pgAppPassword");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const server = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await server.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  await server.end();
  const adminUrl = withDatabase(serverUrl, name);
  const appUrl = appRoleUrl(adminUrl, password);
  const app = connect(appUrl, { max: opts.max ?? 10 });
  const admin = connect(adminUrl, { max: 2 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all([app.close(), admin.close()]);
    const s = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await s.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await s.end();
  };
  afterAll(close);
  return { name, db: app.db, adminDb: admin.db, appClient: app.client, adminClient: admin.client, appUrl, adminUrl, close };
}

export * from "./fixtures";
