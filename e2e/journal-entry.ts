import type { Page } from "@playwright/test";

/** Fills the new-entry form with a two-line entry, `amount` debited to one account and credited to the other (labels as the form lists them). */
export async function fillJournalEntry(page: Page, e: { date: string; description: string; amount: string; debit: string; credit: string }) {
  await page.goto("/ledger/entries/new");
  await page.getByLabel("Date").fill(e.date);
  await page.getByLabel("Description", { exact: true }).fill(e.description);
  await page.getByLabel("Line 1 account").selectOption({ label: e.debit });
  await page.getByLabel("Line 1 debit").fill(e.amount);
  await page.getByLabel("Line 2 account").selectOption({ label: e.credit });
  await page.getByLabel("Line 2 credit").fill(e.amount);
}
