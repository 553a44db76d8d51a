import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { oidcEnabled, oidcName } from "@/app/auth";
import { currentActor } from "@/app/_lib/session";
import { SignInForm } from "@/components/sign-in-form";
import { signInWithSso } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage() {
  if (await currentActor()) redirect("/ledger");
  return (
    <main className="signin panel">
      <h1>Sign in to Tieout</h1>
      <SignInForm />
      {oidcEnabled && (
        <form action={signInWithSso} style={{ marginTop: "1rem" }}>
          <button className="secondary" type="submit">Continue with {oidcName}</button>
        </form>
      )}
    </main>
  );
}
