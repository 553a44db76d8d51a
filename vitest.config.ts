import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * One embedded PostgreSQL per run (test/global-setup.ts), one database per db test file cloned
 * from a migrated template (test/db.ts). Two workers: the machine has two cores and the
 * database server needs some of them too.
 */
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["server/**/*.test.ts", "test/**/*.test.ts", "inngest/**/*.test.ts", "e2e/simulators/**/*.test.ts"],
    // e2e/*.spec.ts are Playwright's; the simulators under e2e/ have vitest tests of their own.
    exclude: ["node_modules", "e2e/*.spec.ts", "e2e/*.setup.ts", ".next", ".data"],
    environment: "node",
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["./test/global-setup.ts"],
    // The heavy files post thousands of entries; these bounds catch a hang, not a slow path.
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
