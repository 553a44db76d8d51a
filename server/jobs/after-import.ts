import type { Db } from "@/server/db/client";
import { clearStaleAfterDelivery } from "@/server/exceptions/stale-sources";
import { consoleJobLogger, dispatch } from "./dispatch";
import { MATCHING_BACKLOG_ADDED, todayUtc } from "./events";

/**
 * Everything that follows an import that has committed — a file confirmed by a person or a
 * webhook delivery: the source is no longer stale (its stale_source exception is cleared — a sweep
 * of the organisation's few sources, cheap), and the new lines, which the landing added to the
 * source's matching backlog, are reconciled. An import with nothing new still counts as the
 * source delivering. Neither may fail the import, which has already landed: failures are logged.
 */
export async function afterImportLanded(db: Db, orgId: string, imp: { sourceId: string; newCount: number; actor: string }, now: Date = new Date()): Promise<void> {
  await clearStaleAfterDelivery(db, orgId, imp.actor, todayUtc(now));
  if (imp.newCount > 0) await requestBacklogMatching(orgId, imp.sourceId);
}

/**
 * Asks for the source's backlog to be reconciled. Never inside the import's transaction (the
 * import must not wait for, or fail with, matching). Both runners wait for deliveries to pause
 * before running, so a burst of webhooks becomes one run. A dispatch failure (Inngest
 * unreachable) is logged, not reported as a failed import: the backlog row keeps the dates, and
 * the next delivery, a restart or the nightly run reconciles them.
 */
export async function requestBacklogMatching(orgId: string, sourceId: string): Promise<void> {
  try {
    await dispatch({ name: MATCHING_BACKLOG_ADDED, data: { orgId, sourceId } });
  } catch (e) {
    consoleJobLogger.error("could not request matching after an import", { orgId, sourceId, error: String(e) });
  }
}
