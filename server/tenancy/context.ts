import { AppError } from "@/server/errors";

export const ROLES = ["admin", "accountant", "approver", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who acts, for which organisation. Built from the session after the membership was re-read
 * from the database, or a named system actor for scheduled work.
 */
export type Ctx = {
  orgId: string;
  userId: string | null;
  role: Role | "system";
  actorLabel: string;
};

export const systemCtx = (orgId: string, name: string): Ctx => ({ orgId, userId: null, role: "system", actorLabel: `system:${name}` });

/** What each role may do. Viewers see everything and change nothing. */
const PERMISSIONS = {
  "ledger.read": ["admin", "accountant", "approver", "viewer"],
  "ledger.post": ["admin", "accountant"],
  "ledger.draft": ["admin", "accountant"],
  "periods.close": ["admin"],
  "periods.read": ["admin", "accountant", "approver", "viewer"],
  "approvals.read": ["admin", "accountant", "approver", "viewer"],
  /** Holding the approver role (or admin, who sits above it) is what lets a person sign off others' work. */
  "approvals.decide": ["admin", "approver"],
  "approvals.policy": ["admin"],
  "members.manage": ["admin"],
  "audit.read": ["admin"],
  "checks.run": ["admin", "accountant"],
  "sources.manage": ["admin", "accountant"],
  "imports.run": ["admin", "accountant"],
  /** Connect and disconnect Xero, map its organisations to entities. */
  "xero.manage": ["admin"],
  /** Start, cancel and retry Xero syncs. */
  "xero.sync": ["admin", "accountant"],
  /** Start a reconciliation run; confirm, reject, undo and make matches. */
  "matching.run": ["admin", "accountant"],
  "matching.decide": ["admin", "accountant"],
  /** Weights, thresholds, recalibration and rollback; tenant rules. */
  "matching.settings": ["admin"],
  "matching.rules": ["admin"],
  /** Assign, snooze, explain, reopen and comment on exceptions; draft their adjustments. */
  "exceptions.work": ["admin", "accountant"],
  /** The organisation's severity thresholds, SLAs, stale-source days and write-off account. */
  "exceptions.policy": ["admin"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Ctx["role"], permission: Permission): boolean {
  return role === "system" || (PERMISSIONS[permission] as readonly string[]).includes(role);
}

export function requirePermission(ctx: Ctx, permission: Permission): void {
  if (!can(ctx.role, permission)) {
    throw new AppError("forbidden", `Your role (${ctx.role}) does not allow this.`);
  }
}
