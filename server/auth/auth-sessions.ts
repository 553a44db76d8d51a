import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { asUser } from "@/server/db/tenant";
import { isUuid } from "@/server/ids";
import type { Role } from "@/server/tenancy/context";

/** A browser session: the signed cookie names it, the database decides whether it still counts. */
export async function createAuthSession(db: Db, userId: string): Promise<string> {
  const [row] = await db.execute<{ id: string }>(sql`insert into auth_sessions (user_id) values (${userId}) returning id`);
  return row.id;
}

export async function revokeAuthSession(db: Db, sessionId: string): Promise<void> {
  if (!isUuid(sessionId)) return;
  await db.execute(sql`update auth_sessions set revoked_at = now() where id = ${sessionId} and revoked_at is null`);
}

export type SessionUser = { userId: string; email: string; name: string; sessionId: string };

/** The user behind a session, or null once it was signed out or the user was disabled. */
export async function resolveSessionUser(db: Db, sessionId: string | undefined): Promise<SessionUser | null> {
  if (!isUuid(sessionId)) return null;
  const [row] = await db.execute<SessionUser>(sql`
    select u.id as "userId", u.email, u.name, s.id as "sessionId"
    from auth_sessions s join users u on u.id = s.user_id
    where s.id = ${sessionId} and s.revoked_at is null and u.disabled_at is null`);
  return row ?? null;
}

export type Membership = { orgId: string; orgName: string; role: Role };

/** The organisations a user belongs to, read fresh from the database (never from the token). */
export async function listMemberships(db: Db, userId: string): Promise<Membership[]> {
  return asUser(db, userId, async (tx) => {
    const rows = await tx.execute<Membership>(sql`
      select m.org_id as "orgId", o.name as "orgName", m.role from memberships m join organisations o on o.id = m.org_id
      where m.user_id = ${userId} order by o.name`);
    return [...rows];
  });
}
