import { expect, test } from "@playwright/test";
import { XERO_SIM_PORT } from "../playwright.config";

/**
 * The admin connects Xero through the simulator's consent page (npm start runs it when no Xero
 * credentials are configured), maps the organisation to an entity, runs a full sync and watches it
 * finish; changes made in the simulator arrive with the next incremental sync; disconnect works.
 */
const SIM = `http://127.0.0.1:${XERO_SIM_PORT}`;

test.use({ storageState: "e2e/.auth/admin.json" });
test.setTimeout(240_000);

test("connect Xero, map a tenant, full sync, incremental sync of changes, disconnect", async ({ page, request }) => {
  const state = await (await request.get(`${SIM}/__sim/state`)).json();
  const harbour = state.orgs.find((o: { name: string }) => o.name === "Harbour Road Trading Ltd");

  await page.goto("/settings/xero");
  await page.getByLabel("Organisation", { exact: true }).selectOption({ label: "Tieout Demo Group" });
  await page.getByRole("button", { name: "Switch" }).click();
  await expect(page).toHaveURL(/\/ledger/);
  await page.goto("/settings/xero");
  await page.getByRole("button", { name: "Connect Xero" }).click();
  await expect(page.getByRole("heading", { name: /wants access to your Xero organisations/ })).toBeVisible();
  await page.getByLabel("Harbour Road Trading Ltd").check();
  await page.getByLabel("Kauri Cafe Group Ltd").uncheck();
  await page.getByRole("button", { name: "Allow access" }).click();

  await expect(page.getByRole("status")).toContainText("Connected 1 Xero organisation");
  const orgs = page.getByRole("table", { name: "Xero organisations" });
  await expect(orgs).toContainText("choose an entity");
  await page.getByLabel("Entity for Harbour Road Trading Ltd").selectOption({ label: "Tieout Demo Ltd (GBP)" });
  await page.getByRole("button", { name: "Map" }).click();
  await expect(orgs.getByText("connected", { exact: true })).toBeVisible();

  // A few slow invoice pages, so the progress is there to watch.
  await request.post(`${SIM}/__sim/faults`, { data: { faults: [{ kind: "slow", path: "/Invoices", delayMs: 700, times: 3 }] } });
  await page.goto("/sync");
  await page.getByRole("button", { name: "Run full sync" }).click();
  const live = page.getByRole("region", { name: "Sync in progress" });
  await expect(live).toBeVisible();
  await expect(live.getByTestId("progress-accounts")).toContainText("done");
  const latest = page.getByRole("region", { name: "Latest sync" });
  await expect(latest.getByTestId("sync-status")).toHaveText("succeeded", { timeout: 180_000 });
  const invoices = harbour.counts.Invoices as number;
  await expect(latest.getByTestId("progress-invoices")).toContainText(String(invoices));
  await expect(latest.getByTestId("progress-journals")).toContainText("done");

  // Someone works in Xero: 3 new invoices (and bank transactions), edits, a voided invoice.
  const m = await (await request.post(`${SIM}/__sim/mutate`, { data: { tenantId: harbour.tenantId, edits: 4, creates: 3, voids: 1 } })).json();
  expect(m.created.Invoices).toHaveLength(3);
  await page.getByRole("button", { name: "Run incremental sync" }).click();
  await expect(page.getByRole("table", { name: "Sync history" }).getByRole("row")).toHaveCount(3);
  await expect(latest).toContainText("incremental", { timeout: 60_000 });
  await expect(latest.getByTestId("sync-status")).toHaveText("succeeded", { timeout: 120_000 });
  const row = latest.getByTestId("progress-invoices");
  // New: the 3 created; updated: at least the voided one.
  await expect(row.locator("td").nth(3)).toHaveText("3");
  expect(Number(await row.locator("td").nth(4).textContent())).toBeGreaterThanOrEqual(1);

  // The chart of accounts the syncs imported: the demo chart shares no code with Xero's, so
  // nothing is mapped by code; the admin maps Sales, and the choice is there after a reload.
  await page.goto("/settings/xero");
  const chart = page.getByRole("table", { name: "Xero accounts of Harbour Road Trading Ltd" });
  await expect(chart.getByRole("row")).toHaveCount(harbour.counts.Accounts + 1);
  await expect(page.getByTestId("account-map-counts")).toContainText("0 mapped");
  const sales = page.getByLabel("Tieout account for 200 Sales");
  await sales.selectOption({ label: "4000 Subscription revenue" });
  await expect(page.getByTestId("account-map-counts")).toContainText("1 mapped");
  await page.reload();
  await expect(sales.locator("option:checked")).toHaveText("4000 Subscription revenue");
  await expect(page.getByTestId("xero-account-200")).toContainText("admin@demo.tieout.dev");

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Disconnect Harbour Road Trading Ltd" }).click();
  await expect(orgs.getByText("No Xero organisation is connected.")).toBeVisible();
  const after = await (await request.get(`${SIM}/__sim/state`)).json();
  expect(after.connections).toEqual([]);
  expect(after.stats.revocations).toBe(1);
});
