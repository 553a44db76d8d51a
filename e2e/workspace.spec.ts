import { expect, test } from "@playwright/test";
import { alertOf, asUser, nextActionCall, replayAction } from "./sign-in";

/**
 * The accountant's morning on the demo organisation (seeded with last night's matching run):
 * filter the queue, build a many-to-one match by hand, accept suggestions in bulk, snooze, write
 * off two bank charges in one request; and a viewer who sees it all and can change nothing, not
 * even with a forged call.
 */

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The Nordlicht deposit the bank received in one transfer on last month's 19th (a working day):
 * 1,180.00 is "medium" by amount and climbs a level each time it passes 30 and 60 days of age
 * (the organisation's default policy).
 */
function nordlicht() {
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  let booked = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 19)).toISOString().slice(0, 10);
  const dow = new Date(`${booked}T00:00:00Z`).getUTCDay();
  if (dow === 6) booked = addDays(booked, 2);
  if (dow === 0) booked = addDays(booked, 1);
  const age = (Date.parse(today) - Date.parse(booked)) / 86_400_000;
  const severity = ["low", "medium", "high", "critical"][Math.min(3, 1 + (age > 30 ? 1 : 0) + (age > 60 ? 1 : 0))];
  return { severity };
}

test("an accountant filters by severity, matches a deposit many-to-one by hand, accepts suggestions in bulk, snoozes and writes off in bulk; a viewer changes nothing", async ({ browser }) => {
  const { page, context } = await asUser(browser, "accountant");
  const { severity } = nordlicht();

  // Filter by severity: the filter is in the URL and every row shown has that severity.
  await page.goto("/exceptions");
  await expect(page.getByRole("heading", { name: "Exceptions" })).toBeVisible();
  await expect(page.getByTestId("count-high")).toBeVisible();
  await page.getByLabel("Severity").selectOption(severity);
  await expect(page).toHaveURL(new RegExp(`severity=${severity}`));
  const rows = page.getByTestId("exception-row");
  await expect(rows.first()).toBeVisible();
  for (const badge of await rows.locator(".badge").filter({ hasText: /^(low|medium|high|critical)$/ }).allTextContents()) expect(badge).toBe(severity);

  // Open the Nordlicht deposit and match it to the two ledger instalments.
  await page.getByRole("link", { name: /NORDLICHT DESIGN GMBH/ }).click();
  await expect(page).toHaveURL(/\/exceptions\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("exception-status")).toHaveText("open");
  const builder = page.getByRole("region", { name: "Manual match" });
  await builder.getByLabel("Search the other side").fill("nordlicht");
  await builder.getByRole("checkbox", { name: /700\.00/ }).check();
  await expect(builder.getByTestId("match-difference")).toContainText("480.00");
  await builder.getByRole("checkbox", { name: /480\.00/ }).check();
  await expect(builder.getByTestId("match-difference")).toHaveText("0.00 EUR");
  await builder.getByRole("button", { name: "Match selected" }).click();
  await expect(page.getByTestId("exception-status")).toHaveText("resolved");
  await expect(page.getByTestId("resolution")).toContainText("Matched by hand");
  await expect(page.getByRole("region", { name: "History" })).toContainText("resolved by accountant@demo.tieout.dev");

  // Bulk-accept three suggestions in the match review.
  await page.goto("/matches");
  const review = page.getByRole("region", { name: "Suggested matches" });
  const suggestions = review.getByTestId("match-suggested");
  const before = await suggestions.count();
  expect(before).toBeGreaterThanOrEqual(3);
  for (let i = 0; i < 3; i++) await suggestions.nth(i).getByRole("checkbox").check();
  await expect(review.getByText("3 selected")).toBeVisible();
  await review.getByRole("button", { name: "Accept selected" }).click();
  await expect(suggestions).toHaveCount(before - 3);
  await expect(alertOf(page)).toHaveCount(0);

  // Snooze one exception: it leaves the open queue and the snoozed count grows.
  await page.goto("/exceptions");
  const first = page.getByTestId("exception-row").first();
  const title = (await first.getByRole("link").textContent())!;
  const snoozedBefore = Number((await page.getByRole("button", { name: /^snoozed/ }).locator("strong").textContent()) ?? "0");
  await first.getByRole("checkbox").check();
  const bulk = page.getByRole("toolbar", { name: "Bulk actions" });
  const actionRequest = nextActionCall(page);
  await bulk.getByRole("button", { name: "Snooze" }).click();
  const captured = await actionRequest;
  await expect(page.getByRole("status").filter({ hasText: /1 snoozed until/ })).toBeVisible();
  await expect(page.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^snoozed/ }).locator("strong")).toHaveText(String(snoozedBefore + 1));
  await page.getByLabel("Status").selectOption("snoozed");
  await expect(page.getByRole("link", { name: title, exact: true })).toBeVisible();

  // Write off two of the bank's own lines (charges, interest) dated in one month, in one go: one
  // request for both, linked from the page, and each row marked as waiting on it. The latest
  // month's, which no other step touches (the period spec explains the earliest month's).
  await page.goto("/exceptions?q=deutsche+bank+ag");
  const bankRows = page.getByTestId("exception-row");
  await expect(bankRows.first()).toBeVisible();
  const byMonth = new Map<string, string[]>();
  for (const t of await bankRows.getByRole("link").filter({ hasText: /^No match: / }).allTextContents()) {
    const month = /on (\d{4}-\d{2})-\d{2}/.exec(t)?.[1];
    if (month) byMonth.set(month, [...(byMonth.get(month) ?? []), t]);
  }
  const [, pair] = [...byMonth.entries()].filter(([, ts]) => ts.length >= 2).sort(([a], [b]) => b.localeCompare(a))[0];
  const picked = pair.slice(0, 2);
  for (const t of picked) await page.getByRole("checkbox", { name: `Select ${t}`, exact: true }).check();
  await bulk.getByRole("button", { name: "Write off…" }).click();
  await bulk.getByLabel("Reason for the write-off").fill("The bank's own charges and interest of the month, below materiality");
  await bulk.getByRole("button", { name: "Submit write-off for approval" }).click();
  const filed = page.getByRole("status").filter({ hasText: "2 exceptions sent for approval as one write-off" });
  await expect(filed).toBeVisible();
  const requestPath = await filed.getByRole("link", { name: "Open the approval request" }).getAttribute("href");
  expect(requestPath).toMatch(/^\/approvals\/[0-9a-f-]{36}$/);
  for (const t of picked) {
    await expect(bankRows.filter({ has: page.getByRole("link", { name: t, exact: true }) }).getByRole("link", { name: "awaiting approval" })).toHaveAttribute("href", requestPath!);
  }
  await page.goto(requestPath!);
  await expect(page.getByRole("heading", { name: "Bulk write-off of exceptions" })).toBeVisible();
  const listed = page.getByRole("table", { name: "Exceptions written off" });
  for (const t of picked) await expect(listed).toContainText(t);
  await expect(listed.locator("tbody tr")).toHaveCount(3);

  // The viewer: the same pages, no checkboxes, no action buttons; the captured action replayed with
  // the viewer's session is refused and changes nothing.
  const viewer = await asUser(browser, "viewer");
  await viewer.page.goto("/exceptions");
  await expect(viewer.page.getByTestId("exception-row").first()).toBeVisible();
  await expect(viewer.page.getByRole("checkbox")).toHaveCount(0);
  await viewer.page.getByTestId("exception-row").first().getByRole("link").click();
  await expect(viewer.page.getByRole("heading", { name: "History" })).toBeVisible();
  await expect(viewer.page.getByRole("region", { name: "Actions" })).toHaveCount(0);
  await expect(viewer.page.getByRole("region", { name: "Manual match" })).toHaveCount(0);
  await expect(viewer.page.getByRole("button", { name: /Accept|Explain|Snooze|Comment/ })).toHaveCount(0);
  const reply = await replayAction(viewer.page, captured);
  expect(reply).toContain('"ok":false');
  expect(reply).toContain('"code":"forbidden"');
  await viewer.context.close();
  await context.close();
});

/** "1,138.45" / "-45,465.57" → cents, exactly (no float). */
const cents = (text: string) => {
  const t = text.replace(/[^\d.-]/g, "");
  const neg = t.startsWith("-");
  const [whole, frac = ""] = t.replace("-", "").split(".");
  const v = BigInt(whole || "0") * 100n + BigInt((frac + "00").slice(0, 2));
  return neg ? -v : v;
};

test("the reconciliation overview shows statement against ledger, and the difference equals the sum of the items listed", async ({ browser }) => {
  const { page, context } = await asUser(browser, "viewer");
  const now = new Date();
  const asOf = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)).toISOString().slice(0, 10);
  await page.goto(`/reconciliation?asOf=${asOf}`);
  const overviewDifference = cents((await page.getByTestId("source-difference").first().textContent())!);
  expect(overviewDifference).not.toBe(0n);
  await page.getByRole("link", { name: "Operating account (Deutsche Bank)" }).click();
  await expect(page).toHaveURL(new RegExp(`/reconciliation/[0-9a-f-]{36}\\?asOf=${asOf}`));
  const difference = cents((await page.getByTestId("difference").textContent())!);
  expect(difference).toBe(overviewDifference);
  // The groups listed (statement only, ledger only, inside matches, unexplained) add up to it …
  const groups = page.getByRole("table", { name: /^Reconciling items of / }).locator("tbody tr");
  let sum = 0n;
  for (const row of await groups.all()) sum += cents((await row.locator("td").last().textContent()) ?? "0");
  expect(sum).toBe(difference);
  expect(cents((await page.getByTestId("items-total").textContent())!)).toBe(difference);
  // … and the statement-only lines listed below add up to their group.
  const statementOnly = page.getByTestId("statement-items").locator("tbody tr");
  let lines = 0n;
  for (const row of await statementOnly.all()) lines += cents((await row.locator("td.num").last().textContent()) ?? "0");
  expect(lines).toBe(cents((await page.getByTestId("group-statement_only").locator("td").last().textContent())!));
  await context.close();
});

test("the KPI page draws its four charts with labels and tables, and counts the unresolved exceptions the queue counts", async ({ browser }) => {
  const { page, context } = await asUser(browser, "viewer");
  await page.goto("/exceptions");
  const open = Number((await page.getByText(/^Open [\d,]+$/).textContent())!.replace(/\D/g, ""));
  const snoozed = Number((await page.getByRole("button", { name: /^snoozed / }).textContent())!.replace(/\D/g, ""));
  expect(open).toBeGreaterThan(0);

  await page.goto("/kpis");
  // Every chart is an image with a label that says what it shows, and has its table one click away.
  const charts = page.locator("figure.chart");
  await expect(charts).toHaveCount(4);
  for (const chart of await charts.all()) await expect(chart.locator("div[role=img]")).toHaveAttribute("aria-label", /.{40,}/);
  const age = page.getByTestId("chart-exceptions-age");
  await expect(age.locator("div[role=img]")).toHaveAttribute("aria-label", new RegExp(`^Stacked bar chart of ${open + snoozed} unresolved exceptions by age in days \\(0–7, 8–30, 31–60, 61\\+\\)`));
  await age.getByText("Show as table").click();
  const table = age.getByRole("table", { name: "Unresolved exceptions by severity and age" });
  await expect(table.locator("thead th")).toHaveText(["Severity", "0–7 days", "8–30 days", "31–60 days", "61+ days", "Total"]);
  let total = 0;
  for (const row of await table.locator("tbody tr").all()) total += Number(await row.locator("td").last().textContent());
  expect(total).toBe(open + snoozed);
  await context.close();
});
