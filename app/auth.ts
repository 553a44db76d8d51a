import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import type { Provider } from "next-auth/providers";
import { serverEnv } from "@/server/env";
import { AppError } from "@/server/errors";
import { signInWithPassword, findEnabledUserByEmail } from "@/server/auth/password-sign-in";
import { createAuthSession, revokeAuthSession } from "@/server/auth/auth-sessions";
import { db } from "./_lib/db";

declare module "next-auth" {
  interface Session {
    sid?: string;
  }
}

/** Auth.js shows a sign-in failure by its code; the page turns "throttled" into a sentence. */
class ThrottledSignIn extends CredentialsSignin {
  code = "throttled";
}

const env = serverEnv();
const providers: Provider[] = [
  Credentials({
    credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
    async authorize(c) {
      const email = typeof c?.email === "string" ? c.email : "";
      const password = typeof c?.password === "string" ? c.password : "";
      if (!email || !password) return null;
      try {
        const user = await signInWithPassword(db(), { maxFailures: env.SIGN_IN_MAX_FAILURES, lockMinutes: env.SIGN_IN_LOCK_MINUTES }, email, password);
        return user ? { id: user.id, email: user.email, name: user.name } : null;
      } catch (e) {
        if (e instanceof AppError && e.code === "throttled") throw new ThrottledSignIn();
        if (e instanceof AppError) return null;
        throw e;
      }
    },
  }),
];
// Optional single sign-on: any OpenID Connect issuer, configured from the environment.
if (env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_CLIENT_ID && env.AUTH_OIDC_CLIENT_SECRET) {
  providers.push({
    id: "oidc",
    name: env.AUTH_OIDC_NAME,
    type: "oidc",
    issuer: env.AUTH_OIDC_ISSUER,
    clientId: env.AUTH_OIDC_CLIENT_ID,
    clientSecret: env.AUTH_OIDC_CLIENT_SECRET,
    checks: ["pkce", "state", "nonce"],
  });
}
export const oidcEnabled = providers.length > 1;
export const oidcName = env.AUTH_OIDC_NAME;

export const { handlers, signIn, signOut } = NextAuth({
  secret: env.AUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: 60 * 60 * 12 },
  pages: { signIn: "/signin", error: "/signin" },
  // A wrong password is an expected event, not a server error: one line, no stack.
  logger: {
    error(error) {
      if ((error as Error & { type?: string }).type === "CredentialsSignin") console.warn(JSON.stringify({ level: "warn", msg: "sign-in refused" }));
      else console.error(error);
    },
  },
  providers,
  callbacks: {
    // SSO signs in only people already provisioned here (no self-registration into a ledger).
    async signIn({ user, account }) {
      if (account?.provider === "credentials") return true;
      return Boolean(user.email && (await findEnabledUserByEmail(db(), user.email)));
    },
    async jwt({ token, user, account }) {
      if (user && account) {
        const userId = account.provider === "credentials" ? user.id! : (await findEnabledUserByEmail(db(), user.email!))!.id;
        token.sub = userId;
        token.sid = await createAuthSession(db(), userId);
      }
      return token;
    },
    async session({ session, token }) {
      session.sid = typeof token.sid === "string" ? token.sid : undefined;
      return session;
    },
  },
  events: {
    async signOut(message) {
      const sid = "token" in message ? message.token?.sid : undefined;
      if (typeof sid === "string") await revokeAuthSession(db(), sid);
    },
  },
});
