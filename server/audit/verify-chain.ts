import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { auditHash, GENESIS_HASH } from "./chain";

export type ChainVerification =
  | { ok: true; rows: number; headHash: string }
  | { ok: false; rows: number; firstBrokenSeq: number; reason: string };

type Row = {
  seq: string; at: Date; actor_user_id: string | null; actor_label: string; action: string;
  entity_type: string; entity_id: string | null; data: Record<string, unknown>; prev_hash: string; hash: string;
};

/**
 * Recomputes the organisation's chain from the first row and reports the first row whose
 * content, link or position does not hold: a changed byte, a deleted or an inserted row.
 */
export async function verifyAuditChain(db: Db, ctx: Ctx): Promise<ChainVerification> {
  requirePermission(ctx, "audit.read");
  return inOrg(db, ctx, async (tx) => {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    const pageSize = 5000;
    for (;;) {
      const rows = await tx.execute<Row>(sql`
        select seq, at, actor_user_id, actor_label, action, entity_type, entity_id, data, prev_hash, hash
        from audit_log where org_id = ${ctx.orgId} and seq >= ${expectedSeq} order by seq limit ${pageSize}`);
      for (const r of rows) {
        const seq = Number(r.seq);
        if (seq !== expectedSeq) {
          return { ok: false, rows: expectedSeq - 1, firstBrokenSeq: expectedSeq, reason: `row ${expectedSeq} is missing (next row is ${seq})` };
        }
        if (r.prev_hash !== prevHash) {
          return { ok: false, rows: seq - 1, firstBrokenSeq: seq, reason: `row ${seq} does not link to the hash of row ${seq - 1}` };
        }
        const recomputed = auditHash(prevHash, {
          orgId: ctx.orgId, seq, at: new Date(r.at), actorUserId: r.actor_user_id, actorLabel: r.actor_label,
          action: r.action, entityType: r.entity_type, entityId: r.entity_id, data: r.data,
        });
        if (recomputed !== r.hash) {
          return { ok: false, rows: seq - 1, firstBrokenSeq: seq, reason: `row ${seq} was altered: its content no longer matches its hash` };
        }
        prevHash = r.hash;
        expectedSeq += 1;
      }
      if (rows.length < pageSize) break;
    }
    return { ok: true, rows: expectedSeq - 1, headHash: prevHash };
  });
}
