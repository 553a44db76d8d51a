import type { Db } from "@/server/db/client";
import { serverEnv } from "@/server/env";
import { xeroConfigFromEnv, type XeroConfig } from "./config";
import { rateBudgetFor, type RateBudget } from "./rate-budget";
import type { SyncDeps } from "./sync-job";

/**
 * The process's Xero configuration, built once from the server environment, and its rate budget.
 * The budget itself is shared through the database; one instance per process lets calls to one
 * organisation queue in memory before asking it.
 */
const holder = globalThis as unknown as { tieoutXero?: { config: XeroConfig } | null; tieoutXeroBudget?: RateBudget };

export function xeroRuntime(): { config: XeroConfig } | null {
  if (holder.tieoutXero === undefined) {
    const config = xeroConfigFromEnv(serverEnv());
    holder.tieoutXero = config ? { config } : null;
  }
  return holder.tieoutXero;
}

export function syncDeps(db: Db): SyncDeps {
  const rt = xeroRuntime();
  if (!rt) throw new Error("Xero is not configured");
  holder.tieoutXeroBudget ??= rateBudgetFor(db, rt.config);
  return { config: rt.config, budget: holder.tieoutXeroBudget };
}
