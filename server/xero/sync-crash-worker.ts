/**
 * Test support for crash.db.test.ts (not part of the app): runs one Xero sync job in its own
 * process and kills itself with SIGKILL inside the page transaction named in CRASH_AT, after the
 * page's records were written and before they commit — the worst moment for a crash.
 */
import { connect } from "@/server/db/client";
import { parseKeyring } from "./token-vault";
import { rateBudgetFor } from "./rate-budget";
import { runSyncJob } from "./sync-runner";
import type { XeroConfig } from "./config";

const input = JSON.parse(process.env.CRASH_WORKER ?? "{}") as { appUrl: string; orgId: string; jobId: string; config: Omit<XeroConfig, "keyring"> & { keySpec: string }; crashAt: { resource: string; page: number } };
const { db, close } = connect(input.appUrl, { max: 2 });
const config: XeroConfig = { ...input.config, keyring: parseKeyring(input.config.keySpec) };
await runSyncJob(db, input.orgId, input.jobId, {
  config,
  budget: rateBudgetFor(db, config),
  beforeCommit: ({ resource, page }) => {
    if (resource === input.crashAt.resource && page === input.crashAt.page) {
      console.log(`crashing inside ${resource} page ${page}`);
      process.kill(process.pid, "SIGKILL");
    }
  },
});
await close();
console.log("finished without crashing");
