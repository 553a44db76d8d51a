import "server-only";
import { cache } from "react";
import { cookies } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { auth } from "@/app/auth";
import { listMemberships, resolveSessionUser, type Membership, type SessionUser } from "@/server/auth/auth-sessions";
import { AppError } from "@/server/errors";
import type { Ctx } from "@/server/tenancy/context";
import { db } from "./db";
import { isoDate } from "@/server/ledger/schemas";

export const ORG_COOKIE = "tieout_org";

export type Actor = { user: SessionUser; memberships: Membership[]; current: Membership; ctx: Ctx };

/**
 * Who is asking, re-read from the database on every request: a signed-out session, a disabled
 * user or a removed membership stops here, whatever the cookie says. Cached per request only.
 */
export const currentActor = cache(async (): Promise<Actor | null> => {
  const session = await auth();
  const user = await resolveSessionUser(db(), session?.sid);
  if (!user) return null;
  const memberships = await listMemberships(db(), user.userId);
  if (memberships.length === 0) return null;
  const wanted = (await cookies()).get(ORG_COOKIE)?.value;
  const current = memberships.find((m) => m.orgId === wanted) ?? memberships[0];
  return { user, memberships, current, ctx: { orgId: current.orgId, userId: user.userId, role: current.role, actorLabel: user.email } };
});

/** For pages: the actor, or a redirect to sign-in. */
export async function requireActor(): Promise<Actor> {
  const actor = await currentActor();
  if (!actor) redirect("/signin");
  return actor;
}

/** A YYYY-MM-DD search parameter that is a real calendar date, or undefined (then the page's default applies). */
export function dateParam(s: string | undefined): string | undefined {
  return isoDate.safeParse(s).success ? s : undefined;
}

/** For pages: a not-found from a service (including another organisation's id) becomes a 404 page. */
export async function orNotFound<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  }
}
