import type { ResourceName, SimOrg, SimRecord } from "./seed";

/** Calendar dates (org-local days) are midnight UTC in /Date()/ with a +0000 offset. */
const DATE_FIELDS = ["Date", "DueDate", "JournalDate", "FullyPaidOnDate", "ExpectedPaymentDate", "PlannedPaymentDate"];
const PAGED: ReadonlySet<ResourceName> = new Set(["Invoices", "Contacts", "BankTransactions", "Payments", "ManualJournals", "CreditNotes"]);
const HAS_UPDATED: ReadonlySet<ResourceName> = new Set(["Accounts", "Contacts", "BankTransactions", "Invoices", "CreditNotes", "Payments", "ManualJournals"]);
const HAS_UPDATED_STRING: ReadonlySet<ResourceName> = new Set(["Invoices", "CreditNotes", "Payments"]);

export const isPaged = (r: ResourceName) => PAGED.has(r);
export const hasUpdatedDate = (r: ResourceName) => HAS_UPDATED.has(r);

export const msDate = (ms: number, offset = true) => `/Date(${ms}${offset ? "+0000" : ""})/`;

/** One record in Xero's JSON: /Date()/ dates, UpdatedDateUTC, and line items only when asked for in full. */
export function renderRecord(res: ResourceName, rec: SimRecord, full: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec.body)) {
    if (DATE_FIELDS.includes(k) && typeof v === "string") {
      out[k] = msDate(Date.parse(`${v}T00:00:00Z`));
    } else out[k] = v;
  }
  if (HAS_UPDATED.has(res)) out.UpdatedDateUTC = msDate(rec.updated);
  if (HAS_UPDATED_STRING.has(res)) out.UpdatedDateUTCString = new Date(rec.updated).toISOString().slice(0, 19) + "Z";
  if (res === "Journals" || res === "BankTransfers") out.CreatedDateUTC = msDate(rec.created);
  // Without `page`, Xero lists summaries: line items come back empty.
  if (!full && PAGED.has(res) && Array.isArray(out.LineItems)) out.LineItems = [];
  return out;
}

/** Xero escapes the slashes of /Date()/ in its JSON text ("\/Date(…)\/"); JSON.parse removes them. */
export function xeroJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\/Date\((-?\d+)([+-]\d{4})?\)\/"/g, (_m, ms, off) => `"\\/Date(${ms}${off ?? ""})\\/"`);
}

export function envelope(res: string, items: unknown[], now: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Id: crypto.randomUUID(), Status: "OK", ProviderName: "Tieout", DateTimeUTC: msDate(now, false), ...extra, [res]: items };
}

export function organisationOf(org: SimOrg) {
  return {
    OrganisationID: org.tenantId, APIKey: "", Name: org.name, LegalName: org.name, PaysTax: true, Version: org.baseCurrency === "GBP" ? "UK" : "GLOBAL",
    OrganisationType: "COMPANY", BaseCurrency: org.baseCurrency, CountryCode: org.baseCurrency === "GBP" ? "GB" : org.baseCurrency === "EUR" ? "DE" : "NZ",
    IsDemoCompany: false, OrganisationStatus: "ACTIVE", FinancialYearEndDay: 31, FinancialYearEndMonth: 3, SalesTaxBasis: "ACCRUALS", SalesTaxPeriod: "QUARTERLY1",
    DefaultSalesTax: "Tax Exclusive", DefaultPurchasesTax: "Tax Exclusive", Timezone: org.baseCurrency === "GBP" ? "GMTSTANDARDTIME" : "WEUROPESTANDARDTIME",
    OrganisationEntityType: "COMPANY", ShortCode: org.shortCode, Edition: "BUSINESS", Class: "STANDARD",
  };
}
