import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { getToken } from "next-auth/jwt";
import { resolveSessionActor, type Membership, type SessionUser } from "@/server/auth/auth-sessions";
import { serverEnv } from "@/server/env";
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
  const session = await resolveSessionActor(db(), await sessionIdFromCookie());
  if (!session || session.memberships.length === 0) return null;
  const { user, memberships } = session;
  const wanted = (await cookies()).get(ORG_COOKIE)?.value;
  const current = memberships.find((m) => m.orgId === wanted) ?? memberships[0];
  return { user, memberships, current, ctx: { orgId: current.orgId, userId: user.userId, role: current.role, actorLabel: user.email } };
});

/**
 * The session id inside Auth.js's encrypted session cookie. Decrypting the cookie is all a request
 * needs: `auth()` would also run the whole session endpoint and encrypt a fresh token each time
 * (work a page or route handler cannot even send back), and the database, not the token, decides
 * whether the session still counts. The `__Secure-` cookie is the one Auth.js sets over HTTPS.
 */
async function sessionIdFromCookie(): Promise<string | undefined> {
  const h = await headers();
  const cookie = h.get("cookie") ?? "";
  const known = decodedCookies.get(cookie);
  if (known && known.expiresAt > Date.now()) return known.sid;
  const token = await getToken({ req: { headers: h }, secret: serverEnv().AUTH_SECRET, secureCookie: cookie.includes("__Secure-authjs.session-token") });
  const sid = typeof token?.sid === "string" ? token.sid : undefined;
  if (sid && typeof token?.exp === "number") {
    if (decodedCookies.size >= DECODED_COOKIES_MAX) decodedCookies.delete(decodedCookies.keys().next().value!);
    decodedCookies.set(cookie, { sid, expiresAt: token.exp * 1000 });
  }
  return sid;
}

/**
 * Decrypting a token is a dozen WebCrypto calls (with auth()'s re-encryption, about 15% of the app's
 * CPU per queue request, measured by bench:exceptions); the same cookie always decrypts to the same
 * token, so a browser's next request skips it. Only the token's own
 * expiry is kept with it: revocation and roles are still read from the database every time.
 * Bounded, oldest first out.
 */
const DECODED_COOKIES_MAX = 2_000;
const decodedCookies = new Map<string, { sid: string; expiresAt: number }>();

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
