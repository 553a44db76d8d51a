import { expect, test } from "@playwright/test";
import { alertOf } from "./sign-in";

test.describe("as an accountant", () => {
  test.use({ storageState: "e2e/.auth/accountant.json" });

  test("sees a balanced trial balance and drills into an account", async ({ page }) => {
    await page.goto("/ledger");
    await expect(page.getByRole("heading", { name: "Trial balance" })).toBeVisible();
    await expect(page.getByTestId("role")).toHaveText("accountant");
    const table = page.getByRole("table", { name: /Trial balance of Tieout Demo GmbH/ });
    await expect(table.getByText("balanced")).toBeVisible();
    await expect(table.getByRole("row")).not.toHaveCount(3);
    // Totals agree: the footer's debit and credit cells are the same figure.
    const totals = table.locator("tfoot td.num");
    await expect(totals.nth(0)).toHaveText((await totals.nth(1).textContent())!);
    await table.getByRole("link", { name: "Bank — operating account" }).click();
    await expect(page.getByRole("heading", { name: /1000 Bank — operating account/ })).toBeVisible();
    await expect(page.getByRole("table", { name: "Account ledger" }).getByText("Opening balance")).toBeVisible();
  });

  test("submits an entry for approval, and a reversal of a posted entry too", async ({ page }) => {
    await page.goto("/ledger/entries/new");
    const today = new Date().toISOString().slice(0, 10);
    await page.getByLabel("Date").fill(today);
    await page.getByLabel("Description", { exact: true }).fill("E2E accrual of consulting fees");
    await page.getByLabel("Line 1 account").selectOption({ label: "6300 Travel" });
    await page.getByLabel("Line 1 debit").fill("120.50");
    await page.getByLabel("Line 2 account").selectOption({ label: "2300 Accrued expenses" });
    await page.getByLabel("Line 2 credit").fill("100.50");
    // Unbalanced: the form shows the difference and the service refuses with a clear message.
    await expect(page.getByText("difference 20.00 EUR")).toBeVisible();
    await page.getByRole("button", { name: "Submit for approval" }).click();
    await expect(alertOf(page)).toContainText("does not balance");
    await page.getByLabel("Line 2 credit").fill("120.50");
    await page.getByRole("button", { name: "Submit for approval" }).click();
    await expect(page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    await expect(page.getByText(/^E2E accrual of consulting fees — 120\.50 EUR on/)).toBeVisible();

    // A posted entry's reversal is a manual entry too: it waits for an approver.
    await page.goto("/ledger");
    await page.getByRole("table", { name: "Recent journal entries" }).getByRole("link").first().click();
    await expect(page.getByRole("heading", { name: /Journal entry \d+/ })).toBeVisible();
    await page.getByLabel("Reason").fill("Booked to the wrong expense account");
    await page.getByRole("button", { name: "Reverse entry" }).click();
    await expect(page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { name: "Reversal of a journal entry" })).toBeVisible();
    await expect(page.getByTestId("request-status")).toHaveText("pending");
  });

  test("sees only the organisations they belong to, and the Settings area is closed to them", async ({ page }) => {
    await page.goto("/settings/members");
    await expect(alertOf(page)).toHaveText("Only admins manage members.");
    await expect(page.getByRole("combobox", { name: "Organisation" }).locator("option")).toHaveText(["Tieout Demo Group"]);
  });

  test("areas not built yet say so", async ({ page }) => {
    await page.goto("/gl-variances");
    await expect(page.getByRole("status")).toContainText("Not built yet.");
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: "e2e/.auth/viewer.json" });

  test("can read the ledger but cannot post", async ({ page }) => {
    await page.goto("/ledger");
    await expect(page.getByRole("heading", { name: "Trial balance" })).toBeVisible();
    await expect(page.getByRole("link", { name: "New journal entry" })).toHaveCount(0);
    await page.goto("/ledger/entries/new");
    await expect(alertOf(page)).toContainText("Your role (viewer) can read the ledger but not post to it");
    await expect(page.getByRole("button", { name: "Submit for approval" })).toHaveCount(0);
    // No reverse form on an entry either.
    await page.goto("/ledger");
    await page.getByRole("table", { name: "Recent journal entries" }).getByRole("link").first().click();
    await expect(page.getByRole("heading", { name: /Journal entry/ })).toBeVisible();
    await expect(page.getByRole("button", { name: "Reverse entry" })).toHaveCount(0);
  });
});

test("an entry id of another organisation gives 404", async ({ browser }) => {
  // The admin belongs to both organisations: switch to the other one and note an entry's URL.
  const admin = await browser.newContext({ storageState: "e2e/.auth/admin.json" });
  const page = await admin.newPage();
  await page.goto("/ledger");
  await page.getByRole("combobox", { name: "Organisation" }).selectOption({ label: "Harbour Analytics" });
  await page.getByRole("button", { name: "Switch" }).click();
  await expect(page.getByRole("table", { name: /Trial balance of Harbour Analytics Ltd/ })).toBeVisible();
  await page.getByRole("table", { name: "Recent journal entries" }).getByRole("link").first().click();
  await expect(page).toHaveURL(/\/ledger\/entries\//);
  const foreignUrl = new URL(page.url()).pathname;
  await admin.close();

  const accountant = await browser.newContext({ storageState: "e2e/.auth/accountant.json" });
  const p2 = await accountant.newPage();
  const response = await p2.goto(foreignUrl);
  expect(response?.status()).toBe(404);
  await expect(p2.getByText("Harbour Analytics Ltd")).toHaveCount(0);
  await accountant.close();
});

test.describe("checks and audit", () => {
  test("an accountant runs the trial-balance check now and sees it pass", async ({ browser }) => {
    const context = await browser.newContext({ storageState: "e2e/.auth/accountant.json" });
    const page = await context.newPage();
    await page.goto("/ledger");
    await page.getByRole("button", { name: "Run check now" }).click();
    await expect(page.getByTestId("check-status")).toHaveText("passed");
    await expect(page.getByText(/\(manual\)/)).toBeVisible();
    await context.close();
  });

  test("an admin sees the audit log, filters it, and its chain verifies", async ({ browser }) => {
    const context = await browser.newContext({ storageState: "e2e/.auth/admin.json" });
    const page = await context.newPage();
    await page.goto("/settings/audit");
    await expect(page.getByTestId("chain-status")).toContainText("Chain verified");
    await page.getByLabel("Action").selectOption("journal_entry.posted");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/action=journal_entry.posted/);
    const actions = page.getByRole("table", { name: "Audit events" }).locator("tbody tr td:nth-child(4)");
    await expect(actions.first()).toHaveText("journal_entry.posted");
    expect(new Set(await actions.allTextContents())).toEqual(new Set(["journal_entry.posted"]));
    await context.close();
  });
});
