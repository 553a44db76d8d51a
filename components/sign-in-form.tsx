"use client";
import { useActionState } from "react";
import { signInWithCredentials, type SignInState } from "@/app/signin/actions";

export function SignInForm() {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(signInWithCredentials, {});
  return (
    <form action={formAction}>
      {state.error && <p role="alert" className="alert error">{state.error}</p>}
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required defaultValue={state.email} autoFocus />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={pending}>{pending ? "Signing in…" : "Sign in"}</button>
    </form>
  );
}
