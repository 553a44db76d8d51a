import { and, desc, eq, gte, lt, lte, sql } from "drizzle-orm";
import { auditLog } from "@/drizzle/schema";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { requirePermission, type Ctx } from "@/server/tenancy/context";

export type AuditFilter = { action?: string; entityType?: string; actor?: string; from?: string; to?: string; beforeSeq?: number; limit?: number };

/** The organisation's audit log, newest first, filtered, paged by sequence number. */
export async function listAudit(db: Db, ctx: Ctx, f: AuditFilter) {
  requirePermission(ctx, "audit.read");
  const limit = Math.min(f.limit ?? 50, 200);
  return inOrg(db, ctx, async (tx) => {
    const rows = await tx
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.orgId, ctx.orgId),
          f.action ? eq(auditLog.action, f.action) : undefined,
          f.entityType ? eq(auditLog.entityType, f.entityType) : undefined,
          f.actor ? sql`${auditLog.actorLabel} ilike ${"%" + f.actor + "%"}` : undefined,
          f.from ? gte(auditLog.at, new Date(`${f.from}T00:00:00Z`)) : undefined,
          f.to ? lte(auditLog.at, new Date(`${f.to}T23:59:59.999Z`)) : undefined,
          f.beforeSeq ? lt(auditLog.seq, f.beforeSeq) : undefined,
        ),
      )
      .orderBy(desc(auditLog.seq))
      .limit(limit + 1);
    const actions = await tx.selectDistinct({ action: auditLog.action }).from(auditLog).where(eq(auditLog.orgId, ctx.orgId));
    return {
      rows: rows.slice(0, limit),
      nextBeforeSeq: rows.length > limit ? rows[limit - 1].seq : null,
      actions: actions.map((a) => a.action).sort(),
    };
  });
}
