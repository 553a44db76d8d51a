import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3100);
// A fresh database each run, in the temp folder (reachable by the postgres OS user when run as root).
const DATA_DIR = path.join(os.tmpdir(), `tieout-e2e-${PORT}`);
export const BASE_URL = `http://localhost:${PORT}`;
/** The local Xero simulator npm start runs when no Xero credentials are set (e2e/xero.spec.ts drives its admin API). */
export const XERO_SIM_PORT = Number(process.env.E2E_XERO_SIM_PORT ?? PORT + 101);

/**
 * End-to-end against the real product: `npm start` on a fresh embedded PostgreSQL (its own data
 * folder, seeded demo), a production build, and Debian's Chromium (never a downloaded browser).
 */
export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  projects: [
    { name: "setup", testMatch: /auth\.setup\.ts/ },
    { name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined }, dependencies: ["setup"], testMatch: /.*\.spec\.ts/ },
  ],
  webServer: {
    command: `rm -rf ${DATA_DIR} && TIEOUT_DATA_DIR=${DATA_DIR} EMBEDDED_PG_PORT=0 PORT=${PORT} XERO_SIM_PORT=${XERO_SIM_PORT} SIGN_IN_LOCK_MINUTES=1 npx tsx scripts/start.ts`,
    url: `${BASE_URL}/api/health`,
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
  },
});
