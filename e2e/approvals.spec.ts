import { expect, test, type Page } from "@playwright/test";
import { alertOf, asUser, nextActionCall, replayAction } from "./sign-in";
import { fillJournalEntry } from "./journal-entry";

/** A travel accrual: the kind of manual entry these specs submit. */
const fillEntry = (page: Page, date: string, description: string, amount: string) =>
  fillJournalEntry(page, { date, description, amount, debit: "6300 Travel", credit: "2300 Accrued expenses" });

test("an adjustment of 12,000 needs two approvers; the maker cannot approve it, not even with a forged call", async ({ browser }) => {
  const today = new Date().toISOString().slice(0, 10);
  const description = `E2E accrual ${Date.now()}`;
  const maker = await asUser(browser, "accountant");
  await fillEntry(maker.page, today, description, "12000.00");
  await maker.page.getByLabel("Reason for approvers").fill("Year-end travel accrual per the agency's statement");
  await maker.page.getByRole("button", { name: "Submit for approval" }).click();
  await expect(maker.page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/);
  const requestUrl = new URL(maker.page.url()).pathname;
  await expect(maker.page.getByTestId("request-status")).toHaveText("pending");
  await expect(maker.page.getByTestId("policy")).toContainText("2 approver(s)");
  await expect(maker.page.getByRole("table", { name: "Journal lines" })).toContainText("12,000.00");
  // The maker's own approve button is absent.
  await expect(maker.page.getByText("You submitted this request; someone else must approve it.")).toBeVisible();
  await expect(maker.page.getByRole("button", { name: "Approve" })).toHaveCount(0);

  // First approver: the badge and the inbox list it; approving leaves it pending.
  const first = await asUser(browser, "approver");
  await first.page.goto("/approvals");
  await expect(first.page.getByTestId("badge-approvals")).toBeVisible();
  await first.page.getByRole("table", { name: "Waiting for me" }).getByRole("link", { name: new RegExp(description) }).click();
  await expect(first.page).toHaveURL(new RegExp(`${requestUrl}$`));
  await first.page.getByLabel("Comment").fill("Agency statement checked");
  // Keep the server action's wire format to replay it as the maker below.
  const actionRequest = nextActionCall(first.page);
  await first.page.getByRole("button", { name: "Approve" }).click();
  const captured = await actionRequest;
  // The page itself is the record of the decision: its form goes once this approver has decided
  // (and its confirmation with it), so the test reads the request's own status and tally.
  await expect(first.page.getByTestId("approvals-so-far")).toHaveText("1 of 2");
  await first.page.reload();
  await expect(first.page.getByTestId("request-status")).toHaveText("pending");
  await expect(first.page.getByTestId("approvals-so-far")).toHaveText("1 of 2");

  // A forged call: the same server action, sent with the maker's session, is refused (the maker's
  // role cannot decide; a maker who can is refused by the service and the database, see the db tests).
  const reply = await replayAction(maker.page, captured);
  expect(reply).toContain('"ok":false');
  expect(reply).toContain('"code":"forbidden"');
  await maker.page.reload();
  await expect(maker.page.getByTestId("approvals-so-far")).toHaveText("1 of 2");

  // Second approver: the entry is posted and visible in the ledger.
  const second = await asUser(browser, "approver2");
  await second.page.goto(requestUrl);
  await second.page.getByRole("button", { name: "Approve" }).click();
  await expect(second.page.getByRole("status").filter({ hasText: /Executed: Journal entry \d+ is posted/ })).toBeVisible();
  await second.page.reload();
  await expect(second.page.getByTestId("request-status")).toHaveText("executed");
  await second.page.getByRole("link", { name: /Journal entry \d+ is posted/ }).click();
  await expect(second.page).toHaveURL(/\/ledger\/entries\/[0-9a-f-]{36}$/);
  await expect(second.page.getByText(description, { exact: true })).toBeVisible();
  await maker.page.goto("/ledger");
  await expect(maker.page.getByRole("table", { name: "Recent journal entries" }).getByText(description)).toBeVisible();
  await expect(maker.page.getByRole("table", { name: "Audit trail" })).toHaveCount(0);
  await maker.page.goto(requestUrl);
  await expect(maker.page.getByRole("table", { name: "Audit trail" })).toContainText("approval.executed");
  for (const u of [maker, first, second]) await u.context.close();
});

test("an admin clears a period's checklist (explaining its unmatched lines, overriding one item with a reason) and closes it; a later posting into it is refused with a clear message", async ({ browser }) => {
  const admin = await asUser(browser, "admin");
  const t = new Date();
  const month = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 3, 1)).toISOString().slice(0, 7);
  await admin.page.goto("/periods");
  // The admin belongs to two organisations; the demo group's books are the ones to close.
  await admin.page.getByRole("combobox", { name: "Organisation" }).selectOption({ label: "Tieout Demo Group" });
  await admin.page.getByRole("button", { name: "Switch" }).click();
  await admin.page.waitForURL(/\/ledger/);
  await admin.page.goto("/periods");
  await admin.page.getByRole("table", { name: /Periods of Tieout Demo GmbH/ }).getByRole("link", { name: month, exact: true }).click();
  await expect(admin.page.getByRole("heading", { name: `Period ${month} — Tieout Demo GmbH` })).toBeVisible();
  const periodUrl = admin.page.url();
  const checklist = admin.page.getByRole("list", { name: "Close checklist" });
  // Last night's run left the month's bank charges and interest unmatched: the admin explains each
  // from the checklist's own links until the month is reconciled.
  for (let i = 0; i < 15; i++) {
    const item = checklist.getByRole("link").filter({ hasText: /^Operating account \(Deutsche Bank\): No match/ }).first();
    if ((await item.count()) === 0) break;
    await item.click();
    await admin.page.getByRole("button", { name: "Explain…" }).click();
    await admin.page.getByRole("form", { name: "Explain" }).getByLabel("Reason").selectOption("bank_fee");
    await admin.page.getByRole("form", { name: "Explain" }).getByRole("button", { name: "Resolve as explained" }).click();
    await expect(admin.page.getByTestId("exception-status")).toHaveText("resolved");
    await admin.page.goto(periodUrl);
  }
  // Later months' high exceptions are still being worked: that item is overridden with a reason.
  await expect(checklist.getByText("blocked")).toHaveCount(1);
  await expect(checklist.getByText("clear", { exact: true })).toHaveCount(3);
  await admin.page.getByLabel(/Override “No open high or critical exceptions”/).fill("The open items are dated in later months and are being worked");
  await admin.page.getByRole("button", { name: "Close period" }).click();
  await expect(admin.page.getByTestId("period-status")).toHaveText("closed");

  const accountant = await asUser(browser, "accountant");
  await fillEntry(accountant.page, `${month}-15`, "E2E late accrual", "50.00");
  await accountant.page.getByRole("button", { name: "Submit for approval" }).click();
  await expect(alertOf(accountant.page)).toHaveText(`Period ${month} is closed; nothing can be posted on ${month}-15.`);
  await expect(accountant.page).toHaveURL(/\/ledger\/entries\/new/);
  await admin.context.close();
  await accountant.context.close();
});
