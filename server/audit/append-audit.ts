import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { executePrepared } from "@/server/db/prepared";
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
  await executePrepared(tx, sql`select pg_advisory_xact_lock(hashtextextended('tieout.audit:' || ${orgId}, 0))`);
}

/**
 * Appends events to the organisation's chain inside the caller's transaction, so an audit row
 * exists exactly when the change it describes commits. The database re-checks each link.
 */
export async function appendAudit(tx: Db, ctx: Ctx, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await lockOrgChain(tx, ctx.orgId);
  await insertAuditRows(tx, ctx, auditRows(ctx, events, await chainHead(tx, ctx.orgId)));
}

export type ChainHead = { seq: number; hash: string };
export type AuditRow = { seq: number; action: string; entityType: string; entityId: string | null; data: Record<string, unknown>; prevHash: string; hash: string };

/** The last link of the organisation's chain; read it under lockOrgChain. */
export async function chainHead(tx: Db, orgId: string): Promise<ChainHead> {
  const head = await executePrepared<{ seq: string; hash: string }>(tx, sql`select seq, hash from audit_log where org_id = ${orgId} order by seq desc limit 1`);
  return head.length ? { seq: Number(head[0].seq), hash: head[0].hash } : { seq: 0, hash: GENESIS_HASH };
}

/** The rows that continue the chain from `head`, hashed in order (one timestamp for the batch). */
export function auditRows(ctx: Ctx, events: AuditEvent[], head: ChainHead, at = new Date()): AuditRow[] & { at: Date } {
  let seq = head.seq;
  let prevHash = head.hash;
  const rows = events.map((e) => {
    seq += 1;
    const entityId = e.entityId ?? null;
    const hash = auditHash(prevHash, {
      orgId: ctx.orgId, seq, at, actorUserId: ctx.userId, actorLabel: ctx.actorLabel,
      action: e.action, entityType: e.entityType, entityId, data: e.data,
    });
    const row = { seq, action: e.action, entityType: e.entityType, entityId, data: e.data, prevHash, hash };
    prevHash = hash;
    return row;
  });
  return Object.assign(rows, { at });
}

/** One INSERT for the rows; the organisation, time and actor are the same for all of them. */
export function insertAuditRows(tx: Db, ctx: Ctx, rows: AuditRow[] & { at: Date }) {
  return executePrepared(tx, sql`
    insert into audit_log (org_id, seq, at, actor_user_id, actor_label, action, entity_type, entity_id, data, prev_hash, hash)
    select ${ctx.orgId}::uuid, seq, ${rows.at.toISOString()}::timestamptz, ${ctx.userId}::uuid, ${ctx.actorLabel}::text, action, "entityType", "entityId", data, "prevHash", hash
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(seq bigint, action text, "entityType" text, "entityId" text, data jsonb, "prevHash" text, hash text)
    order by seq`);
}
