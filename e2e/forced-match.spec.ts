import { expect, test } from "@playwright/test";
import { alertOf, asUser } from "./sign-in";
import { fillJournalEntry } from "./journal-entry";

/**
 * A match outside the tolerance, from the accountant's click to the approver's decision. The bank's
 * card fees of the month before last are an open "No match" exception (no other spec touches that
 * month); the ledger books the fee 2.50 below the bank's figure, from its fee schedule. 2.50 is
 * beyond the demo's tolerance (1.00 or 3 %), so matching the two by hand needs a reason and a
 * second person, and nothing is matched until the approver approves it.
 */
test("a match by hand outside the tolerance waits for an approver, and is made only when approved", async ({ browser }) => {
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1)).toISOString().slice(0, 7);
  const accountant = await asUser(browser, "accountant");
  const approver = await asUser(browser, "approver");

  // The bank's card fees of that month, as the queue lists them.
  const page = accountant.page;
  await page.goto("/exceptions?q=deutsche+bank+ag");
  const fee = page.getByRole("link", { name: new RegExp(`^No match: -\\d+\\.\\d{2} EUR on ${month}-\\d{2} \\(DEUTSCHE BANK AG\\)$`) });
  await expect(fee).toHaveCount(1);
  const title = (await fee.textContent())!;
  const [, bankAmount, bookedOn] = /^No match: (-[\d.]+) EUR on (\d{4}-\d{2}-\d{2})/.exec(title)!;
  // The ledger's figure from the fee schedule: 2.50 less than the bank charged (amounts in cents, no float).
  const booked = (Number(bankAmount.replace("-", "").replace(".", "")) - 250).toString().padStart(3, "0");
  const ledgerAmount = `${booked.slice(0, -2)}.${booked.slice(-2)}`;

  // The ledger side: a journal entry for the fees (a manual entry goes through approval too).
  await fillJournalEntry(page, { date: bookedOn, description: `Card fees ${month} per the fee schedule`, amount: ledgerAmount, debit: "6800 Bank fees", credit: "1000 Bank — operating account" });
  await page.getByLabel("Reason for approvers").fill("Monthly card fees, from the bank's fee schedule");
  await page.getByRole("button", { name: "Submit for approval" }).click();
  await expect(page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/);
  await approver.page.goto(new URL(page.url()).pathname);
  await approver.page.getByRole("button", { name: "Approve" }).click();
  await expect(approver.page.getByRole("status").filter({ hasText: "Approved and executed." })).toBeVisible();

  // The accountant picks the ledger's line against the bank's: 2.50 apart.
  await page.goto("/exceptions?q=deutsche+bank+ag");
  await page.getByRole("link", { name: title, exact: true }).click();
  await expect(page.getByTestId("exception-status")).toHaveText("open");
  const builder = page.getByRole("region", { name: "Manual match" });
  await builder.getByLabel("Search the other side").fill("card fees");
  await builder.getByRole("checkbox", { name: new RegExp(`^Pick ${bookedOn} -${ledgerAmount.replace(".", "\\.")}`) }).check();
  await expect(builder.getByTestId("match-difference")).toHaveText("2.50 EUR");

  // Without a reason it is refused, with the tolerance named; nothing is filed.
  await builder.getByRole("button", { name: "Match selected" }).click();
  await expect(alertOf(page)).toContainText("The sides differ by 2.50 EUR, more than the tolerance of");
  await builder.getByLabel("Reason for accepting a difference").fill("The bank charged 2.50 above its published schedule; not worth disputing");
  await builder.getByRole("button", { name: "Match selected" }).click();
  const waiting = builder.getByTestId("match-waiting");
  await expect(waiting).toContainText("Nothing is matched until someone else approves");
  const requestPath = await waiting.getByRole("link", { name: "the request" }).getAttribute("href");
  expect(requestPath).toMatch(/^\/approvals\/[0-9a-f-]{36}$/);

  // Filed, not made: the exception stays open and says what it waits for.
  await page.reload();
  await expect(page.getByTestId("exception-status")).toHaveText("open");
  await expect(page.locator(`a[href="${requestPath}"]`)).toContainText("with a difference of 2.50 EUR (tolerance 1.00)");

  // The maker cannot approve their own match; the approver sees the difference and the reason, and approves.
  await page.goto(requestPath!);
  await expect(page.getByRole("button", { name: "Approve" })).toHaveCount(0);
  await approver.page.goto(requestPath!);
  await expect(approver.page.getByRole("heading", { name: "Manual match outside the tolerance" })).toBeVisible();
  await expect(approver.page.getByText("with a difference of 2.50 EUR (tolerance 1.00)")).toBeVisible();
  await expect(approver.page.getByRole("definition").filter({ hasText: /^The bank charged 2.50 above its published schedule/ }).first()).toBeVisible();
  await approver.page.getByLabel("Comment").fill("Agreed, below materiality");
  await approver.page.getByRole("button", { name: "Approve" }).click();
  await expect(approver.page.getByRole("status").filter({ hasText: "Approved and executed." })).toBeVisible();
  await expect(approver.page.getByTestId("request-status")).toHaveText("executed");

  // Now it is matched: the exception is resolved as matched by hand, naming the approved request.
  await page.goto("/exceptions?status=resolved&q=deutsche+bank+ag");
  await page.getByRole("link", { name: title, exact: true }).click();
  await expect(page.getByTestId("exception-status")).toHaveText("resolved");
  await expect(page.getByTestId("resolution")).toContainText("Matched by hand");
  await expect(page.getByRole("region", { name: "Manual match" })).toHaveCount(0);

  await accountant.context.close();
  await approver.context.close();
});
