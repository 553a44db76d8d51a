import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import type { Ctx } from "@/server/tenancy/context";
import { auditHash, GENESIS_HASH } from "./chain";

export type AuditEvent = {
  action: string;
  entityType: string;
  entityId?: string | null;
  data: Record<string, unknown>;
};

/**
 * Serialises writers of one organisation's audit chain until commit. Services that write several
 * related rows take it first so their own sequences (entry numbers) are allocated under it too.
 */
export async function lockOrgChain(tx: Db, orgId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.audit:' || ${orgId}, 0))`);
}

/**
 * Appends events to the organisation's chain inside the caller's transaction, so an audit row
 * exists exactly when the change it describes commits. The database re-checks each link.
 */
export async function appendAudit(tx: Db, ctx: Ctx, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await lockOrgChain(tx, ctx.orgId);
  const head = await tx.execute<{ seq: string; hash: string }>(
    sql`select seq, hash from audit_log where org_id = ${ctx.orgId} order by seq desc limit 1`,
  );
  let seq = head.length ? Number(head[0].seq) : 0;
  let prevHash = head.length ? head[0].hash : GENESIS_HASH;
  const at = new Date();
  const rows = events.map((e) => {
    seq += 1;
    const content = {
      orgId: ctx.orgId,
      seq,
      at,
      actorUserId: ctx.userId,
      actorLabel: ctx.actorLabel,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId ?? null,
      data: e.data,
    };
    const hash = auditHash(prevHash, content);
    const row = { ...content, at: at.toISOString(), prev_hash: prevHash, hash };
    prevHash = hash;
    return row;
  });
  await tx.execute(sql`
    insert into audit_log (org_id, seq, at, actor_user_id, actor_label, action, entity_type, entity_id, data, prev_hash, hash)
    select "orgId", seq, at, "actorUserId", "actorLabel", action, "entityType", "entityId", data, prev_hash, hash
    from json_to_recordset(${JSON.stringify(rows)}::json) as r(
      "orgId" uuid, seq bigint, at timestamptz, "actorUserId" uuid, "actorLabel" text, action text,
      "entityType" text, "entityId" text, data jsonb, prev_hash text, hash text)
    order by seq`);
}
