/**
 * The Xero resources Tieout copies, in sync order, with how each one pages (research/xero.md §2.3):
 * page/pageSize for the big lists (always sent, or line items come back empty), one call for the
 * unpaged ones (Accounts, BankTransfers — re-read whole every sync, which also catches deleted
 * transfers and edits that do not move UpdatedDateUTC), and offset = JournalNumber for Journals.
 */
export const RESOURCE_KEYS = ["accounts", "contacts", "bank_transactions", "bank_transfers", "invoices", "credit_notes", "payments", "manual_journals", "journals"] as const;
export type ResourceKey = (typeof RESOURCE_KEYS)[number];

export type ResourceSpec = {
  key: ResourceKey;
  label: string;
  /** Path under /api.xro/2.0 and the envelope's collection key. */
  path: string;
  idField: string;
  paging: "page" | "none" | "offset";
  /** Extra query: archived contacts and deleted transfers are hidden without these flags. */
  query?: Record<string, string>;
  /** A 401 here is the tier, not the token: reported once and skipped. */
  optional?: boolean;
  /** Webhook categories that name this resource. */
  webhookCategory?: string;
};

export const RESOURCES: Record<ResourceKey, ResourceSpec> = {
  accounts: { key: "accounts", label: "Accounts", path: "Accounts", idField: "AccountID", paging: "none" },
  contacts: { key: "contacts", label: "Contacts", path: "Contacts", idField: "ContactID", paging: "page", query: { includeArchived: "true" }, webhookCategory: "CONTACT" },
  bank_transactions: { key: "bank_transactions", label: "Bank transactions", path: "BankTransactions", idField: "BankTransactionID", paging: "page" },
  bank_transfers: { key: "bank_transfers", label: "Bank transfers", path: "BankTransfers", idField: "BankTransferID", paging: "none", query: { includeDeleted: "true" } },
  invoices: { key: "invoices", label: "Invoices and bills", path: "Invoices", idField: "InvoiceID", paging: "page", webhookCategory: "INVOICE" },
  credit_notes: { key: "credit_notes", label: "Credit notes", path: "CreditNotes", idField: "CreditNoteID", paging: "page", webhookCategory: "CREDITNOTE" },
  payments: { key: "payments", label: "Payments", path: "Payments", idField: "PaymentID", paging: "page" },
  manual_journals: { key: "manual_journals", label: "Manual journals", path: "ManualJournals", idField: "ManualJournalID", paging: "page" },
  journals: { key: "journals", label: "Journals", path: "Journals", idField: "JournalID", paging: "offset", optional: true },
};

export function resourcesForWebhookCategories(categories: string[]): ResourceKey[] {
  const keys = RESOURCE_KEYS.filter((k) => RESOURCES[k].webhookCategory && categories.includes(RESOURCES[k].webhookCategory!));
  // An invoice event usually means money moved too: payments have no webhooks of their own.
  if (keys.includes("invoices") || keys.includes("credit_notes")) keys.push("payments");
  return [...new Set(keys)];
}
