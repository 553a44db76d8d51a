import { hash } from "node:crypto";
import { canonicalJson } from "@/server/canonical-json";

export const GENESIS_HASH = "0".repeat(64);

export type AuditContent = {
  orgId: string;
  seq: number;
  at: Date;
  actorUserId: string | null;
  actorLabel: string;
  action: string;
  entityType: string;
  entityId: string | null;
  data: Record<string, unknown>;
};

/** hash = sha256(previous hash, newline, canonical JSON of everything the row says). */
export function auditHash(prevHash: string, c: AuditContent): string {
  // Keys in canonical (sorted) order, so canonicalJson can hand this to the native serialiser.
  const content = canonicalJson({
    action: c.action, actorLabel: c.actorLabel, actorUserId: c.actorUserId, at: c.at.toISOString(), data: c.data,
    entityId: c.entityId, entityType: c.entityType, orgId: c.orgId, seq: c.seq,
  });
  return hash("sha256", `${prevHash}\n${content}`); // one-shot: half the cost of createHash for a short input
}
