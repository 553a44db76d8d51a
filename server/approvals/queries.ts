import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { can, requirePermission, type Ctx } from "@/server/tenancy/context";
import { executorFor } from "./executors";
import type { AppliedPolicy } from "./policy";
import type { ContentView, Outcome } from "./registry";
import { expireOverdueRequests } from "./requests";

export const BOXES = ["waiting", "submitted", "decided", "all"] as const;
export type Box = (typeof BOXES)[number];
export const STATUSES = ["pending", "executed", "rejected", "expired", "withdrawn"] as const;

export type RequestSummary = {
  id: string; kind: string; status: string; summary: string; amount: string | null; currency: string | null; makerLabel: string;
  createdAt: string; expiresAt: string; decidedAt: string | null; approvals: number; approvalsRequired: number; adminRequired: boolean; version: number;
};

/** "Waiting for me": pending, not mine, not yet decided by me, and I hold a role that decides. */
const waitingFor = (ctx: Ctx) => sql`
  q.status = 'pending' and q.expires_at > now() and q.maker_id <> ${ctx.userId}
  and not exists (select 1 from approval_decisions d where d.request_id = q.id and d.approver_id = ${ctx.userId} and d.voided_at is null)`;

export async function listRequests(db: Db, ctx: Ctx, f: { box: Box; kind?: string; status?: string; limit?: number }): Promise<RequestSummary[]> {
  requirePermission(ctx, "approvals.read");
  await expireOverdueRequests(db, ctx);
  if (f.box === "waiting" && !can(ctx.role, "approvals.decide")) return [];
  const where = [sql`q.org_id = ${ctx.orgId}`];
  if (f.box === "waiting") where.push(waitingFor(ctx));
  if (f.box === "submitted") where.push(sql`q.maker_id = ${ctx.userId}`);
  if (f.box === "decided") where.push(sql`q.status <> 'pending'`);
  if (f.kind) where.push(sql`q.kind = ${f.kind}`);
  if (f.status && (STATUSES as readonly string[]).includes(f.status)) where.push(sql`q.status = ${f.status}`);
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<RequestSummary>(sql`
      select q.id, q.kind, q.status, q.summary, q.amount::text as amount, q.currency, q.maker_label as "makerLabel", q.created_at::text as "createdAt",
             q.expires_at::text as "expiresAt", q.decided_at::text as "decidedAt", q.approvals_required as "approvalsRequired", q.admin_required as "adminRequired", q.version,
             (select count(*)::int from approval_decisions d where d.request_id = q.id and d.voided_at is null and d.decision = 'approved') as approvals
      from approval_requests q where ${sql.join(where, sql` and `)}
      order by q.created_at desc limit ${Math.min(f.limit ?? 100, 500)}`)),
  ]);
}

/** The badge: how many requests wait for this person's decision. */
export async function countWaiting(db: Db, ctx: Ctx): Promise<number> {
  if (!can(ctx.role, "approvals.decide") || !ctx.userId) return 0;
  const [r] = await inOrg(db, ctx, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from approval_requests q where q.org_id = ${ctx.orgId} and ${waitingFor(ctx)}`));
  return r.n;
}

export type Decision = { approverLabel: string; approverRole: string; decision: string; comment: string; version: number; decidedAt: string; voidedAt: string | null };
export type RequestDetail = RequestSummary & {
  kindLabel: string; targetKey: string; makerId: string; reason: string; links: { label: string; url: string }[]; contentHash: string;
  policy: AppliedPolicy; result: Record<string, unknown> | null; outcome: Outcome | null; view: ContentView; decisions: Decision[];
  trail: { seq: number; at: string; actorLabel: string; action: string; data: Record<string, unknown> }[];
  /** What this person may do with it now. */
  canDecide: boolean; isMaker: boolean;
};

export async function getRequest(db: Db, ctx: Ctx, id: string): Promise<RequestDetail> {
  requirePermission(ctx, "approvals.read");
  if (!isUuid(id)) throw notFound("The approval request");
  await expireOverdueRequests(db, ctx);
  return inOrg(db, ctx, async (tx) => {
    const [q] = await tx.execute<RequestSummary & { targetKey: string; makerId: string; reason: string; links: RequestDetail["links"]; contentHash: string; policy: AppliedPolicy; result: Record<string, unknown> | null; content: unknown }>(sql`
      select q.id, q.kind, q.status, q.summary, q.amount::text as amount, q.currency, q.maker_label as "makerLabel", q.created_at::text as "createdAt",
             q.expires_at::text as "expiresAt", q.decided_at::text as "decidedAt", q.approvals_required as "approvalsRequired", q.admin_required as "adminRequired",
             q.version, q.target_key as "targetKey", q.maker_id as "makerId", q.reason, q.links, q.content_hash as "contentHash", q.policy, q.result, q.content,
             (select count(*)::int from approval_decisions d where d.request_id = q.id and d.voided_at is null and d.decision = 'approved') as approvals
      from approval_requests q where q.org_id = ${ctx.orgId} and q.id = ${id}`);
    if (!q) throw notFound("The approval request");
    const decisions = await tx.execute<Decision>(sql`
      select approver_label as "approverLabel", approver_role as "approverRole", decision, comment, request_version as version, decided_at::text as "decidedAt", voided_at::text as "voidedAt"
      from approval_decisions where org_id = ${ctx.orgId} and request_id = ${id} order by decided_at`);
    const trail = await tx.execute<RequestDetail["trail"][number]>(sql`
      select seq::int, at::text, actor_label as "actorLabel", action, data from audit_log
      where org_id = ${ctx.orgId} and entity_type = 'approval_request' and entity_id = ${id} order by seq`);
    const ex = executorFor(q.kind);
    const { content, ...rest } = q;
    const isMaker = q.makerId === ctx.userId;
    const decidedByMe = (await tx.execute(sql`select 1 from approval_decisions where request_id = ${id} and approver_id = ${ctx.userId} and voided_at is null`)).length > 0;
    return {
      ...rest,
      kindLabel: ex.label,
      outcome: q.status === "executed" && q.result ? ex.outcome(q.result, content) : null,
      view: await ex.present(tx, ctx, content),
      decisions: [...decisions],
      trail: [...trail],
      isMaker,
      canDecide: q.status === "pending" && !isMaker && !decidedByMe && can(ctx.role, "approvals.decide"),
    };
  });
}
