import { expect, type Page } from "@playwright/test";

export const PASSWORD = "tieout-demo";
export type DemoUser = "admin" | "accountant" | "approver" | "approver2" | "viewer";
export const email = (who: DemoUser) => `${who}@demo.tieout.dev`;

/** Signs in through the real form, as a person would. */
export async function signIn(page: Page, who: string, password = PASSWORD) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(who);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/ledger/);
}

/** The page's own alert (Next.js adds an empty route announcer with role="alert" to every page). */
export const alertOf = (page: Page) => page.locator('[role="alert"]:not(#__next-route-announcer__)');
