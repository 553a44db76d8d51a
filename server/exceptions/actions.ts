import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { can, requirePermission, type Ctx, type Role } from "@/server/tenancy/context";
import { REASON_CODES, type ReasonCode } from "./kinds";

/**
 * What a person does to exceptions, one or many at a time: assign, snooze, wake, explain, reopen,
 * comment. Each checks role and organisation, locks the rows it changes, refuses the whole batch
 * if any id is not an unresolved exception of this organisation (nothing half-done), and writes
 * one audit row per exception; the database writes the history rows (exception_events).
 */

/** How many exceptions one bulk action may touch: a page or a few, not the whole queue by accident. */
export const MAX_BULK = 500;

const ids = z.array(z.string()).min(1, "Select at least one exception").max(MAX_BULK, `At most ${MAX_BULK} at a time`);

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(r.error));
  return r.data;
}

type Locked = { id: string; status: string; kind: string; resolution: string | null; assignee_id: string | null; title: string };

/** Locks the exceptions in id order (two bulk actions cannot deadlock) and checks every one exists here. */
async function lockAll(tx: Db, ctx: Ctx, list: string[]): Promise<Locked[]> {
  const unique = [...new Set(list)];
  if (unique.some((id) => !isUuid(id))) throw notFound("One of the exceptions");
  const rows = await tx.execute<Locked>(sql`
    select id, status, kind, resolution, assignee_id, title from exceptions
    where org_id = ${ctx.orgId} and id = any(${`{${unique.join(",")}}`}::uuid[]) order by id for update`);
  if (rows.length !== unique.length) throw notFound(unique.length === 1 ? "The exception" : "One of the exceptions");
  return rows;
}

function requireUnresolved(rows: Locked[], verb: string) {
  const done = rows.filter((r) => r.status === "resolved");
  if (done.length) {
    throw new AppError("conflict", done.length === rows.length && rows.length === 1
      ? `This exception is already resolved; reopen it first to ${verb} it.`
      : `${done.length} of the selected exceptions are already resolved; nothing was changed. Reopen them first or leave them out.`);
  }
}

const idList = (rows: Locked[]) => `{${rows.map((r) => r.id).join(",")}}`;

async function audit(tx: Db, ctx: Ctx, rows: Locked[], action: string, data: Record<string, unknown>) {
  await appendAudit(tx, ctx, rows.map((r) => ({ action, entityType: "exception", entityId: r.id, data: { ...data, from: r.status } })));
}

export const assignInput = z.object({ ids, assigneeId: z.string().uuid("Choose a member").nullable() });

/** Assigns (or unassigns, with null) to a member of the organisation who can work exceptions. */
export async function assignExceptions(db: Db, ctx: Ctx, input: z.input<typeof assignInput>): Promise<{ changed: number }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(assignInput, input);
  return inOrg(db, ctx, async (tx) => {
    if (inp.assigneeId) {
      const [m] = await tx.execute<{ role: string }>(sql`select role from memberships where org_id = ${ctx.orgId} and user_id = ${inp.assigneeId}`);
      if (!m) throw notFound("That member");
      if (!can(m.role as Role, "exceptions.work")) throw new AppError("validation", `A ${m.role} cannot work exceptions; choose an accountant or an admin.`, { assigneeId: ["Not allowed to work exceptions"] });
    }
    const rows = await lockAll(tx, ctx, inp.ids);
    requireUnresolved(rows, "assign");
    const changing = rows.filter((r) => r.assignee_id !== inp.assigneeId);
    if (changing.length) {
      await tx.execute(sql`update exceptions set assignee_id = ${inp.assigneeId} where org_id = ${ctx.orgId} and id = any(${idList(changing)}::uuid[])`);
      await audit(tx, ctx, changing, "exception.assigned", { assigneeId: inp.assigneeId });
    }
    return { changed: changing.length };
  });
}

/** The furthest a snooze may reach: a snooze is "not now", not "never". */
export const MAX_SNOOZE_DAYS = 90;

export const snoozeInput = z.object({
  ids,
  until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "A date like 2026-12-01"),
  note: z.string().trim().max(500).optional(),
});

/** Hides exceptions from the open queue until 00:00 UTC on `until`; the hourly wake (server/jobs) brings them back. */
export async function snoozeExceptions(db: Db, ctx: Ctx, input: z.input<typeof snoozeInput>, opts: { today?: string } = {}): Promise<{ changed: number; until: string }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(snoozeInput, input);
  const today = opts.today ?? new Date().toISOString().slice(0, 10);
  const days = (Date.parse(inp.until) - Date.parse(today)) / 86_400_000;
  if (!(days >= 1)) throw new AppError("validation", "Snooze until a day after today.", { until: ["Must be after today"] });
  if (days > MAX_SNOOZE_DAYS) throw new AppError("validation", `Snooze for at most ${MAX_SNOOZE_DAYS} days.`, { until: [`At most ${MAX_SNOOZE_DAYS} days ahead`] });
  return inOrg(db, ctx, async (tx) => {
    const rows = await lockAll(tx, ctx, inp.ids);
    requireUnresolved(rows, "snooze");
    await tx.execute(sql`update exceptions set status = 'snoozed', snoozed_until = ${inp.until}::date::timestamp at time zone 'UTC' where org_id = ${ctx.orgId} and id = any(${idList(rows)}::uuid[])`);
    if (inp.note) await addComments(tx, ctx, rows, `Snoozed until ${inp.until}: ${inp.note}`);
    await audit(tx, ctx, rows, "exception.snoozed", { until: inp.until, note: inp.note ?? null });
    return { changed: rows.length, until: inp.until };
  });
}

export const wakeInput = z.object({ ids });

/** Brings snoozed exceptions back into the open queue now. */
export async function wakeExceptions(db: Db, ctx: Ctx, input: z.input<typeof wakeInput>): Promise<{ changed: number }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(wakeInput, input);
  return inOrg(db, ctx, async (tx) => {
    const rows = (await lockAll(tx, ctx, inp.ids)).filter((r) => r.status === "snoozed");
    if (rows.length) {
      await tx.execute(sql`update exceptions set status = 'open', snoozed_until = null where org_id = ${ctx.orgId} and id = any(${idList(rows)}::uuid[])`);
      await audit(tx, ctx, rows, "exception.woken", {});
    }
    return { changed: rows.length };
  });
}

export const explainInput = z.object({
  ids,
  reasonCode: z.enum(Object.keys(REASON_CODES) as [ReasonCode, ...ReasonCode[]], "Choose a reason"),
  note: z.string().trim().max(1000).optional(),
}).refine((v) => v.reasonCode !== "other" || (v.note ?? "").length >= 3, { path: ["note"], message: "Say what the reason is" });

/**
 * Resolves exceptions as explained: the difference is understood and accepted without a match or
 * an entry. A run does not raise them again (raise rules treat a person's resolution as final).
 */
export async function explainExceptions(db: Db, ctx: Ctx, input: z.input<typeof explainInput>): Promise<{ changed: number }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(explainInput, input);
  return inOrg(db, ctx, async (tx) => {
    const rows = await lockAll(tx, ctx, inp.ids);
    requireUnresolved(rows, "explain");
    await tx.execute(sql`
      update exceptions set status = 'resolved', resolution = 'explained', reason_code = ${inp.reasonCode}, resolution_note = ${inp.note ?? null},
             resolved_by = ${ctx.userId}, resolved_at = now(), snoozed_until = null
      where org_id = ${ctx.orgId} and id = any(${idList(rows)}::uuid[])`);
    await audit(tx, ctx, rows, "exception.explained", { reasonCode: inp.reasonCode, note: inp.note ?? null });
    return { changed: rows.length };
  });
}

export const reopenInput = z.object({ ids, reason: z.string().trim().min(3, "Say why it needs another look").max(500) });

/**
 * Puts resolved exceptions back in the queue. Refused when the subject already has another
 * unresolved exception of the same kind (a later run raised it again): work that one instead.
 */
export async function reopenExceptions(db: Db, ctx: Ctx, input: z.input<typeof reopenInput>): Promise<{ changed: number }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(reopenInput, input);
  return inOrg(db, ctx, async (tx) => {
    const rows = await lockAll(tx, ctx, inp.ids);
    const open = rows.filter((r) => r.status !== "resolved");
    if (open.length) throw new AppError("conflict", open.length === 1 && rows.length === 1 ? "This exception is not resolved." : `${open.length} of the selected exceptions are not resolved; nothing was changed.`);
    try {
      await tx.execute(sql`
        update exceptions set status = 'open', resolution = null, reason_code = null, resolution_note = null, resolved_by = null, resolved_at = null
        where org_id = ${ctx.orgId} and id = any(${idList(rows)}::uuid[])`);
    } catch (e) {
      const err = e as { code?: string; cause?: { code?: string } };
      if ((err.code ?? err.cause?.code) === "23505") throw new AppError("conflict", "A newer exception about the same record is already open; work that one instead.");
      throw e;
    }
    await addComments(tx, ctx, rows, `Reopened: ${inp.reason}`);
    await audit(tx, ctx, rows, "exception.reopened", { reason: inp.reason, previousResolution: rows.map((r) => r.resolution)[0] ?? null });
    return { changed: rows.length };
  });
}

export const commentInput = z.object({ exceptionId: z.string(), body: z.string().trim().min(1, "Write something").max(4000) });

export async function commentOnException(db: Db, ctx: Ctx, input: z.input<typeof commentInput>): Promise<{ id: number }> {
  requirePermission(ctx, "exceptions.work");
  const inp = parse(commentInput, input);
  return inOrg(db, ctx, async (tx) => {
    const rows = await lockAll(tx, ctx, [inp.exceptionId]);
    const [c] = await addComments(tx, ctx, rows, inp.body);
    await appendAudit(tx, ctx, [{ action: "exception.commented", entityType: "exception", entityId: rows[0].id, data: { commentId: c.id, length: inp.body.length } }]);
    return { id: c.id };
  });
}

async function addComments(tx: Db, ctx: Ctx, rows: Locked[], body: string) {
  return tx.execute<{ id: number }>(sql`
    insert into exception_comments (org_id, exception_id, author_id, author_label, body)
    select ${ctx.orgId}, id, ${ctx.userId}, ${ctx.actorLabel}, ${body} from unnest(${idList(rows)}::uuid[]) as id
    returning id`);
}
