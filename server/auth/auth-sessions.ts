import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { executePrepared } from "@/server/db/prepared";
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
export type Membership = { orgId: string; orgName: string; role: Role };
export type SessionActor = { user: SessionUser; memberships: Membership[] };

/**
 * The user behind a session and the organisations they belong to, read fresh from the database
 * (never from the token) in one prepared statement; null once the session was signed out or the user was
 * disabled. `session_actor` (migration 0014) reads them as the owner, since no organisation is
 * chosen yet for row-level security, and hands out only this session's own.
 */
export async function resolveSessionActor(db: Db, sessionId: string | undefined): Promise<SessionActor | null> {
  if (!isUuid(sessionId)) return null;
  const rows = await executePrepared<{ userId: string; email: string; name: string; orgId: string | null; orgName: string | null; role: Role | null }>(db, sql`
    select user_id as "userId", email, name, org_id as "orgId", org_name as "orgName", role from session_actor(${sessionId}::uuid)`);
  if (rows.length === 0) return null;
  const { userId, email, name } = rows[0];
  return {
    user: { userId, email, name, sessionId },
    memberships: rows.flatMap((r) => (r.orgId ? [{ orgId: r.orgId, orgName: r.orgName!, role: r.role! }] : [])),
  };
}
