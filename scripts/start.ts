/**
 * `npm start`: one command runs the whole product. Without DATABASE_URL it starts an embedded
 * PostgreSQL in .data/ (kept between runs), migrates under an advisory lock, seeds the demo the
 * first time, builds the app if the sources changed, and serves it on PORT. Ctrl-C / SIGTERM
 * stop the app and then the database cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres, freePort, type EmbeddedServer } from "@/server/db/embedded";
import { appRoleUrl, enableAppRole, migrateDatabase } from "@/server/db/bootstrap";
import { connect } from "@/server/db/client";
import { DEMO_PASSWORD, DEMO_USERS, isSeeded, seedDemo } from "@/server/demo/seed-demo";
import { startInlineScheduler } from "@/server/jobs/inline-scheduler";

const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

const root = process.cwd();
const dataDir = path.resolve(root, process.env.TIEOUT_DATA_DIR ?? ".data");
mkdirSync(dataDir, { recursive: true });

/** A secret generated on first run and kept in .data/, so sessions survive restarts. */
function localSecret(name: string, bytes = 32): string {
  const file = path.join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(bytes).toString("hex"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

function sourceHash(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  for (const d of ["app", "components", "server", "drizzle", "inngest", "public"]) if (existsSync(path.join(root, d))) walk(path.join(root, d));
  for (const f of ["package-lock.json", "next.config.mjs", "tsconfig.json"]) h.update(readFileSync(path.join(root, f)));
  return h.digest("hex");
}

/**
 * As root, PostgreSQL runs as the OS user `postgres`, which must be able to reach its data folder.
 * A checkout under a private home (e.g. /root) is not reachable, so the data then lives in the
 * temp folder instead, under a name derived from the checkout, and we say so.
 */
function pgDataDir(): string {
  const wanted = path.join(dataDir, "pg");
  if (process.getuid?.() !== 0) return wanted;
  const parents: string[] = [];
  for (let d = path.dirname(wanted); d !== path.dirname(d); d = path.dirname(d)) parents.push(d);
  const reachable = parents.every((d) => !existsSync(d) || (statSync(d).mode & 0o001) !== 0);
  if (reachable) return wanted;
  const fallback = path.join(os.tmpdir(), `tieout-${createHash("sha256").update(wanted).digest("hex").slice(0, 12)}`, "pg");
  console.log(`${path.dirname(wanted)} is not reachable by the postgres OS user; keeping the database in ${fallback}`);
  return fallback;
}

let pg: EmbeddedServer | undefined;
let app: ChildProcess | undefined;
let stopping = false;
let stopScheduler: (() => void) | undefined;

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping Tieout…");
  stopScheduler?.();
  if (app && app.exitCode === null) {
    app.kill("SIGTERM");
    await new Promise((r) => app!.once("exit", r));
  }
  if (pg) {
    await pg.stop();
    console.log("Embedded PostgreSQL stopped.");
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main() {
  let databaseUrl = process.env.DATABASE_URL;
  let adminUrl = process.env.DATABASE_ADMIN_URL ?? databaseUrl;
  if (!databaseUrl) {
    const pgDir = pgDataDir();
    console.log(`No DATABASE_URL: starting the embedded PostgreSQL in ${path.relative(root, pgDir) || pgDir} …`);
    pg = await startEmbeddedPostgres({ dataDir: pgDir, persistent: true, preferredPort: Number(process.env.EMBEDDED_PG_PORT ?? 54329) });
    adminUrl = pg.adminUrl();
    const appPassword = localSecret("app-role-password", 18);
    await migrateDatabase(adminUrl);
    await enableAppRole(adminUrl, appPassword);
    databaseUrl = appRoleUrl(adminUrl, appPassword);
  } else {
    await migrateDatabase(adminUrl!);
  }

  const admin = connect(adminUrl!, { max: 1 });
  const seeded = await isSeeded(admin.db);
  await admin.close();
  const appDb = connect(databaseUrl, { max: 4 });
  if (!seeded && process.env.SEED_DEMO !== "0") {
    console.log("Seeding the demo organisation…");
    await seedDemo(appDb.db);
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: process.env.AUTH_SECRET ?? localSecret("auth-secret"),
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  const stampFile = path.join(root, ".next", "tieout-build-stamp");
  const hash = sourceHash();
  if (!existsSync(stampFile) || readFileSync(stampFile, "utf8") !== hash) {
    console.log("Building the app (first run or sources changed)…");
    const r = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env });
    if (r.status !== 0) throw new Error("next build failed");
    writeFileSync(stampFile, hash);
  }

  // Without Inngest the app runs its scheduled work itself (see server/jobs).
  if (!process.env.INNGEST_EVENT_KEY && !process.env.INNGEST_DEV) stopScheduler = startInlineScheduler(appDb.db);

  const port = await freePort(Number(process.env.PORT ?? 3000));
  if (process.env.PORT && String(port) !== process.env.PORT) console.log(`Port ${process.env.PORT} is taken; using ${port}.`);
  const server = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", process.env.HOST ?? "127.0.0.1"], { stdio: ["ignore", "inherit", "inherit"], env: { ...env, AUTH_URL: process.env.AUTH_URL ?? `http://localhost:${port}` } });
  server.once("exit", (code) => void shutdown(code ?? 0));
  app = server;
  console.log(`\nTieout is running at http://localhost:${port}\n\nDemo sign-in (password "${DEMO_PASSWORD}"):`);
  for (const u of DEMO_USERS) console.log(`  ${u.role.padEnd(10)} ${u.email}`);
  console.log("  (admin@ also belongs to a second organisation, Harbour Analytics, to show switching)\n");
}

main().catch(async (e) => {
  console.error(e instanceof Error ? e.message : e);
  await shutdown(1);
});
