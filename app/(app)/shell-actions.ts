"use server";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { signOut } from "@/app/auth";
import { currentActor, ORG_COOKIE } from "@/app/_lib/session";

/** Switches the active organisation, only to one the user belongs to (re-read from the database). */
export async function switchOrganisation(form: FormData) {
  const actor = await currentActor();
  const orgId = String(form.get("orgId") ?? "");
  if (actor?.memberships.some((m) => m.orgId === orgId)) {
    (await cookies()).set(ORG_COOKIE, orgId, { httpOnly: true, sameSite: "lax", path: "/", secure: process.env.NODE_ENV === "production" && process.env.AUTH_URL?.startsWith("https") === true });
  }
  redirect("/ledger");
}

/** Ends the session: the cookie is cleared and the session row revoked, so a copied cookie stops working too. */
export async function signOutAction() {
  await signOut({ redirectTo: "/signin" });
}
