import { serverEnv } from "@/server/env";
import { xeroConfigFromEnv, type XeroConfig } from "./config";
import { RateBudget } from "./rate-budget";
import type { SyncDeps } from "./sync-job";

/**
 * The process's Xero configuration and its one rate budget (limits are per tenant across every
 * job in the process, so the budget must be shared). Built once from the server environment.
 */
const holder = globalThis as unknown as { tieoutXero?: { config: XeroConfig; budget: RateBudget } | null };

export function xeroRuntime(): { config: XeroConfig; budget: RateBudget } | null {
  if (holder.tieoutXero === undefined) {
    const config = xeroConfigFromEnv(serverEnv());
    holder.tieoutXero = config ? { config, budget: new RateBudget({ ...config.limits, timeScale: config.timeScale }) } : null;
  }
  return holder.tieoutXero;
}

export function syncDeps(): SyncDeps {
  const rt = xeroRuntime();
  if (!rt) throw new Error("Xero is not configured");
  return { config: rt.config, budget: rt.budget };
}
