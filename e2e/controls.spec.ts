import { expect, test } from "@playwright/test";
import { alertOf, asUser, signIn } from "./sign-in";

test("an admin proposes a new high threshold; it applies only once a second admin approves it, and the settings page then shows it", async ({ browser }) => {
  // In Harbour Analytics, where the demo admin is one of two admins: the demo group's policy,
  // which the workspace specs rate their exceptions by, stays as seeded.
  const maker = await asUser(browser, "admin");
  await maker.page.goto("/ledger");
  await maker.page.getByRole("combobox", { name: "Organisation" }).selectOption({ label: "Harbour Analytics" });
  await maker.page.getByRole("button", { name: "Switch" }).click();
  await expect(maker.page.getByRole("table", { name: /Trial balance of Harbour Analytics Ltd/ })).toBeVisible();
  await maker.page.goto("/settings");
  await maker.page.getByRole("link", { name: "Controls" }).click();
  await expect(maker.page.getByRole("heading", { name: "Settings — Controls" })).toBeVisible();
  await expect(maker.page.getByTestId("policy-amountHigh")).toHaveText("10000");

  await maker.page.getByText("Propose a change to the exception policy").click();
  const form = maker.page.getByRole("form", { name: "Propose an exception policy" });
  // Medium above high is refused, with the message at the field.
  await form.getByLabel("Medium from amount").fill("30000");
  await form.getByLabel("High from amount").fill("25000.50");
  await form.getByLabel("Reason for approvers").fill("Harbour's auditors set materiality at 25,000.50");
  await form.getByRole("button", { name: "Propose policy change" }).click();
  await expect(alertOf(maker.page)).toHaveText("Some fields need attention.");
  await expect(form.getByText("The high threshold cannot be below the medium one")).toBeVisible();
  await expect(form.getByLabel("High from amount")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("Medium from amount").fill("1000");
  await form.getByRole("button", { name: "Propose policy change" }).click();
  await expect(form.getByRole("status")).toContainText("Nothing changes until a second person (an approver or another admin) approves it");
  const requestPath = await form.getByRole("link", { name: "open the approval request" }).getAttribute("href");
  expect(requestPath).toMatch(/^\/approvals\/[0-9a-f-]{36}$/);

  // Proposed, not applied: the value stands and the change is listed as waiting.
  await maker.page.reload();
  await expect(maker.page.getByTestId("policy-amountHigh")).toHaveText("10000");
  await expect(maker.page.getByRole("table", { name: "Proposed changes waiting for approval" })).toContainText("High from amount: 10000 → 25000.5");

  // The maker sees the before and after but cannot approve their own change.
  await maker.page.goto(requestPath!);
  await expect(maker.page.getByRole("table", { name: "Changes" })).toContainText("Exception policy: High from amount1000025000.5");
  await expect(maker.page.getByText("You submitted this request; someone else must approve it.")).toBeVisible();
  await expect(maker.page.getByRole("button", { name: "Approve" })).toHaveCount(0);

  // Harbour's own admin approves it.
  const second = await browser.newContext();
  const approver = await second.newPage();
  await signIn(approver, "owner@harbour.example");
  await approver.goto(requestPath!);
  await approver.getByLabel("Comment").fill("Matches the audit letter");
  await approver.getByRole("button", { name: "Approve" }).click();
  await expect(approver.getByRole("status").filter({ hasText: "Approved and executed." })).toBeVisible();

  await maker.page.goto("/settings/controls");
  await expect(maker.page.getByTestId("policy-amountHigh")).toHaveText("25000.5");
  await expect(maker.page.getByTestId("policy-amountMedium")).toHaveText("1000");
  await expect(maker.page.getByTestId("policy-version")).toContainText("2, proposed by Ada Admin");
  await expect(maker.page.getByRole("table", { name: "Proposed changes waiting for approval" })).toContainText("No proposed change is waiting.");
  await maker.context.close();
  await second.close();
});

test("a viewer reads the controls and is offered no way to change them", async ({ browser }) => {
  const viewer = await asUser(browser, "viewer");
  await viewer.page.goto("/settings/controls");
  await expect(viewer.page.getByTestId("policy-amountMedium")).toHaveText("1000");
  await expect(viewer.page.getByText("Admins propose changes to these controls; your role (viewer) reads them.")).toBeVisible();
  await expect(viewer.page.getByRole("table", { name: "Approval tiers" })).toContainText("Manual journal entry");
  await expect(viewer.page.getByText(/^Propose /)).toHaveCount(0);
  await expect(viewer.page.getByRole("textbox")).toHaveCount(0);
  await viewer.context.close();
});
