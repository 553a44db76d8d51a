import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { can, requirePermission, type Ctx, type Role } from "@/server/tenancy/context";

export type Assignee = { userId: string; name: string; email: string };

/** The members an exception can be assigned to: those whose role lets them work exceptions. */
export async function listAssignees(db: Db, ctx: Ctx): Promise<Assignee[]> {
  requirePermission(ctx, "ledger.read");
  const rows = await inOrg(db, ctx, (tx) => tx.execute<Assignee & { role: Role }>(sql`
    select u.id as "userId", u.name, u.email, m.role from memberships m join users u on u.id = m.user_id
    where m.org_id = ${ctx.orgId} and u.disabled_at is null order by u.name`));
  return rows.filter((r) => can(r.role, "exceptions.work")).map(({ userId, name, email }) => ({ userId, name, email }));
}
