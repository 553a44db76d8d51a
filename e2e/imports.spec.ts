import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { alertOf } from "./sign-in";

const MT940 = path.resolve(import.meta.dirname, "../test/fixtures/statements/mt940/fruitl00p_penta.sta");

/** A bank export no preset knows: the person maps its columns by hand. */
const CUSTOM_CSV = {
  name: "house-bank-export.csv",
  mimeType: "text/csv",
  buffer: Buffer.from(
    [
      "Wann;Wieviel;Wer;Wozu",
      "03.11.2026;1.250,00;Nordwind Handels GmbH;Rechnung 2026-118",
      "04.11.2026;-89,90;Stadtwerke Köln;Strom Oktober",
      "04.11.2026;-12,50;Kaffeerösterei Ehrenfeld;Bewirtung",
      "05.11.2026;420,00;Blau & Söhne KG;Rechnung 2026-121",
    ].join("\r\n"),
    "utf-8",
  ),
};

async function upload(page: Page, file: string | typeof CUSTOM_CSV) {
  await page.getByLabel("File to import").setInputFiles(file);
}

test.describe("as an accountant", () => {
  test.use({ storageState: "e2e/.auth/accountant.json" });

  test("imports an MT940 statement, then the same file again adds nothing", async ({ page }) => {
    await page.goto("/imports");
    await page.getByLabel("Source").selectOption({ label: "Operating account (Deutsche Bank) (EUR)" });
    await upload(page, MT940);
    const preview = page.getByRole("region", { name: "Preview" });
    await expect(preview.getByTestId("detected-format")).toHaveText("MT940 / MT942");
    await expect(preview.getByTestId("preview-count")).toHaveText("30");
    await expect(preview.getByRole("table", { name: "Statement balances" }).getByText("adds up")).toBeVisible();
    await expect(preview.getByRole("table", { name: "Parsed lines" }).getByRole("row")).toHaveCount(31);
    await preview.getByRole("button", { name: /Import 30 lines/ }).click();
    await expect(page.getByTestId("import-summary")).toContainText("30 new, 0 duplicate, 0 rejected");

    await upload(page, MT940);
    await expect(preview.getByText(/This exact file was imported into this source before/)).toBeVisible();
    await preview.getByRole("button", { name: /Import 30 lines/ }).click();
    await expect(page.getByTestId("import-summary")).toContainText("0 new, 30 duplicate");
    await expect(page.getByRole("table", { name: "Import history" }).getByText("fruitl00p_penta.sta").first()).toBeVisible();
  });

  test("maps a CSV's columns by hand, saves the mapping, and re-imports with it to 0 new", async ({ page }) => {
    await page.goto("/imports");
    await page.getByLabel("Source").selectOption({ label: "Operating account (Deutsche Bank) (EUR)" });
    await upload(page, CUSTOM_CSV);
    const preview = page.getByRole("region", { name: "Preview" });
    await expect(preview.getByTestId("detected-format")).toHaveText("CSV");
    await expect(preview.getByRole("table", { name: "File rows as read" })).toContainText("Nordwind Handels GmbH");

    await preview.getByLabel("Column for Booked date").selectOption({ label: "Wann" });
    await preview.getByLabel("Column for Amount (signed)").selectOption({ label: "Wieviel" });
    await preview.getByLabel("Column for Counterparty", { exact: true }).selectOption({ label: "Wer" });
    await preview.getByLabel("Columns for Description").selectOption({ label: "Wozu" });
    await preview.getByLabel("Date format").selectOption("dd.mm.yyyy");
    await preview.getByLabel("Decimal separator").selectOption(",");
    await expect(preview.getByTestId("preview-count")).toHaveText("4");
    const lines = preview.getByRole("table", { name: "Parsed lines" });
    await expect(lines).toContainText("2026-11-03");
    await expect(lines).toContainText("1,250.00 EUR");
    await expect(lines).toContainText("-89.90 EUR");
    await preview.getByLabel(/Save this mapping as a profile/).fill("House bank CSV");
    await preview.getByRole("button", { name: /Import 4 lines/ }).click();
    await expect(page.getByTestId("import-summary")).toContainText("4 new, 0 duplicate, 0 rejected");

    // Next time: the saved profile reads the same export in one step, and nothing is new.
    await page.reload();
    await page.getByLabel("Source").selectOption({ label: "Operating account (Deutsche Bank) (EUR)" });
    await upload(page, { ...CUSTOM_CSV, name: "house-bank-export-again.csv" });
    await preview.getByLabel("Mapping profile").selectOption({ label: "House bank CSV" });
    await expect(preview.getByTestId("preview-count")).toHaveText("4");
    await preview.getByRole("button", { name: /Import 4 lines/ }).click();
    await expect(page.getByTestId("import-summary")).toContainText("0 new, 4 duplicate");
  });

  test("a malformed file is refused with the line, and nothing is imported", async ({ page }) => {
    await page.goto("/imports");
    await upload(page, { name: "broken.sta", mimeType: "text/plain", buffer: Buffer.from(":20:STMT\r\n:25:NL12BANK0123456789\r\n:28C:1\r\n:60F:C261101EUR100,00\r\n:61:2611XXC10,00NTRFNONREF\r\n:62F:C261101EUR110,00\r\n") });
    await expect(alertOf(page)).toContainText(/line \d/);
    await expect(page.getByRole("region", { name: "Preview" })).toHaveCount(0);
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: "e2e/.auth/viewer.json" });

  test("sees sources and their transactions but cannot import", async ({ page }) => {
    await page.goto("/sources");
    await page.getByRole("link", { name: "Operating account (Deutsche Bank)" }).click();
    await expect(page.getByRole("table", { name: /Transactions of/ }).getByRole("row")).not.toHaveCount(1);
    await page.getByLabel("Search", { exact: true }).fill("NORDLICHT");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByRole("table", { name: /Transactions of/ })).toContainText("ADVANCE PAYMENT PROJECT NL-7");
    await page.goto("/imports");
    await expect(page.getByText(/can see imports but not run them/)).toBeVisible();
  });
});
