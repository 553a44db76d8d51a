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
    await expect(page.getByTestId("run-result")).toContainText(/Run finished: \d+ auto-matched, [1-9]\d* suggested, [1-9]\d* without a match/);
    await expect(page.getByRole("table", { name: "Matching runs" }).getByRole("row")).toHaveCount(2);

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
    const autoCount = await autos.count();
    expect(autoCount).toBeGreaterThan(0);

    // Undo needs a reason.
    const auto = autos.first();
    await auto.getByRole("button", { name: "Undo…" }).click();
    const undo = auto.getByRole("form", { name: "Undo this match" });
    await undo.getByLabel("Why is this match wrong?").fill("Receipt belongs to a different invoice");
    await undo.getByRole("button", { name: "Undo match" }).click();
    await expect(autos).toHaveCount(autoCount - 1);
    await expect(alertOf(page)).toHaveCount(0);

    // The unmatched list explains what found no partner.
    const unmatched = page.getByRole("table", { name: "Unmatched records" });
    await expect(unmatched.getByText("DEUTSCHE BANK AG").first()).toBeVisible();
    await expect(unmatched.getByText("NORDLICHT DESIGN GMBH")).toBeVisible();
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
