import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import type { Executor } from "@/server/approvals/registry";
import { requestApproval, validate, type SubmitResult } from "@/server/approvals/requests";
import { computeChecklist, type ChecklistItem } from "./checklist";
import type { PeriodRef } from "./open-period";

export type PeriodRow = PeriodRef & { entityName: string; closedAt: string | null; closedByName: string | null; pendingReopenId: string | null };

const periodSelect = sql`
  select p.id, p.entity_id as "entityId", p.name, p.starts_on::text as "startsOn", p.ends_on::text as "endsOn", p.status,
         e.name as "entityName", p.closed_at::text as "closedAt", u.name as "closedByName",
         (select q.id from approval_requests q where q.org_id = p.org_id and q.kind = 'period_reopen' and q.status = 'pending' and q.target_key = 'period:' || p.id::text) as "pendingReopenId"
  from fiscal_periods p join entities e on e.id = p.entity_id left join users u on u.id = p.closed_by`;

/** Periods of an entity around today: closed ones and those up to the current month. */
export async function listPeriods(db: Db, ctx: Ctx, entityId: string): Promise<PeriodRow[]> {
  requirePermission(ctx, "periods.read");
  if (!isUuid(entityId)) throw notFound("The entity");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<PeriodRow>(sql`${periodSelect} where p.org_id = ${ctx.orgId} and p.entity_id = ${entityId} and (p.starts_on <= current_date or p.status = 'closed') order by p.starts_on desc limit 36`)),
  ]);
}

async function loadPeriod(tx: Db, ctx: Ctx, periodId: string, lock = false): Promise<PeriodRow> {
  if (!isUuid(periodId)) throw notFound("The period");
  const [p] = await tx.execute<PeriodRow>(sql`${periodSelect} where p.org_id = ${ctx.orgId} and p.id = ${periodId} ${lock ? sql`for update of p` : sql``}`);
  if (!p) throw notFound("The period");
  return p;
}

export type PeriodClose = { period: PeriodRow; checklist: ChecklistItem[]; clear: boolean; events: { action: string; actorLabel: string; reason: string | null; overrides: { key: string; reason: string }[]; at: string }[] };

/** The period with its checklist computed from the live state, and its close/reopen history. */
export async function getPeriodClose(db: Db, ctx: Ctx, periodId: string): Promise<PeriodClose> {
  requirePermission(ctx, "periods.read");
  return inOrg(db, ctx, async (tx) => {
    const period = await loadPeriod(tx, ctx, periodId);
    const checklist = await computeChecklist(tx, ctx.orgId, period);
    const events = await tx.execute<PeriodClose["events"][number]>(sql`
      select action, actor_label as "actorLabel", reason, overrides, at::text from period_close_events where org_id = ${ctx.orgId} and period_id = ${periodId} order by at desc`);
    return { period, checklist, clear: checklist.every((c) => c.ok), events: [...events] };
  });
}

export const closePeriodInput = z.object({
  periodId: z.string().uuid(),
  overrides: z.array(z.object({ key: z.string().min(1).max(50), reason: z.string().trim().min(5, "Give a reason of at least a few words").max(1000) })).max(20).default([]),
});

/**
 * Closes a period: an admin, with the checklist recomputed under the period's lock (postings in
 * flight hold it FOR SHARE, so they commit first or see it closed). A failing item needs an
 * override with a reason, recorded with the checklist as it stood.
 */
export async function closeFiscalPeriod(db: Db, ctx: Ctx, input: z.input<typeof closePeriodInput>): Promise<{ periodId: string; overridden: string[] }> {
  requirePermission(ctx, "periods.close");
  const { periodId, overrides } = validate(closePeriodInput, input);
  return inOrg(db, ctx, async (tx) => {
    const period = await loadPeriod(tx, ctx, periodId, true);
    if (period.status === "closed") throw new AppError("conflict", `Period ${period.name} is already closed.`);
    const checklist = await computeChecklist(tx, ctx.orgId, period);
    const failing = checklist.filter((c) => !c.ok);
    const byKey = new Map(overrides.map((o) => [o.key, o.reason]));
    const unresolved = failing.filter((c) => !byKey.has(c.key));
    if (unresolved.length) {
      throw new AppError("conflict", `Period ${period.name} cannot close yet: ${unresolved.map((c) => `${c.label} — ${c.detail}`).join("; ")} Resolve these or override them with a reason.`);
    }
    const used = failing.map((c) => ({ key: c.key, reason: byKey.get(c.key)! }));
    await tx.execute(sql`update fiscal_periods set status = 'closed', closed_at = now(), closed_by = ${ctx.userId} where org_id = ${ctx.orgId} and id = ${periodId}`);
    await tx.execute(sql`
      insert into period_close_events (org_id, period_id, action, actor_id, actor_label, checklist, overrides)
      values (${ctx.orgId}, ${periodId}, 'closed', ${ctx.userId}, ${ctx.actorLabel}, ${JSON.stringify(checklist)}::jsonb, ${JSON.stringify(used)}::jsonb)`);
    await appendAudit(tx, ctx, [{ action: "period.closed", entityType: "fiscal_period", entityId: periodId, data: { entityId: period.entityId, name: period.name, overrides: used, checklist: checklist.map((c) => ({ key: c.key, ok: c.ok })) } }]);
    return { periodId, overridden: used.map((u) => u.key) };
  });
}

export const periodReopenContent = z.object({ periodId: z.string().uuid(), reason: z.string().trim().min(5, "Give a reason").max(1000) });
export type PeriodReopenContent = z.output<typeof periodReopenContent>;

/** Reopening a closed period: an admin asks with a reason, an approver other than them signs off. */
export const periodReopen: Executor<PeriodReopenContent> = {
  kind: "period_reopen",
  label: "Reopen a closed period",
  submitPermission: "periods.close",
  content: periodReopenContent,
  async describe(tx, ctx, c) {
    const p = await loadPeriod(tx, ctx, c.periodId);
    return { entityId: p.entityId, effectiveDate: null, amount: null, currency: null, summary: `Reopen period ${p.name} of ${p.entityName}: ${c.reason}` };
  },
  outcome: (r) => ({ text: `Period ${String(r.name)} is open again.`, href: `/periods/${String(r.periodId)}` }),
  async present(tx, ctx, c) {
    const p = await loadPeriod(tx, ctx, c.periodId);
    return { fields: [{ label: "Period", value: `${p.name} (${p.startsOn} – ${p.endsOn}) of ${p.entityName}` }, { label: "Now", value: p.status }, { label: "Closed by", value: p.closedByName ?? "—" }, { label: "Reason", value: c.reason }] };
  },
  async check(tx, ctx, c) {
    const p = await loadPeriod(tx, ctx, c.periodId);
    if (p.status !== "closed") throw new AppError("conflict", `Period ${p.name} is not closed.`);
  },
  async execute(tx, ctx, c, request) {
    const p = await loadPeriod(tx, ctx, c.periodId, true);
    if (p.status !== "closed") throw new AppError("conflict", `Period ${p.name} is no longer closed.`);
    await tx.execute(sql`update fiscal_periods set status = 'open', closed_at = null, closed_by = null where org_id = ${ctx.orgId} and id = ${c.periodId}`);
    await tx.execute(sql`
      insert into period_close_events (org_id, period_id, action, actor_id, actor_label, reason, approval_request_id)
      values (${ctx.orgId}, ${c.periodId}, 'reopened', ${request.makerId}, ${`${request.makerLabel}, approved by ${ctx.actorLabel}`}, ${c.reason}, ${request.id})`);
    await appendAudit(tx, ctx, [{ action: "period.reopened", entityType: "fiscal_period", entityId: c.periodId, data: { name: p.name, reason: c.reason, requestId: request.id } }]);
    return { periodId: c.periodId, name: p.name };
  },
};

export const reopenInput = periodReopenContent;

/** An admin asks to reopen a closed period; it reopens when another approver signs off. */
export async function requestPeriodReopen(db: Db, ctx: Ctx, input: z.input<typeof reopenInput>): Promise<SubmitResult> {
  requirePermission(ctx, "periods.close");
  const c = validate(reopenInput, input);
  return requestApproval(db, ctx, { kind: "period_reopen", targetKey: `period:${c.periodId}`, content: c, reason: c.reason });
}
