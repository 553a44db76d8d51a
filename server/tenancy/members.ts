import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, ROLES, type Ctx, type Role } from "./context";

export type Member = { userId: string; email: string; name: string; role: Role; since: string; disabled: boolean };

export async function listMembers(db: Db, ctx: Ctx): Promise<Member[]> {
  requirePermission(ctx, "members.manage");
  return inOrg(db, ctx, async (tx) => {
    const rows = await tx.execute<Member>(sql`
      select u.id as "userId", u.email, u.name, m.role, m.created_at::text as since, u.disabled_at is not null as disabled
      from memberships m join users u on u.id = m.user_id where m.org_id = ${ctx.orgId} order by u.name`);
    return [...rows];
  });
}

export const changeRoleInput = z.object({ userId: z.string().uuid(), role: z.enum(ROLES) });
export const removeMemberInput = z.object({ userId: z.string().uuid() });

/** Changes a member's role. The last admin cannot be demoted: an organisation always has one. */
export async function changeMemberRole(db: Db, ctx: Ctx, input: z.input<typeof changeRoleInput>): Promise<void> {
  requirePermission(ctx, "members.manage");
  const { userId, role } = changeRoleInput.parse(input);
  await inOrg(db, ctx, async (tx) => {
    const before = await lockMember(tx, ctx, userId);
    if (before === role) return;
    if (before === "admin") await assertAnotherAdmin(tx, ctx, userId);
    await tx.execute(sql`update memberships set role = ${role} where org_id = ${ctx.orgId} and user_id = ${userId}`);
    await appendAudit(tx, ctx, [{ action: "membership.role_changed", entityType: "membership", entityId: userId, data: { before, after: role } }]);
  });
}

/** Removes a member; their next request to this organisation is refused. */
export async function removeMember(db: Db, ctx: Ctx, input: z.input<typeof removeMemberInput>): Promise<void> {
  requirePermission(ctx, "members.manage");
  const { userId } = removeMemberInput.parse(input);
  await inOrg(db, ctx, async (tx) => {
    const before = await lockMember(tx, ctx, userId);
    if (before === "admin") await assertAnotherAdmin(tx, ctx, userId);
    await tx.execute(sql`delete from memberships where org_id = ${ctx.orgId} and user_id = ${userId}`);
    await appendAudit(tx, ctx, [{ action: "membership.removed", entityType: "membership", entityId: userId, data: { role: before } }]);
  });
}

async function lockMember(tx: Db, ctx: Ctx, userId: string): Promise<Role> {
  if (!isUuid(userId)) throw notFound("The member");
  // Lock the organisation's admins too, so two admins demoting each other cannot both succeed.
  const rows = await tx.execute<{ user_id: string; role: Role }>(sql`
    select user_id, role from memberships where org_id = ${ctx.orgId} and (user_id = ${userId} or role = 'admin') order by user_id for update`);
  const row = rows.find((r) => r.user_id === userId);
  if (!row) throw notFound("The member");
  return row.role;
}

async function assertAnotherAdmin(tx: Db, ctx: Ctx, userId: string) {
  const [{ n }] = await tx.execute<{ n: string }>(sql`select count(*) as n from memberships where org_id = ${ctx.orgId} and role = 'admin' and user_id <> ${userId}`);
  if (Number(n) === 0) throw new AppError("conflict", "An organisation needs at least one admin. Make someone else admin first.");
}
