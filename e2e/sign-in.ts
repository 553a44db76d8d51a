import { expect, type Browser, type Page, type Request } from "@playwright/test";

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

/** A browser context signed in as a demo user (the storage states auth.setup.ts writes). */
export async function asUser(browser: Browser, who: DemoUser) {
  const context = await browser.newContext({ storageState: `e2e/.auth/${who}.json` });
  return { context, page: await context.newPage() };
}

/** The next server-action call the page makes, to replay it later as someone else. */
export const nextActionCall = (page: Page) => page.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]);

/** A forged call: a captured server action sent again, byte for byte, with another user's session. Returns the reply's text. */
export async function replayAction(page: Page, captured: Request): Promise<string> {
  const forged = await page.request.post(captured.url(), {
    headers: { "next-action": captured.headers()["next-action"], "content-type": captured.headers()["content-type"] ?? "text/plain;charset=UTF-8", accept: "text/x-component", origin: new URL(captured.url()).origin },
    data: captured.postData() ?? "",
  });
  return forged.text();
}
