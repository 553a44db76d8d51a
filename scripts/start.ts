/**
 * `npm start`: one command runs the whole product. Without DATABASE_URL it starts an embedded
 * PostgreSQL in .data/ (kept between runs), migrates under an advisory lock, seeds the demo the
 * first time, builds the app if the sources changed, and serves it on PORT. Ctrl-C / SIGTERM
 * stop the app and then the database cleanly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { ensureBuild } from "./build-stamp";
import { startEmbeddedPostgres, freePort, type EmbeddedServer } from "@/server/db/embedded";
import { appRoleUrl, enableAppRole, migrateDatabase } from "@/server/db/bootstrap";
import { connect } from "@/server/db/client";
import { DEMO_PASSWORD, DEMO_USERS, isSeeded, seedDemo } from "@/server/demo/seed-demo";
import { startInlineScheduler } from "@/server/jobs/inline-scheduler";
import { xeroConfigFromEnv, type XeroEnv } from "@/server/xero/config";
import { rateBudgetFor } from "@/server/xero/rate-budget";
import { queueScheduledSyncs, resumeInterruptedSyncs, runSyncJobDetached } from "@/server/xero/sync-runner";

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
let simulator: ChildProcess | undefined;
let xeroTimer: NodeJS.Timeout | undefined;

/**
 * Without Xero credentials, Xero is the local simulator (e2e/simulators/xero), started here on
 * loopback with its own client id and this app's callback registered, so the whole connect-and-sync
 * flow works offline. Its admin API (/__sim/…) can change its data between syncs.
 */
async function startXeroSimulator(appPort: number): Promise<Record<string, string>> {
  const port = await freePort(Number(process.env.XERO_SIM_PORT ?? 3201));
  const callback = `http://localhost:${appPort}/api/xero/callback`;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "e2e/simulators/xero/main.ts")], {
    env: { ...process.env, XERO_SIM_PORT: String(port), XERO_SIM_REDIRECT_URIS: `${callback},http://127.0.0.1:${appPort}/api/xero/callback` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  simulator = child;
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d) => {
      buf += d;
      const line = buf.split("\n").find((l) => l.includes("xeroSimulator"));
      if (line) resolve(JSON.parse(line).xeroSimulator);
    });
    child.once("exit", (code) => reject(new Error(`the Xero simulator exited (${code})`)));
  });
  console.log(`No Xero credentials: Xero is the local simulator at ${url}`);
  return {
    XERO_CLIENT_ID: "TIEOUTSIMCLIENT00000000000000000",
    XERO_CLIENT_SECRET: "tieout-simulator-secret",
    XERO_ISSUER: url,
    XERO_AUTHORIZE_URL: `${url}/identity/connect/authorize`,
    XERO_TOKEN_URL: `${url}/connect/token`,
    XERO_REVOCATION_URL: `${url}/connect/revocation`,
    XERO_CONNECTIONS_URL: `${url}/connections`,
    XERO_API_BASE: `${url}/api.xro/2.0`,
    XERO_REDIRECT_URI: callback,
    XERO_SIMULATED: "1",
  };
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping Tieout…");
  stopScheduler?.();
  if (xeroTimer) clearInterval(xeroTimer);
  if (simulator && simulator.exitCode === null) simulator.kill("SIGTERM");
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
  ensureBuild(root, env);

  // Without Inngest the app runs its scheduled work itself (see server/jobs).
  if (!process.env.INNGEST_EVENT_KEY && !process.env.INNGEST_DEV) stopScheduler = startInlineScheduler(appDb.db);

  const port = await freePort(Number(process.env.PORT ?? 3000));
  if (process.env.PORT && String(port) !== process.env.PORT) console.log(`Port ${process.env.PORT} is taken; using ${port}.`);

  // Xero: the configured one, or the local simulator. Tokens are sealed under XERO_TOKEN_KEYS, or
  // under a key generated on first run and kept in .data/ (rotate with scripts/xero-rewrap-tokens.ts).
  if (!process.env.XERO_CLIENT_ID) Object.assign(env, await startXeroSimulator(port));
  env.XERO_TOKEN_KEYS ??= `local1:${Buffer.from(localSecret("xero-token-key"), "hex").toString("base64")}`;
  env.XERO_WEBHOOK_KEY ??= localSecret("xero-webhook-key", 24);
  env.AUTH_URL ??= `http://localhost:${port}`;
  const xeroConfig = xeroConfigFromEnv(env as XeroEnv);
  if (xeroConfig && !process.env.INNGEST_EVENT_KEY && !process.env.INNGEST_DEV) {
    // Without Inngest: resume syncs a previous run left unfinished, and queue an incremental sync of every connection hourly.
    const deps = { config: xeroConfig, budget: rateBudgetFor(appDb.db, xeroConfig) };
    const resumed = await resumeInterruptedSyncs(appDb.db, deps);
    if (resumed.length) console.log(`Resuming ${resumed.length} unfinished Xero sync(s).`);
    xeroTimer = setInterval(() => {
      void queueScheduledSyncs(appDb.db)
        .then((queued) => queued.filter((q) => !q.existing).forEach((q) => void runSyncJobDetached(appDb.db, q.orgId, q.jobId, deps)))
        .catch((e) => console.error("hourly Xero sync could not be queued:", String(e)));
    }, 3_600_000);
    xeroTimer.unref();
  }
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
