import { createHash } from "node:crypto";
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
  const content = canonicalJson({ ...c, at: c.at.toISOString() });
  return createHash("sha256").update(prevHash).update("\n").update(content).digest("hex");
}
