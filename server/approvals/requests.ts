import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { canonicalJson } from "@/server/canonical-json";
import { AppError, fieldErrorsOf, fromDbError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { loadControlSettings, loadPolicy, tierFor, type AppliedPolicy } from "./policy";
import { executorFor } from "./executors";
import type { Executor, RequestRef } from "./registry";

export const linkInput = z.object({ label: z.string().trim().min(1).max(200), url: z.string().trim().url().max(2000).refine((u) => /^https?:\/\//.test(u) || u.startsWith("/"), "http(s) links only") });

/** The maker's reason, as every proposal form asks for it and the request stores it. */
export const requestReason = z.string().trim().min(3, "Say why, for the approvers").max(2000);

export const submitInput = z.object({
  kind: z.string().min(1).max(50),
  /** What the request acts on; one pending request per target. Resubmitting the same target edits it. */
  targetKey: z.string().trim().min(1).max(200),
  content: z.unknown(),
  reason: requestReason,
  links: z.array(linkInput).max(20).default([]),
});
export type SubmitInput = z.input<typeof submitInput>;

export type SubmitResult =
  | { status: "executed"; requestId: null; result: Record<string, unknown>; policy: AppliedPolicy }
  | { status: "pending"; requestId: string; version: number; replayed: boolean; policy: AppliedPolicy };

const hashOf = (kind: string, content: unknown) => createHash("sha256").update(canonicalJson({ content, kind })).digest("hex");

/** Input parsed, or a validation error a person can act on (services are called by more than the forms). */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError("validation", `${r.error.issues[0].path.join(".") || "input"}: ${r.error.issues[0].message}`, fieldErrorsOf(r.error));
  return r.data;
}

/** Parsed content as plain JSON (no undefined members), the form that is stored and hashed. */
function parseContent<C>(ex: Executor<C>, raw: unknown): C {
  const r = ex.content.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AppError("validation", `The request is not valid: ${issue.path.join(".")} — ${issue.message}`, fieldErrorsOf(r.error));
  }
  return JSON.parse(JSON.stringify(r.data)) as C;
}

/** The executor's failure, kept apart from failures of the approval itself. */
class ExecutionFailed extends Error {
  constructor(readonly cause: unknown) {
    super("execution failed");
  }
}

function withDbErrors<T>(p: Promise<T>): Promise<T> {
  return p.catch((e) => {
    throw e instanceof ExecutionFailed ? e : (fromDbError(e) ?? e);
  });
}

/**
 * Submits a controlled action. The executor checks the content could run now; the organisation's
 * policy picks the tier from its amount. A tier needing no approval runs the action at once, as
 * the maker, in this transaction. Otherwise a pending request holds the exact content (and its
 * hash) until approvers decide. Submitting again for the same target with the same content
 * returns the pending request; with other content it is an edit: a new version, and every
 * decision given so far is void (the database does the voiding, see 0008_approvals).
 */
export async function requestApproval(db: Db, ctx: Ctx, input: SubmitInput): Promise<SubmitResult> {
  const s = validate(submitInput, input);
  const ex = executorFor(s.kind);
  requirePermission(ctx, ex.submitPermission);
  if (!ctx.userId) throw new AppError("forbidden", "A controlled action needs a person as its maker.");
  const content = parseContent(ex, s.content);
  const contentHash = hashOf(ex.kind, content);
  return withDbErrors(
    inOrg(db, ctx, async (tx) => {
      // The pending request first, then whatever the executor's check locks (the exceptions of a
      // write-off): the order approving takes, so an edit racing an approval waits, never deadlocks.
      const [pending] = await tx.execute<{ id: string; maker_id: string; content_hash: string; version: number }>(sql`
        select id, maker_id, content_hash, version from approval_requests
        where org_id = ${ctx.orgId} and kind = ${ex.kind} and target_key = ${s.targetKey} and status = 'pending' for update`);
      const described = await ex.describe(tx, ctx, content);
      await ex.check(tx, ctx, content);
      const policy = await loadPolicy(tx, ctx.orgId, ex.kind);
      const tier = tierFor(policy.tiers, described.amount);
      const applied: AppliedPolicy = { kind: ex.kind, source: policy.source, tier, amount: described.amount, currency: described.currency, tiers: policy.tiers };

      if (tier.approvalsRequired === 0 && !pending) {
        const ref: RequestRef = { id: crypto.randomUUID(), makerId: ctx.userId!, makerLabel: ctx.actorLabel, targetKey: s.targetKey, version: 0 };
        const result = await ex.execute(tx, ctx, content, ref);
        await appendAudit(tx, ctx, [{ action: "approval.not_required", entityType: ex.kind, entityId: null, data: { contentHash, policy: applied, reason: s.reason, result, summary: described.summary, targetKey: s.targetKey } }]);
        return { status: "executed", requestId: null, result, policy: applied };
      }
      const required = Math.max(tier.approvalsRequired, 1);

      if (pending) {
        if (pending.maker_id !== ctx.userId) throw new AppError("conflict", "Someone else's request for this is already waiting for approval; it must be decided or withdrawn first.");
        if (pending.content_hash === contentHash) return { status: "pending", requestId: pending.id, version: pending.version, replayed: true, policy: applied };
        const version = pending.version + 1;
        await tx.execute(sql`
          update approval_requests set content = ${JSON.stringify(content)}::jsonb, content_hash = ${contentHash}, version = ${version},
            entity_id = ${described.entityId}, effective_date = ${described.effectiveDate}, amount = ${described.amount}, currency = ${described.currency},
            summary = ${described.summary}, reason = ${s.reason}, links = ${JSON.stringify(s.links)}::jsonb, policy = ${JSON.stringify(applied)}::jsonb,
            approvals_required = ${required}, admin_required = ${tier.adminRequired}, updated_at = now()
          where org_id = ${ctx.orgId} and id = ${pending.id}`);
        const [{ voided }] = await tx.execute<{ voided: number }>(sql`
          select count(*)::int as voided from approval_decisions where request_id = ${pending.id} and voided_at is not null and voided_at >= now()`);
        await appendAudit(tx, ctx, [{ action: "approval.edited", entityType: "approval_request", entityId: pending.id, data: { contentHash, previousHash: pending.content_hash, version, voidedDecisions: voided, summary: described.summary, policy: applied } }]);
        return { status: "pending", requestId: pending.id, version, replayed: false, policy: applied };
      }

      const settings = await loadControlSettings(tx, ctx.orgId);
      const [row] = await tx.execute<{ id: string }>(sql`
        insert into approval_requests (org_id, kind, target_key, entity_id, effective_date, amount, currency, summary, content, content_hash,
          maker_id, maker_label, reason, links, policy, approvals_required, admin_required, expires_at)
        values (${ctx.orgId}, ${ex.kind}, ${s.targetKey}, ${described.entityId}, ${described.effectiveDate}, ${described.amount}, ${described.currency},
          ${described.summary}, ${JSON.stringify(content)}::jsonb, ${contentHash}, ${ctx.userId}, ${ctx.actorLabel}, ${s.reason}, ${JSON.stringify(s.links)}::jsonb,
          ${JSON.stringify(applied)}::jsonb, ${required}, ${tier.adminRequired}, now() + make_interval(hours => ${settings.requestTtlHours}))
        returning id`);
      await appendAudit(tx, ctx, [{ action: "approval.requested", entityType: "approval_request", entityId: row.id, data: { kind: ex.kind, contentHash, summary: described.summary, reason: s.reason, targetKey: s.targetKey, policy: applied } }]);
      return { status: "pending", requestId: row.id, version: 1, replayed: false, policy: applied };
    }),
  );
}

export const decideInput = z.object({
  requestId: z.string().uuid(),
  /** The version the approver was shown; a newer one means the content changed under them. */
  version: z.number().int().min(1),
  comment: z.string().trim().max(2000).default(""),
});
export type DecideResult = { status: "pending" | "executed" | "rejected"; approvals: number; required: number; adminMissing: boolean; result: Record<string, unknown> | null };

type LockedRequest = {
  id: string; kind: string; status: string; version: number; content: Record<string, unknown>; content_hash: string; maker_id: string; maker_label: string;
  target_key: string; approvals_required: number; admin_required: boolean; expired: boolean; expires_at: string;
};

/** The request, locked: decisions on it run one after another, so twenty clicks make one execution. */
async function lockRequest(tx: Db, ctx: Ctx, requestId: string): Promise<LockedRequest> {
  const [r] = await tx.execute<LockedRequest>(sql`
    select id, kind, status, version, content, content_hash, maker_id, maker_label, target_key, approvals_required, admin_required,
           expires_at <= now() as expired, expires_at::text
    from approval_requests where org_id = ${ctx.orgId} and id = ${requestId} for update`);
  if (!r) throw notFound("The approval request");
  return r;
}

/** What an executor is told about the request it acts for. */
function requestRef(id: string, r: { maker_id: string; maker_label: string; target_key: string; version: number }): RequestRef {
  return { id, makerId: r.maker_id, makerLabel: r.maker_label, targetKey: r.target_key, version: r.version };
}

/** One approver's decision, tied to the version and content they were shown (the database re-checks both). */
function recordDecision(tx: Db, ctx: Ctx, r: LockedRequest, decision: "approved" | "rejected", comment: string) {
  return tx.execute(sql`
    insert into approval_decisions (org_id, request_id, maker_id, approver_id, approver_label, approver_role, decision, comment, request_version, content_hash)
    values (${ctx.orgId}, ${r.id}, ${r.maker_id}, ${ctx.userId}, ${ctx.actorLabel}, ${ctx.role}, ${decision}, ${comment}, ${r.version}, ${r.content_hash})`);
}

function assertDecidable(ctx: Ctx, r: LockedRequest, version: number) {
  if (r.status !== "pending") throw new AppError("conflict", `This request is already ${r.status}.`);
  if (r.expired) throw new AppError("expired", `This request expired at ${r.expires_at.slice(0, 16)} UTC; the maker can submit it again.`);
  if (r.maker_id === ctx.userId) throw new AppError("forbidden", "You submitted this request; someone else must decide it.");
  if (r.version !== version) throw new AppError("conflict", `The request changed since you opened it (now version ${r.version}); review it again before deciding.`);
}

/** Marks an overdue request expired (its own small transaction), so lists and checklists stop counting it. */
async function expire(db: Db, ctx: Ctx, requestId: string): Promise<void> {
  await inOrg(db, ctx, async (tx) => {
    const [r] = await tx.execute<{ kind: string; content: unknown; maker_id: string; maker_label: string; target_key: string; version: number }>(sql`
      update approval_requests set status = 'expired', decided_at = now(), updated_at = now()
      where org_id = ${ctx.orgId} and id = ${requestId} and status = 'pending' and expires_at <= now()
      returning kind, content, maker_id, maker_label, target_key, version`);
    if (!r) return;
    await executorFor(r.kind).onClosed?.(tx, ctx, r.content, requestRef(requestId, r), "expired");
    await appendAudit(tx, ctx, [{ action: "approval.expired", entityType: "approval_request", entityId: requestId, data: {} }]);
  });
}

/** Expires every overdue request of the organisation; lists call it, a scheduled job may too. */
export async function expireOverdueRequests(db: Db, ctx: Ctx): Promise<number> {
  const overdue = await inOrg(db, ctx, (tx) => tx.execute<{ id: string }>(sql`select id from approval_requests where org_id = ${ctx.orgId} and status = 'pending' and expires_at <= now()`));
  for (const r of overdue) await expire(db, ctx, r.id);
  return overdue.length;
}

/**
 * Approves one version of a request. On the approval that completes the tier (enough distinct
 * approvers, an admin among them where the tier asks), the action executes in this same
 * transaction; if it cannot (period closed meanwhile, record changed), the whole transaction
 * rolls back, the approval is not recorded, and the approver gets the reason.
 */
export async function approveRequest(db: Db, ctx: Ctx, input: z.input<typeof decideInput>): Promise<DecideResult> {
  requirePermission(ctx, "approvals.decide");
  const d = validate(decideInput, input);
  if (!ctx.userId) throw new AppError("forbidden", "Approvals are given by people.");
  try {
    return await withDbErrors(
      inOrg(db, ctx, async (tx) => {
        const r = await lockRequest(tx, ctx, d.requestId);
        assertDecidable(ctx, r, d.version);
        await recordDecision(tx, ctx, r, "approved", d.comment);
        const [{ approvals, admins }] = await tx.execute<{ approvals: number; admins: number }>(sql`
          select count(*)::int as approvals, (count(*) filter (where approver_role = 'admin'))::int as admins from approval_decisions
          where request_id = ${r.id} and voided_at is null and decision = 'approved' and request_version = ${r.version}`);
        const adminMissing = r.admin_required && admins === 0;
        const audit = { action: "approval.approved", entityType: "approval_request", entityId: r.id, data: { approvals, comment: d.comment, contentHash: r.content_hash, required: r.approvals_required, version: r.version } };
        if (approvals < r.approvals_required || adminMissing) {
          await appendAudit(tx, ctx, [audit]);
          return { status: "pending" as const, approvals, required: r.approvals_required, adminMissing, result: null };
        }
        // Executed first, so the database re-counts the approvals (0008_approvals) and the reopen trigger sees it.
        await tx.execute(sql`update approval_requests set status = 'executed', decided_at = now(), updated_at = now() where org_id = ${ctx.orgId} and id = ${r.id}`);
        await tx.execute(sql`select set_config('app.approval_request_id', ${r.id}, true)`);
        const execCtx: Ctx = { orgId: ctx.orgId, userId: ctx.userId, role: "system", actorLabel: `${ctx.actorLabel} (approval ${r.id.slice(0, 8)})` };
        let result: Record<string, unknown>;
        try {
          result = await executorFor(r.kind).execute(tx, execCtx, r.content, requestRef(r.id, r));
        } catch (e) {
          throw new ExecutionFailed(fromDbError(e) ?? e);
        }
        await tx.execute(sql`select set_config('app.approval_request_id', '', true)`);
        await tx.execute(sql`update approval_requests set result = ${JSON.stringify(result)}::jsonb where org_id = ${ctx.orgId} and id = ${r.id}`);
        await appendAudit(tx, ctx, [audit, { action: "approval.executed", entityType: "approval_request", entityId: r.id, data: { kind: r.kind, result, version: r.version } }]);
        return { status: "executed" as const, approvals, required: r.approvals_required, adminMissing: false, result };
      }),
    );
  } catch (e) {
    if (e instanceof AppError && e.code === "expired") await expire(db, ctx, d.requestId);
    if (e instanceof ExecutionFailed && e.cause instanceof AppError) {
      // The action could not run: nothing of it or of this approval remains. The attempt is recorded.
      const cause = e.cause;
      await inOrg(db, ctx, (tx) => appendAudit(tx, ctx, [{ action: "approval.execution_failed", entityType: "approval_request", entityId: d.requestId, data: { code: cause.code, message: cause.message } }]));
      throw new AppError(cause.code, `Not approved: the action can no longer run. ${cause.message}`, cause.fieldErrors);
    }
    throw e instanceof ExecutionFailed ? e.cause : e;
  }
}

/** Rejects a request with a comment: one eligible approver's "no" ends it. */
export async function rejectRequest(db: Db, ctx: Ctx, input: z.input<typeof decideInput>): Promise<DecideResult> {
  requirePermission(ctx, "approvals.decide");
  const d = validate(decideInput, input);
  if (!d.comment) throw new AppError("validation", "Say why you reject it, for the maker.", { comment: ["A comment is required to reject"] });
  if (!ctx.userId) throw new AppError("forbidden", "Approvals are given by people.");
  try {
    return await withDbErrors(
      inOrg(db, ctx, async (tx) => {
        const r = await lockRequest(tx, ctx, d.requestId);
        assertDecidable(ctx, r, d.version);
        await recordDecision(tx, ctx, r, "rejected", d.comment);
        await tx.execute(sql`update approval_requests set status = 'rejected', decided_at = now(), updated_at = now() where org_id = ${ctx.orgId} and id = ${r.id}`);
        await executorFor(r.kind).onClosed?.(tx, ctx, r.content, requestRef(r.id, r), "rejected");
        await appendAudit(tx, ctx, [{ action: "approval.rejected", entityType: "approval_request", entityId: r.id, data: { comment: d.comment, version: r.version } }]);
        return { status: "rejected" as const, approvals: 0, required: r.approvals_required, adminMissing: false, result: null };
      }),
    );
  } catch (e) {
    if (e instanceof AppError && e.code === "expired") await expire(db, ctx, d.requestId);
    throw e;
  }
}

/** The maker takes a pending request back. */
export async function withdrawRequest(db: Db, ctx: Ctx, input: { requestId: string }): Promise<void> {
  requirePermission(ctx, "approvals.read");
  if (!isUuid(input.requestId)) throw notFound("The approval request");
  await withDbErrors(
    inOrg(db, ctx, async (tx) => {
      const r = await lockRequest(tx, ctx, input.requestId);
      if (r.maker_id !== ctx.userId) throw new AppError("forbidden", "Only the maker withdraws a request.");
      if (r.status !== "pending") throw new AppError("conflict", `This request is already ${r.status}.`);
      await tx.execute(sql`update approval_requests set status = 'withdrawn', decided_at = now(), updated_at = now() where org_id = ${ctx.orgId} and id = ${r.id}`);
      await executorFor(r.kind).onClosed?.(tx, ctx, r.content, requestRef(r.id, r), "withdrawn");
      await appendAudit(tx, ctx, [{ action: "approval.withdrawn", entityType: "approval_request", entityId: r.id, data: {} }]);
    }),
  );
}
