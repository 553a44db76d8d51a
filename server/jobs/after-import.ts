import type { Db } from "@/server/db/client";
import { clearStaleAfterDelivery } from "@/server/exceptions/stale-sources";
import type { Ctx } from "@/server/tenancy/context";
import { consoleJobLogger } from "./dispatch";
import { dispatch } from "./dispatch";
import { MATCHING_RUN_REQUESTED, todayUtc } from "./events";

/**
 * Everything that follows an import that has committed: the source is no longer stale (its
 * stale_source exception is cleared — a sweep of the organisation's few sources, cheap), and the
 * new lines are reconciled. An import with nothing new still counts as the source delivering.
 * Neither may fail the import, which has already landed: failures are logged.
 */
export async function afterImportLanded(db: Db, ctx: Ctx, imp: { sourceId: string; importId: string; newCount: number }, now: Date = new Date()): Promise<void> {
  await clearStaleAfterDelivery(db, ctx.orgId, "after-import", todayUtc(now));
  await requestMatchingAfterImport(ctx, imp);
}

/**
 * After an import has committed: ask for a reconciliation run over the dates it brought in.
 * Never inside the import's transaction (the import must not wait for, or fail with, matching),
 * and a dispatch failure (Inngest unreachable) is logged, not reported as a failed import — the
 * nightly run reconciles the lines anyway.
 */
export async function requestMatchingAfterImport(ctx: Ctx, imp: { sourceId: string; importId: string; newCount: number }): Promise<void> {
  if (imp.newCount === 0) return;
  try {
    await dispatch({
      name: MATCHING_RUN_REQUESTED,
      id: `import:${imp.importId}`,
      data: { orgId: ctx.orgId, sourceId: imp.sourceId, importId: imp.importId, trigger: "import", requestedBy: ctx.userId ?? undefined },
    });
  } catch (e) {
    consoleJobLogger.error("could not request matching after an import", { orgId: ctx.orgId, importId: imp.importId, error: String(e) });
  }
}
