import { prng } from "@/server/prng";
import { seededUuid } from "./clock";

/**
 * The simulator's books: per organisation, every record of every resource the client reads, in
 * Xero's field names. Dates are kept as "YYYY-MM-DD" and timestamps as epoch ms; render.ts turns
 * them into Xero's /Date()/ form. Amounts are kept in cents and rendered as JSON numbers.
 */
export const RESOURCES = ["Accounts", "Contacts", "BankTransactions", "BankTransfers", "Invoices", "CreditNotes", "Payments", "ManualJournals", "Journals"] as const;
export type ResourceName = (typeof RESOURCES)[number];

export type SimRecord = {
  id: string;
  /** CreatedDateUTC (ms). */
  created: number;
  /** UpdatedDateUTC (ms); Journals and BankTransfers have none and use `created`. */
  updated: number;
  body: Record<string, unknown>;
};

export type SimOrg = {
  tenantId: string;
  name: string;
  shortCode: string;
  baseCurrency: string;
  /** Journals are premium (Advanced tier): below it GET /Journals answers 401 AuthorizationUnsuccessful. */
  journalsEntitled: boolean;
  records: Record<ResourceName, Map<string, SimRecord>>;
  nextJournalNumber: number;
  rnd: () => number;
};

export type OrgSpec = { name: string; baseCurrency?: string; journalsEntitled?: boolean; tenantId?: string };

const ACCOUNTS: [code: string, name: string, type: string, cls: string, bank?: boolean][] = [
  ["090", "Business Bank Account", "BANK", "ASSET", true],
  ["091", "Business Savings Account", "BANK", "ASSET", true],
  ["120", "Accounts Receivable", "CURRENT", "ASSET"],
  ["130", "Prepayments", "CURRENT", "ASSET"],
  ["140", "Inventory", "INVENTORY", "ASSET"],
  ["160", "Office Equipment", "FIXED", "ASSET"],
  ["200", "Sales", "REVENUE", "REVENUE"],
  ["260", "Other Revenue", "OTHERINCOME", "REVENUE"],
  ["270", "Interest Income", "OTHERINCOME", "REVENUE"],
  ["300", "Purchases", "DIRECTCOSTS", "EXPENSE"],
  ["310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE"],
  ["400", "Advertising", "OVERHEADS", "EXPENSE"],
  ["404", "Bank Fees", "OVERHEADS", "EXPENSE"],
  ["408", "Cleaning", "OVERHEADS", "EXPENSE"],
  ["412", "Consulting & Accounting", "OVERHEADS", "EXPENSE"],
  ["420", "Entertainment", "OVERHEADS", "EXPENSE"],
  ["429", "General Expenses", "OVERHEADS", "EXPENSE"],
  ["433", "Insurance", "OVERHEADS", "EXPENSE"],
  ["445", "Light, Power, Heating", "OVERHEADS", "EXPENSE"],
  ["453", "Office Expenses", "OVERHEADS", "EXPENSE"],
  ["469", "Rent", "OVERHEADS", "EXPENSE"],
  ["473", "Repairs and Maintenance", "OVERHEADS", "EXPENSE"],
  ["477", "Wages and Salaries", "OVERHEADS", "EXPENSE"],
  ["489", "Telephone & Internet", "OVERHEADS", "EXPENSE"],
  ["493", "Travel - National", "OVERHEADS", "EXPENSE"],
  ["610", "Accounts Receivable", "CURRENT", "ASSET"],
  ["800", "Accounts Payable", "CURRLIAB", "LIABILITY"],
  ["820", "Sales Tax", "CURRLIAB", "LIABILITY"],
  ["900", "Loan", "TERMLIAB", "LIABILITY"],
  ["970", "Owner A Funds Introduced", "EQUITY", "EQUITY"],
];

const FIRST = ["Kauri", "Harbour", "Totara", "Pohutukawa", "Matai", "Rimu", "Kowhai", "Manuka", "Nikau", "Tui", "Moana", "Awa", "Ridge", "Summit", "Coast", "Fern"];
const SECOND = ["Cafe", "Trading", "Logistics", "Design Studio", "Plumbing", "Electrical", "Consulting", "Bakery", "Print Shop", "Legal", "Freight", "Outfitters", "Books", "Analytics", "Florist", "Joinery"];
const SUFFIX = ["Ltd", "Limited", "& Co", "Group", "Partners", "", "Holdings"];

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * An organisation of about `size` records spread over every resource, with timestamps in the year
 * before `now`. Deterministic for a given seed. A block of 150 invoices shares one UpdatedDateUTC
 * second (a bulk import), which is what breaks naive If-Modified-Since paging.
 */
export function seedOrg(spec: OrgSpec, size: number, seed: number, now: number): SimOrg {
  const rnd = prng(seed);
  const uuid = () => seededUuid(rnd);
  const org: SimOrg = {
    tenantId: spec.tenantId ?? uuid(),
    name: spec.name,
    shortCode: `!${Math.floor(rnd() * 1e5).toString(36)}`,
    baseCurrency: spec.baseCurrency ?? "GBP",
    journalsEntitled: spec.journalsEntitled ?? false,
    records: Object.fromEntries(RESOURCES.map((r) => [r, new Map()])) as SimOrg["records"],
    nextJournalNumber: 1,
    rnd,
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const start = now - 365 * DAY;
  const at = () => start + Math.floor(rnd() * 360 * DAY);
  const put = (res: ResourceName, body: Record<string, unknown>, created: number, updated = created) => {
    const id = body[idField(res)] as string;
    org.records[res].set(id, { id, created, updated, body });
  };

  const accounts = ACCOUNTS.map(([code, name, type, cls, bank]) => {
    const id = uuid();
    put("Accounts", {
      AccountID: id, Code: code, Name: name, Type: type, Class: cls, Status: "ACTIVE", TaxType: bank ? "NONE" : "OUTPUT2",
      BankAccountType: bank ? "BANK" : "", ...(bank ? { BankAccountNumber: `12-3456-${String(Math.floor(rnd() * 1e7)).padStart(7, "0")}-00`, CurrencyCode: org.baseCurrency } : {}),
      EnablePaymentsToAccount: false, ShowInExpenseClaims: false, ReportingCode: cls.slice(0, 3), HasAttachments: false, AddToWatchlist: false,
    }, start - DAY);
    return { id, code, name, type };
  });
  const banks = accounts.filter((a) => a.type === "BANK");
  const revenue = accounts.filter((a) => a.code === "200" || a.code === "260");
  const expense = accounts.filter((a) => ["300", "400", "404", "412", "429", "453", "469", "489"].includes(a.code));

  const n = Math.max(50, size);
  const contacts: { id: string; name: string }[] = [];
  for (let i = 0; i < Math.round(n * 0.1); i++) {
    const id = uuid();
    const name = `${pick(FIRST)} ${pick(SECOND)} ${pick(SUFFIX)}`.trim() + (i >= FIRST.length * SECOND.length ? ` ${i}` : "");
    const t = at();
    const archived = rnd() < 0.05;
    put("Contacts", {
      ContactID: id, ContactNumber: `C${1000 + i}`, ContactStatus: archived ? "ARCHIVED" : "ACTIVE", Name: name,
      EmailAddress: `accounts@${name.toLowerCase().replace(/[^a-z]+/g, "")}.example`, IsSupplier: rnd() < 0.4, IsCustomer: rnd() < 0.7,
      DefaultCurrency: org.baseCurrency, Addresses: [], Phones: [], ContactGroups: [], HasAttachments: false,
    }, t, t + Math.floor(rnd() * 30 * DAY));
    contacts.push({ id, name });
  }
  const contactRef = () => {
    const c = pick(contacts);
    return { ContactID: c.id, Name: c.name };
  };

  const lines = (accts: typeof accounts, count: number) =>
    Array.from({ length: count }, () => {
      const a = pick(accts);
      const qty = 1 + Math.floor(rnd() * 5);
      const unit = 500 + Math.floor(rnd() * 200_000);
      return { LineItemID: uuid(), Description: `${a.name} ${Math.floor(rnd() * 900 + 100)}`, Quantity: qty, UnitAmount: unit / 100, AccountCode: a.code, AccountID: a.id, TaxType: "OUTPUT2", TaxAmount: Math.round(qty * unit * 0.15) / 100, LineAmount: (qty * unit) / 100, Tracking: [] };
    });
  const totals = (ls: { LineAmount: number; TaxAmount: number }[]) => {
    const sub = ls.reduce((s, l) => s + Math.round(l.LineAmount * 100), 0);
    const tax = ls.reduce((s, l) => s + Math.round(l.TaxAmount * 100), 0);
    return { SubTotal: sub / 100, TotalTax: tax / 100, Total: (sub + tax) / 100, cents: sub + tax };
  };

  // Invoices (and bills), a bulk-imported block of 150 sharing one second.
  const bulkSecond = Math.floor(at() / 1000) * 1000;
  const invoices: { id: string; number: string; type: string; cents: number; contact: { ContactID: string; Name: string }; status: string; date: string }[] = [];
  const invoiceCount = Math.round(n * 0.3);
  for (let i = 0; i < invoiceCount; i++) {
    const id = uuid();
    const type = rnd() < 0.6 ? "ACCREC" : "ACCPAY";
    const ls = lines(type === "ACCREC" ? revenue : expense, 1 + Math.floor(rnd() * 3));
    const tot = totals(ls);
    const t = i < 150 ? bulkSecond : at();
    const r = rnd();
    const status = r < 0.45 ? "PAID" : r < 0.85 ? "AUTHORISED" : r < 0.93 ? "DRAFT" : r < 0.97 ? "VOIDED" : "DELETED";
    const date = iso(t - Math.floor(rnd() * 5) * DAY);
    const contact = contactRef();
    const number = type === "ACCREC" ? `INV-${String(i + 1).padStart(5, "0")}` : `BILL-${Math.floor(rnd() * 1e5)}`;
    const paid = status === "PAID" ? tot.cents : 0;
    put("Invoices", {
      InvoiceID: id, Type: type, InvoiceNumber: number, Reference: type === "ACCREC" ? `PO ${Math.floor(rnd() * 9000 + 1000)}` : "", Contact: contact,
      Date: date, DueDate: iso(Date.parse(date) + 30 * DAY), Status: status, LineAmountTypes: "Exclusive", LineItems: ls,
      SubTotal: tot.SubTotal, TotalTax: tot.TotalTax, Total: tot.Total, TotalDiscount: 0, AmountDue: (tot.cents - paid) / 100, AmountPaid: paid / 100, AmountCredited: 0,
      CurrencyCode: org.baseCurrency, CurrencyRate: 1, IsDiscounted: false, HasAttachments: false, HasErrors: false, SentToContact: rnd() < 0.5,
      Payments: [], CreditNotes: [], Prepayments: [], Overpayments: [],
    }, t, i < 150 ? bulkSecond + 400 : t + Math.floor(rnd() * 3 * DAY));
    invoices.push({ id, number, type, cents: tot.cents, contact, status, date });
  }

  for (let i = 0; i < Math.round(n * 0.03); i++) {
    const id = uuid();
    const type = rnd() < 0.6 ? "ACCRECCREDIT" : "ACCPAYCREDIT";
    const ls = lines(type === "ACCRECCREDIT" ? revenue : expense, 1);
    const tot = totals(ls);
    const t = at();
    put("CreditNotes", {
      CreditNoteID: id, CreditNoteNumber: `CN-${String(i + 1).padStart(4, "0")}`, Type: type, Contact: contactRef(), Date: iso(t), Status: rnd() < 0.9 ? "AUTHORISED" : "VOIDED",
      LineAmountTypes: "Exclusive", LineItems: ls, SubTotal: tot.SubTotal, TotalTax: tot.TotalTax, Total: tot.Total, RemainingCredit: tot.Total,
      CurrencyCode: org.baseCurrency, CurrencyRate: 1, HasAttachments: false, Allocations: [], Payments: [],
    }, t, t + Math.floor(rnd() * DAY));
  }

  for (const inv of invoices.filter((x) => x.status === "PAID")) {
    const id = uuid();
    const t = Date.parse(inv.date) + Math.floor(rnd() * 20 * DAY) + 3_600_000;
    const bank = pick(banks);
    put("Payments", {
      PaymentID: id, Date: iso(t), Amount: inv.cents / 100, BankAmount: inv.cents / 100, CurrencyRate: 1, Reference: `${inv.number} remit`, IsReconciled: rnd() < 0.7,
      Status: "AUTHORISED", PaymentType: inv.type === "ACCREC" ? "ACCRECPAYMENT" : "ACCPAYPAYMENT", HasAccount: true, HasValidationErrors: false,
      Account: { AccountID: bank.id, Code: bank.code }, Invoice: { InvoiceID: inv.id, InvoiceNumber: inv.number, Type: inv.type, Contact: inv.contact },
    }, t, t + Math.floor(rnd() * 600_000));
  }

  for (let i = 0; i < Math.round(n * 0.25); i++) {
    const id = uuid();
    const receive = rnd() < 0.4;
    const ls = lines(receive ? revenue : expense, 1 + Math.floor(rnd() * 2));
    const tot = totals(ls);
    const t = at();
    const bank = pick(banks);
    put("BankTransactions", {
      BankTransactionID: id, Type: receive ? "RECEIVE" : "SPEND", Contact: contactRef(), BankAccount: { AccountID: bank.id, Code: bank.code, Name: bank.name },
      Date: iso(t), Reference: receive ? `Deposit ${Math.floor(rnd() * 1e4)}` : `Card ${Math.floor(rnd() * 1e4)}`, IsReconciled: rnd() < 0.8, CurrencyCode: org.baseCurrency, CurrencyRate: 1,
      Status: rnd() < 0.97 ? "AUTHORISED" : "DELETED", LineAmountTypes: "Exclusive", LineItems: ls, SubTotal: tot.SubTotal, TotalTax: tot.TotalTax, Total: tot.Total, HasAttachments: false,
    }, t, t + Math.floor(rnd() * 2 * DAY));
  }

  // Transfers, each mirrored as a SPEND-TRANSFER and a RECEIVE-TRANSFER bank transaction.
  for (let i = 0; i < Math.round(n * 0.02); i++) {
    const [from, to] = rnd() < 0.5 ? [banks[0], banks[1]] : [banks[1], banks[0]];
    const cents = 10_000 + Math.floor(rnd() * 500_000);
    const t = at();
    const [id, fromTx, toTx] = [uuid(), uuid(), uuid()];
    put("BankTransfers", {
      BankTransferID: id, FromBankAccount: { AccountID: from.id, Code: from.code, Name: from.name }, ToBankAccount: { AccountID: to.id, Code: to.code, Name: to.name },
      Amount: cents / 100, Date: iso(t), CurrencyRate: 1, FromBankTransactionID: fromTx, ToBankTransactionID: toTx, FromIsReconciled: true, ToIsReconciled: true,
      Reference: `Sweep ${i + 1}`, HasAttachments: false, Status: "AUTHORISED",
    }, t);
    for (const [txId, type, acct] of [[fromTx, "SPEND-TRANSFER", from], [toTx, "RECEIVE-TRANSFER", to]] as const) {
      put("BankTransactions", {
        BankTransactionID: txId, Type: type, BankAccount: { AccountID: acct.id, Code: acct.code, Name: acct.name }, Date: iso(t), Reference: `Sweep ${i + 1}`,
        IsReconciled: true, CurrencyCode: org.baseCurrency, CurrencyRate: 1, Status: "AUTHORISED", LineAmountTypes: "NoTax",
        LineItems: [{ LineItemID: uuid(), Description: "Transfer", Quantity: 1, UnitAmount: cents / 100, LineAmount: cents / 100, AccountCode: acct.code, AccountID: acct.id, TaxType: "NONE", TaxAmount: 0, Tracking: [] }],
        SubTotal: cents / 100, TotalTax: 0, Total: cents / 100, HasAttachments: false,
      }, t);
    }
  }

  for (let i = 0; i < Math.round(n * 0.02); i++) {
    const id = uuid();
    const t = at();
    const cents = 1000 + Math.floor(rnd() * 300_000);
    const [dr, cr] = [pick(expense), pick(accounts.filter((a) => a.type === "CURRLIAB" || a.type === "EQUITY"))];
    put("ManualJournals", {
      ManualJournalID: id, Narration: `Accrual ${i + 1}`, Date: iso(t), Status: rnd() < 0.9 ? "POSTED" : "VOIDED", LineAmountTypes: "NoTax", ShowOnCashBasisReports: true, HasAttachments: false,
      JournalLines: [
        { LineAmount: cents / 100, AccountCode: dr.code, AccountID: dr.id, Description: "Accrual", TaxType: "NONE", TaxAmount: 0, Tracking: [] },
        { LineAmount: -cents / 100, AccountCode: cr.code, AccountID: cr.id, Description: "Accrual", TaxType: "NONE", TaxAmount: 0, Tracking: [] },
      ],
    }, t, t + Math.floor(rnd() * DAY));
  }

  if (org.journalsEntitled) {
    const posted = [
      ...[...org.records.Invoices.values()].filter((r) => r.body.Status === "AUTHORISED" || r.body.Status === "PAID"),
      ...org.records.Payments.values(),
      ...[...org.records.BankTransactions.values()].filter((r) => r.body.Status === "AUTHORISED"),
    ].sort((a, b) => a.created - b.created);
    for (const r of posted) postJournal(org, r, r.created, 1);
  }
  return org;
}

export function idField(res: ResourceName): string {
  return res === "Accounts" ? "AccountID" : res === "Contacts" ? "ContactID" : res === "Journals" ? "JournalID" : `${res.slice(0, -1)}ID`;
}

/** Xero posts a journal for each posted transaction (and a reversal plus a new one for an edit). */
function postJournal(org: SimOrg, source: SimRecord, at: number, sign: 1 | -1) {
  const b = source.body;
  const total = Number(b.Total ?? b.Amount ?? 0) * sign;
  const cents = Math.round(total * 100);
  const type = String(b.Type ?? b.PaymentType ?? "");
  const sourceType = type === "ACCREC" || type === "ACCPAY" ? type : type === "RECEIVE" ? "CASHREC" : type === "SPEND" ? "CASHPAID" : type.endsWith("TRANSFER") ? "TRANSFER" : type || "MANJOURNAL";
  const id = seededUuid(org.rnd);
  const accounts = [...org.records.Accounts.values()];
  const [a, c] = [accounts[0], accounts[Math.floor(org.rnd() * accounts.length)]];
  org.records.Journals.set(id, {
    id, created: at, updated: at,
    body: {
      JournalID: id, JournalNumber: org.nextJournalNumber++, JournalDate: b.Date ?? new Date(at).toISOString().slice(0, 10), Reference: String(b.Reference ?? b.InvoiceNumber ?? ""),
      SourceID: source.id, SourceType: sourceType,
      JournalLines: [
        { JournalLineID: seededUuid(org.rnd), AccountID: a.id, AccountCode: a.body.Code, AccountType: a.body.Type, AccountName: a.body.Name, Description: "", NetAmount: cents / 100, GrossAmount: cents / 100, TaxAmount: 0, TrackingCategories: [] },
        { JournalLineID: seededUuid(org.rnd), AccountID: c.id, AccountCode: c.body.Code, AccountType: c.body.Type, AccountName: c.body.Name, Description: "", NetAmount: -cents / 100, GrossAmount: -cents / 100, TaxAmount: 0, TrackingCategories: [] },
      ],
    },
  });
}

export type MutationSummary = { created: Partial<Record<ResourceName, string[]>>; updated: Partial<Record<ResourceName, string[]>>; voided: Partial<Record<ResourceName, string[]>> };

/**
 * Changes between syncs, the way people change books: edits that move UpdatedDateUTC (and post a
 * reversal and a new journal), voided invoices, deleted bank transactions, new invoices and bank
 * transactions. Returns the ids touched so tests can check each arrives with the next sync.
 */
export function mutateOrg(org: SimOrg, now: number, opts: { edits?: number; creates?: number; voids?: number } = {}): MutationSummary {
  const rnd = org.rnd;
  const out: MutationSummary = { created: {}, updated: {}, voided: {} };
  const note = (kind: keyof MutationSummary, res: ResourceName, id: string) => (out[kind][res] ??= []).push(id);
  const pickFrom = (res: ResourceName, ok: (r: SimRecord) => boolean) => {
    const xs = [...org.records[res].values()].filter(ok);
    return xs.length ? xs[Math.floor(rnd() * xs.length)] : undefined;
  };
  for (let i = 0; i < (opts.edits ?? 5); i++) {
    const res = (["Invoices", "BankTransactions", "Contacts", "Payments"] as const)[i % 4];
    const r = pickFrom(res, (x) => !["VOIDED", "DELETED"].includes(String(x.body.Status)) && !out.updated[res]?.includes(x.id));
    if (!r) continue;
    if (res === "Contacts") r.body.EmailAddress = `ap${i}@changed.example`;
    else r.body.Reference = `${String(r.body.Reference ?? "").slice(0, 40)} (edited)`;
    if (org.journalsEntitled && res !== "Contacts") {
      postJournal(org, r, now, -1);
      postJournal(org, r, now, 1);
    }
    r.updated = now;
    note("updated", res, r.id);
  }
  for (let i = 0; i < (opts.voids ?? 2); i++) {
    const inv = pickFrom("Invoices", (x) => x.body.Status === "AUTHORISED");
    if (inv) {
      inv.body.Status = "VOIDED";
      inv.body.AmountDue = 0;
      inv.updated = now;
      note("voided", "Invoices", inv.id);
    }
    const bt = pickFrom("BankTransactions", (x) => x.body.Status === "AUTHORISED" && x.body.Type === "SPEND");
    if (bt) {
      bt.body.Status = "DELETED";
      bt.updated = now;
      note("voided", "BankTransactions", bt.id);
    }
  }
  const contacts = [...org.records.Contacts.values()];
  const banks = [...org.records.Accounts.values()].filter((a) => a.body.Type === "BANK");
  for (let i = 0; i < (opts.creates ?? 3); i++) {
    const c = contacts[Math.floor(rnd() * contacts.length)];
    const cents = 1000 + Math.floor(rnd() * 90_000);
    const invId = seededUuid(rnd);
    const date = new Date(now).toISOString().slice(0, 10);
    const line = { LineItemID: seededUuid(rnd), Description: "New work", Quantity: 1, UnitAmount: cents / 100, AccountCode: "200", TaxType: "NONE", TaxAmount: 0, LineAmount: cents / 100, Tracking: [] };
    org.records.Invoices.set(invId, {
      id: invId, created: now, updated: now,
      body: {
        InvoiceID: invId, Type: "ACCREC", InvoiceNumber: `INV-N${Math.floor(rnd() * 1e6)}`, Reference: "", Contact: { ContactID: c.id, Name: c.body.Name }, Date: date, DueDate: date,
        Status: "AUTHORISED", LineAmountTypes: "NoTax", LineItems: [line], SubTotal: cents / 100, TotalTax: 0, Total: cents / 100, TotalDiscount: 0, AmountDue: cents / 100,
        AmountPaid: 0, AmountCredited: 0, CurrencyCode: org.baseCurrency, CurrencyRate: 1, IsDiscounted: false, HasAttachments: false, HasErrors: false, SentToContact: false,
        Payments: [], CreditNotes: [], Prepayments: [], Overpayments: [],
      },
    });
    note("created", "Invoices", invId);
    const btId = seededUuid(rnd);
    const bank = banks[0];
    org.records.BankTransactions.set(btId, {
      id: btId, created: now, updated: now,
      body: {
        BankTransactionID: btId, Type: "RECEIVE", Contact: { ContactID: c.id, Name: c.body.Name }, BankAccount: { AccountID: bank.id, Code: bank.body.Code, Name: bank.body.Name },
        Date: date, Reference: `New deposit ${i + 1}`, IsReconciled: false, CurrencyCode: org.baseCurrency, CurrencyRate: 1, Status: "AUTHORISED", LineAmountTypes: "NoTax",
        LineItems: [{ ...line, LineItemID: seededUuid(rnd) }], SubTotal: cents / 100, TotalTax: 0, Total: cents / 100, HasAttachments: false,
      },
    });
    note("created", "BankTransactions", btId);
    if (org.journalsEntitled) {
      postJournal(org, org.records.Invoices.get(invId)!, now, 1);
      postJournal(org, org.records.BankTransactions.get(btId)!, now, 1);
    }
  }
  return out;
}

/** How many records of each resource a complete sync should hold (what the client can see). */
export function expectedCounts(org: SimOrg): Record<ResourceName, number> {
  return Object.fromEntries(RESOURCES.map((r) => [r, org.records[r].size])) as Record<ResourceName, number>;
}
