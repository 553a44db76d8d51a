import type { Db } from "@/server/db/client";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { postJournalEntries, type PostingInput } from "@/server/ledger/post-journal-entries";
import type { TestOrg } from "./fixtures";

// A month of a small company's bank account, as the ledger has it and as the bank reports it.
// Nothing here imports vitest.

type LedgerLine = { date: string; amount: string; counterparty: string; reference: string; description: string; other: string };

/** The ledger's cash movements on account 1000 in March 2026 (other = the contra account's code). */
export const LEDGER: LedgerLine[] = [
  { date: "2026-03-02", amount: "1200.00", counterparty: "Acme Retail", reference: "INV-1001", description: "Receipt INV-1001", other: "1100" },
  { date: "2026-03-03", amount: "530.40", counterparty: "Blue Fjord AS", reference: "INV-1002", description: "Receipt INV-1002", other: "1100" },
  { date: "2026-03-05", amount: "-89.90", counterparty: "Hetzner Online", reference: "BILL-77", description: "Payment BILL-77", other: "2000" },
  { date: "2026-03-09", amount: "2400.00", counterparty: "Cobalt Health", reference: "INV-1003", description: "Receipt INV-1003", other: "1100" },
  { date: "2026-03-10", amount: "-312.55", counterparty: "AWS EMEA", reference: "BILL-78", description: "Payment BILL-78", other: "2000" },
  { date: "2026-03-16", amount: "980.00", counterparty: "Delta Freight", reference: "INV-1004", description: "Receipt INV-1004", other: "1100" },
  { date: "2026-03-20", amount: "-4200.00", counterparty: "Landlord Properties", reference: "RENT-03", description: "Office rent March", other: "6000" },
  { date: "2026-03-24", amount: "-45.00", counterparty: "Figma", reference: "BILL-79", description: "Payment BILL-79", other: "2000" },
  { date: "2026-03-24", amount: "-760.00", counterparty: "Granite Legal", reference: "BILL-80", description: "Payment BILL-80", other: "2000" },
];

/** The bank's statement: the same movements a day or so later, names upper-cased, one short by a charge, plus lines only the bank knows. */
export const BANK_CSV = [
  "Date,Amount,Counterparty,Reference,Description",
  "2026-03-03,1200.00,ACME RETAIL,INV-1001,Credit transfer",
  "2026-03-04,530.40,BLUE FJORD AS,INV-1002,Credit transfer",
  "2026-03-05,-89.90,HETZNER ONLINE,BILL-77,Debit transfer",
  "2026-03-10,2400.00,COBALT HEALTH,INV-1003,Credit transfer",
  "2026-03-11,-312.55,AWS EMEA,BILL-78,Debit transfer",
  "2026-03-17,978.50,DELTA FREIGHT,,inv-1004 thank you",
  "2026-03-20,-4200.00,LANDLORD PROPERTIES,RENT-03,Standing order",
  "2026-03-25,-45.00,FIGMA,,Card payment",
  "2026-03-16,-23.10,DEUTSCHE BANK AG,,CARD FEES 2026-03",
  "2026-03-19,11800.00,NORDLICHT DESIGN GMBH,,ADVANCE PAYMENT PROJECT NL-7",
  "2026-03-27,-760.00,GRANITE LEGAL,,Debit transfer",
].join("\n");

export type ReconciliationFixture = { sourceId: string; importId: string; ledgerEntryIds: string[] };

/** Posts LEDGER, creates a bank source on account 1000 and imports BANK_CSV through the real import path. */
export async function seedReconciliation(db: Db, org: TestOrg, opts: { name?: string } = {}): Promise<ReconciliationFixture> {
  const posting: PostingInput[] = LEDGER.map((l, i) => ({
    entityId: org.entityId, entryDate: l.date, description: l.description, idempotencyKey: `match-fixture:${opts.name ?? "bank"}:${i}`,
    lines: [
      { accountId: org.accounts["1000"], amount: l.amount, counterparty: l.counterparty, reference: l.reference },
      { accountId: org.accounts[l.other], amount: l.amount.startsWith("-") ? l.amount.slice(1) : `-${l.amount}`, counterparty: l.counterparty, reference: l.reference },
    ],
  }));
  const posted = await postJournalEntries(db, org.ctx.accountant, posting);
  const { id: sourceId } = await createSource(db, org.ctx.accountant, { kind: "bank", name: opts.name ?? "Operating account", entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] });
  const summary = await importFile(db, org.ctx.accountant, { sourceId, fileName: "march.csv", bytes: Buffer.from(BANK_CSV), format: "csv" }, { maxBytes: 1 << 20, maxRecords: 1000 });
  if (summary.newCount !== 11) throw new Error(`fixture import: ${JSON.stringify(summary)}`);
  return { sourceId, importId: summary.importId, ledgerEntryIds: posted.map((p) => p.entryId) };
}
