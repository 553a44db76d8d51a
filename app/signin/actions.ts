"use server";
import { AuthError } from "next-auth";
import { signIn } from "@/app/auth";

export type SignInState = { error?: string; email?: string };

/** Posts the credentials to Auth.js; on success it redirects, on failure the form shows why. */
export async function signInWithCredentials(_prev: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "");
  try {
    await signIn("credentials", { email, password: String(form.get("password") ?? ""), redirectTo: "/ledger" });
    return {};
  } catch (e) {
    if (e instanceof AuthError) {
      const throttled = (e as AuthError & { code?: string }).code === "throttled";
      return {
        email,
        error: throttled
          ? "Too many failed sign-ins for this account. It is locked for a few minutes; try again later."
          : "That email and password do not match an account.",
      };
    }
    throw e; // the redirect after a successful sign-in
  }
}

export async function signInWithSso() {
  await signIn("oidc", { redirectTo: "/ledger" });
}
