import type { CanonicalRecord } from "@/server/ingest/parsers/canonical";
import { money } from "@/server/money";
import type { XeroObject } from "../xero-json";
import type { ResourceKey } from "./specs";

/**
 * Xero bank transactions and payments as canonical transactions (money in positive, out
 * negative). Both legs of a bank transfer come in as bank transactions (SPEND-TRANSFER and
 * RECEIVE-TRANSFER); /BankTransfers itself is only kept as Xero's record, so a transfer is never
 * counted twice. Voided and deleted records never land.
 */
const MONEY_IN_PAYMENTS = new Set(["ACCRECPAYMENT", "APCREDITPAYMENT", "ARPREPAYMENTPAYMENT", "AROVERPAYMENTPAYMENT"]);

export const LANDS_AS_CANONICAL: ReadonlySet<ResourceKey> = new Set(["bank_transactions", "payments"]);

const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : null);
const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as XeroObject) : {});

export function isLive(status: string | null): boolean {
  return status !== "DELETED" && status !== "VOIDED";
}

/** `currency` fills in for payments, which carry none of their own (the bank account's currency applies). */
export function canonicalOf(resource: ResourceKey, r: XeroObject, currency: string): CanonicalRecord | null {
  if (resource === "bank_transactions") {
    const type = String(r.Type ?? "");
    const total = money(String(r.Total ?? "0"));
    const amount = type.startsWith("SPEND") ? total.neg() : total;
    const lines = Array.isArray(r.LineItems) ? (r.LineItems as XeroObject[]) : [];
    return {
      externalId: String(r.BankTransactionID),
      bookedDate: String(r.Date).slice(0, 10),
      valueDate: null,
      amount: amount.toFixed(),
      currency: String(r.CurrencyCode ?? currency),
      counterpartyName: str(obj(r.Contact).Name),
      counterpartyAccount: null,
      reference: str(r.Reference),
      description: str(lines[0]?.Description) ?? str(obj(r.BankAccount).Name),
      bankTransactionCode: type,
      type: type.endsWith("TRANSFER") ? "transfer" : "payment",
      originalAmount: null,
      originalCurrency: null,
      statementIndex: null,
      raw: { xero: "BankTransaction", ...r },
    };
  }
  if (resource === "payments") {
    const type = String(r.PaymentType ?? "");
    const amt = money(String(r.Amount ?? "0"));
    const invoice = obj(r.Invoice);
    return {
      externalId: String(r.PaymentID),
      bookedDate: String(r.Date).slice(0, 10),
      valueDate: null,
      amount: (MONEY_IN_PAYMENTS.has(type) ? amt : amt.neg()).toFixed(),
      currency: String(r.CurrencyCode ?? invoice.CurrencyCode ?? currency),
      counterpartyName: str(obj(invoice.Contact).Name),
      counterpartyAccount: null,
      reference: str(r.Reference) ?? str(invoice.InvoiceNumber),
      description: str(invoice.InvoiceNumber) ? `Payment of ${invoice.InvoiceNumber}` : "Payment",
      bankTransactionCode: type,
      type: type === "ARCREDITPAYMENT" ? "refund" : "payment",
      originalAmount: null,
      originalCurrency: null,
      statementIndex: null,
      raw: { xero: "Payment", ...r },
    };
  }
  return null;
}
