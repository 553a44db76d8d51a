import { expect, test } from "@playwright/test";
import { alertOf, email, signIn } from "./sign-in";

test("sign-out ends the session, even for a copy of the cookie", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email("approver"));
  const cookies = await context.cookies();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/ledger");
  await expect(page).toHaveURL(/\/signin/);

  // Replaying the cookie captured before sign-out does not bring the session back.
  const replay = await browser.newContext();
  await replay.addCookies(cookies);
  const p2 = await replay.newPage();
  await p2.goto("/ledger");
  await expect(p2).toHaveURL(/\/signin/);
  await context.close();
  await replay.close();
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email("viewer"));
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(alertOf(page)).toHaveText("That email and password do not match an account.");
});
