import { expect, test } from "@playwright/test";
import { alertOf, asUser } from "./sign-in";

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

test("an admin proposes a matching rule; it takes effect only when an approver approves it", async ({ browser }) => {
  const name = `E2E rule ${Date.now()}`;
  const admin = await asUser(browser, "admin");
  // The admin belongs to two organisations; the rule is the demo group's.
  await admin.page.goto("/matches/rules");
  await admin.page.getByRole("combobox", { name: "Organisation" }).selectOption({ label: "Tieout Demo Group" });
  await admin.page.getByRole("button", { name: "Switch" }).click();
  await admin.page.waitForURL(/\/ledger/);
  await admin.page.goto("/matches/rules");
  await admin.page.getByRole("link", { name: "Propose a new rule" }).click();
  const form = admin.page.getByRole("form", { name: "New rule" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  // A text no demo line carries: the rule changes nothing the other specs look at.
  await form.getByLabel("Text 1").fill("E2E-NO-SUCH-REFERENCE");
  await form.getByLabel("Reason for approvers").fill("Lines with this reference are internal transfers");
  await form.getByRole("button", { name: "Propose rule" }).click();
  await expect(admin.page).toHaveURL(/\/matches\/rules$/);
  const waiting = admin.page.getByRole("region", { name: "Proposed rule changes" });
  const request = waiting.getByRole("link", { name: `New rule “${name}”: ignore (leave out of matching and exceptions)` });
  await expect(request).toBeVisible();
  // Proposed, not in effect.
  await expect(admin.page.getByRole("table", { name: "Rules" })).not.toContainText(name);
  const requestUrl = (await request.getAttribute("href"))!;
  await admin.page.goto(requestUrl);
  await expect(admin.page.getByText("You submitted this request; someone else must approve it.")).toBeVisible();
  await expect(admin.page.getByRole("button", { name: "Approve" })).toHaveCount(0);

  const approver = await asUser(browser, "approver");
  await approver.page.goto(requestUrl);
  await expect(approver.page.getByRole("table", { name: "Changes" })).toContainText(name);
  await expect(approver.page.getByRole("table", { name: "Changes" })).toContainText("description contains “E2E-NO-SUCH-REFERENCE”");
  await approver.page.getByRole("button", { name: "Approve" }).click();
  await expect(approver.page.getByTestId("approvals-so-far")).toHaveText("1 of 1");
  await approver.page.reload();
  await expect(approver.page.getByTestId("request-status")).toHaveText("executed");

  await admin.page.goto("/matches/rules");
  await expect(admin.page.getByRole("table", { name: "Rules" })).toContainText(name);
  await expect(admin.page.getByRole("region", { name: "Proposed rule changes" })).toHaveCount(0);
  await admin.context.close();
  await approver.context.close();
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
