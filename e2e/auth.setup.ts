import { test as setup } from "@playwright/test";
import { email, signIn } from "./sign-in";

for (const role of ["admin", "accountant", "approver", "approver2", "viewer"] as const) {
  setup(`sign in as ${role}`, async ({ page }) => {
    await signIn(page, email(role));
    await page.context().storageState({ path: `e2e/.auth/${role}.json` });
  });
}
