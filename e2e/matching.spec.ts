import { expect, test } from "@playwright/test";
import { alertOf } from "./sign-in";

const BANK = "Operating account (Deutsche Bank) (EUR)";

test.describe("as an accountant", () => {
  test.use({ storageState: "e2e/.auth/accountant.json" });

  test("runs matching for the demo bank, confirms a suggestion, rejects one, and undoes an auto match with a reason", async ({ page }) => {
    await page.goto("/matches");
    const form = page.getByRole("form", { name: "Run matching" });
    await form.getByLabel("Source").selectOption({ label: BANK });
    await form.getByLabel("Against").selectOption({ label: "Ledger (the source's GL account)" });
    // The demo's three months end last month; start a quarter before to cover them all.
    const today = new Date();
    const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 4, 1)).toISOString().slice(0, 10);
    await form.getByLabel("From").fill(from);
    await form.getByRole("button", { name: "Run now" }).click();
    // The run's row (server state, newest first; imports in other specs start runs of their own):
    // succeeded, with suggestions and records left without a match.
    const newest = page.getByRole("table", { name: "Matching runs" }).getByRole("row").nth(1);
    await expect(newest).toContainText(/manual\s*succeeded\s*\d+\s*[1-9]\d*\s*[1-9]\d*\s*accountant@demo/);

    const suggestions = page.getByRole("region", { name: "Suggested matches" }).getByTestId("match-suggested");
    const before = await suggestions.count();
    expect(before).toBeGreaterThanOrEqual(2);

    // Confirm the first suggestion with the keyboard, reject the next with the button.
    await suggestions.first().focus();
    await page.keyboard.press("c");
    await expect(suggestions).toHaveCount(before - 1);
    await suggestions.first().getByRole("button", { name: "Reject" }).click();
    await expect(suggestions).toHaveCount(before - 2);

    const matched = page.getByRole("region", { name: "Matched" });
    await expect(matched.getByTestId("match-confirmed")).toHaveCount(1);
    const autos = matched.getByTestId("match-auto_matched");
    expect(await autos.count()).toBeGreaterThan(0);
    // The list shows a page; its heading counts every match.
    const heading = matched.getByRole("heading", { name: /^Matched/ });
    const total = Number((await heading.textContent())!.match(/\((\d+)\)/)![1]);

    // Undo needs a reason.
    const auto = autos.first();
    await auto.getByRole("button", { name: "Undo…" }).click();
    const undo = auto.getByRole("form", { name: "Undo this match" });
    await undo.getByLabel("Why is this match wrong?").fill("Receipt belongs to a different invoice");
    await undo.getByRole("button", { name: "Undo match" }).click();
    await expect(heading).toContainText(`(${total - 1})`);
    await expect(alertOf(page)).toHaveCount(0);

    // The unmatched list explains what found no partner.
    const unmatched = page.getByRole("table", { name: "Unmatched records" });
    await expect(unmatched.getByText("DEUTSCHE BANK AG").first()).toBeVisible();
    await expect(unmatched.getByRole("cell", { name: /^NORDLICHT DESIGN GMBH/ })).toBeVisible();
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: "e2e/.auth/viewer.json" });

  test("sees matches but no run form and no decision buttons", async ({ page }) => {
    await page.goto("/matches");
    await expect(page.getByRole("heading", { name: "Matches" })).toBeVisible();
    await expect(page.getByRole("form", { name: "Run matching" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Confirm" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Undo…" })).toHaveCount(0);
  });
});
