import { sql } from "drizzle-orm";
import bcrypt from "bcryptjs";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { money } from "@/server/money";
import { systemCtx, type Role } from "@/server/tenancy/context";
import { postJournalEntries, type PostingInput } from "@/server/ledger/post-journal-entries";
import { prng } from "@/server/prng";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { runMatching } from "@/server/matching/run-matching";
import { takeMatchingBacklog } from "@/server/matching/backlog";
import { demoBankStatements, type LedgerBankLine } from "./demo-bank-statements";

export const DEMO_PASSWORD = "tieout-demo";
export const DEMO_USERS: { email: string; name: string; role: Role }[] = [
  { email: "admin@demo.tieout.dev", name: "Ada Admin", role: "admin" },
  { email: "accountant@demo.tieout.dev", name: "Amir Accountant", role: "accountant" },
  { email: "approver@demo.tieout.dev", name: "Priya Approver", role: "approver" },
  // Two approvers: adjustments from 10,000 need two distinct ones (four-eyes tiers).
  { email: "approver2@demo.tieout.dev", name: "Omar Approver", role: "approver" },
  { email: "viewer@demo.tieout.dev", name: "Victor Viewer", role: "viewer" },
];
export const DEMO_ORG = "Tieout Demo Group";
export const OTHER_ORG = "Harbour Analytics";

type AccountSpec = [code: string, name: string, type: "asset" | "liability" | "equity" | "income" | "expense", control?: boolean];
const CHART: AccountSpec[] = [
  ["1000", "Bank — operating account", "asset"],
  ["1010", "Stripe clearing", "asset", true],
  ["1100", "Accounts receivable", "asset", true],
  ["1200", "Input VAT", "asset"],
  ["1500", "Office equipment", "asset"],
  ["1510", "Accumulated depreciation", "asset"],
  ["2000", "Accounts payable", "liability", true],
  ["2100", "Output VAT", "liability"],
  ["2200", "Payroll liabilities", "liability"],
  ["2300", "Accrued expenses", "liability"],
  ["3000", "Share capital", "equity"],
  ["3100", "Retained earnings", "equity"],
  ["4000", "Subscription revenue", "income"],
  ["4100", "Professional services revenue", "income"],
  ["4900", "Interest income", "income"],
  ["5000", "Hosting and infrastructure", "expense"],
  ["6000", "Salaries", "expense"],
  ["6010", "Employer social security", "expense"],
  ["6100", "Rent", "expense"],
  ["6200", "Software subscriptions", "expense"],
  ["6300", "Travel", "expense"],
  ["6800", "Bank fees", "expense"],
];

/** An amount in whole cents drawn between lo and hi, as a decimal string (no float arithmetic on money). */
function cents(rand: () => number, lo: number, hi: number): string {
  const c = lo * 100 + Math.floor(rand() * (hi - lo) * 100);
  return money(String(c)).dividedBy(100).toFixed(2);
}

export async function isSeeded(adminDb: Db): Promise<boolean> {
  const rows = await adminDb.execute(sql`select 1 from organisations limit 1`);
  return rows.length > 0;
}

/**
 * Creates the demo: two organisations (the second shows tenant isolation and the switcher), a
 * EUR and a GBP entity with a realistic chart, monthly periods, three months of balanced entries
 * posted through the posting service, and one user per role. Runs as the app role with
 * organisation context, like any other writer.
 */
export async function seedDemo(db: Db, opts: { today?: string } = {}): Promise<void> {
  const hash = await bcrypt.hash(DEMO_PASSWORD, 10);
  const userIds: Record<string, string> = {};
  for (const u of DEMO_USERS) {
    const [row] = await db.execute<{ id: string }>(sql`insert into users (email, name, password_hash) values (${u.email}, ${u.name}, ${hash}) returning id`);
    userIds[u.email] = row.id;
  }
  const [other] = await db.execute<{ id: string }>(sql`insert into users (email, name, password_hash) values ('owner@harbour.example', 'Hana Harbour', ${hash}) returning id`);

  const today = opts.today ?? new Date().toISOString().slice(0, 10);
  const demoOrg = await createOrg(db, DEMO_ORG, [
    { name: "Tieout Demo GmbH", currency: "EUR", tz: "Europe/Berlin" },
    { name: "Tieout Demo Ltd", currency: "GBP", tz: "Europe/London" },
  ], today);
  for (const u of DEMO_USERS) await addMember(db, demoOrg.orgId, userIds[u.email], u.role);
  const otherOrg = await createOrg(db, OTHER_ORG, [{ name: "Harbour Analytics Ltd", currency: "GBP", tz: "Europe/London" }], today);
  await addMember(db, otherOrg.orgId, other.id, "admin");
  // The demo admin also belongs to the second organisation, to show switching.
  await addMember(db, otherOrg.orgId, userIds["admin@demo.tieout.dev"], "admin");

  const books = [];
  for (const [i, e] of demoOrg.entities.entries()) books.push(await postDemoBooks(db, demoOrg.orgId, e, today, 1000 + i, 18, { splitDeposit: i === 0 }));
  await postDemoBooks(db, otherOrg.orgId, otherOrg.entities[0], today, 77, 8);
  await importDemoBankStatements(db, demoOrg.orgId, demoOrg.entities[0], books[0], today);
  await setDemoWriteOffAccount(db, demoOrg.orgId, demoOrg.entities[0]);
}

/**
 * The demo group writes off to the GmbH's Bank fees, the account its bank charges already go to,
 * so an accountant can write off the bank's charges and interest (alone or in bulk) out of the box.
 * Set as the seed, like the rest of the policy's defaults; a change afterwards goes through approval.
 */
async function setDemoWriteOffAccount(db: Db, orgId: string, entity: SeededEntity) {
  const ctx = systemCtx(orgId, "seed");
  const writeOffAccountId = entity.accounts.get("6800")!;
  await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`update exception_policies set write_off_account_id = ${writeOffAccountId} where org_id = ${orgId}`);
    await appendAudit(tx, ctx, [{ action: "exception_policy.seeded", entityType: "exception_policy", entityId: orgId, data: { writeOffAccountId } }]);
  });
}

/**
 * The EUR entity's operating account as a bank source with its three monthly CAMT.053 statements,
 * imported through the same path as an upload, so matching has real differences to work on.
 */
async function importDemoBankStatements(db: Db, orgId: string, entity: SeededEntity, books: DemoBooks, today: string) {
  const ctx = systemCtx(orgId, "seed");
  const iban = "DE89370400440532013000";
  const { id: sourceId } = await createSource(db, ctx, {
    kind: "bank", name: "Operating account (Deutsche Bank)", entityId: entity.id, currency: entity.currency, accountNumber: iban, glAccountId: entity.accounts.get("1000")!,
  });
  for (const file of demoBankStatements(books.bankLines, { iban, currency: entity.currency, months: books.months, seed: 4242 })) {
    await importFile(db, ctx, { sourceId, fileName: file.fileName, bytes: file.bytes, format: "camt" }, { maxBytes: 10 * 1024 * 1024, maxRecords: 10_000 });
  }
  // The morning after: last night's run has matched what it could, so the demo opens on matches,
  // suggestions and an exceptions queue that needs a person (and the overview and KPIs have data).
  const lastDay = new Date(Date.UTC(Number(books.months[2].slice(0, 4)), Number(books.months[2].slice(5)), 0)).toISOString().slice(0, 10);
  const nightly = systemCtx(orgId, "nightly-matching");
  await runMatching(db, nightly, { sourceId, against: { kind: "ledger" }, from: `${books.months[0]}-01`, to: lastDay, trigger: "schedule" }, { today });
  // That run covered every date the imports brought: their backlog is done, so the first start
  // does not reconcile the same lines again (which would replace the run's suggestions).
  await inOrg(db, nightly, (tx) => takeMatchingBacklog(tx, orgId, sourceId));
}

type DemoBooks = { months: string[]; bankLines: LedgerBankLine[] };

type SeededEntity = { id: string; currency: string; accounts: Map<string, string> };

async function createOrg(db: Db, name: string, entities: { name: string; currency: string; tz: string }[], today: string) {
  const [org] = await db.execute<{ id: string }>(sql`select gen_random_uuid() as id`);
  const ctx = systemCtx(org.id, "seed");
  const seeded: SeededEntity[] = [];
  await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`insert into organisations (id, name) values (${org.id}, ${name})`);
    const year = Number(today.slice(0, 4));
    for (const e of entities) {
      const [row] = await tx.execute<{ id: string }>(sql`insert into entities (org_id, name, functional_currency, time_zone) values (${org.id}, ${e.name}, ${e.currency}, ${e.tz}) returning id`);
      const accounts = new Map<string, string>();
      for (const [code, accName, type, control] of CHART) {
        const normal = type === "asset" || type === "expense" ? "debit" : "credit";
        const [a] = await tx.execute<{ id: string }>(sql`
          insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency, is_control)
          values (${org.id}, ${row.id}, ${code}, ${accName}, ${type}, ${normal}, ${e.currency}, ${control ?? false}) returning id`);
        accounts.set(code, a.id);
      }
      for (let y = year - 1; y <= year + 1; y++) {
        for (let m = 1; m <= 12; m++) {
          const start = `${y}-${String(m).padStart(2, "0")}-01`;
          await tx.execute(sql`
            insert into fiscal_periods (org_id, entity_id, name, starts_on, ends_on)
            values (${org.id}, ${row.id}, ${start.slice(0, 7)}, ${start}, (${start}::date + interval '1 month' - interval '1 day')::date)`);
        }
      }
      seeded.push({ id: row.id, currency: e.currency, accounts });
    }
    await appendAudit(tx, ctx, [{ action: "organisation.created", entityType: "organisation", entityId: org.id, data: { name, entities: entities.map((e) => e.name) } }]);
  });
  return { orgId: org.id, entities: seeded };
}

async function addMember(db: Db, orgId: string, userId: string, role: Role) {
  const ctx = systemCtx(orgId, "seed");
  await inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`insert into memberships (org_id, user_id, role) values (${orgId}, ${userId}, ${role})`);
    await appendAudit(tx, ctx, [{ action: "membership.created", entityType: "membership", entityId: userId, data: { role } }]);
  });
}

/** Three months of trading ending last month: capital, sales and receipts, purchases and payments, rent, payroll, bank fees. */
async function postDemoBooks(db: Db, orgId: string, entity: SeededEntity, today: string, seed: number, salesPerMonth = 18, opts: { splitDeposit?: boolean } = {}): Promise<DemoBooks> {
  const rand = prng(seed);
  const a = (code: string) => entity.accounts.get(code)!;
  const entries: PostingInput[] = [];
  let n = 0;
  const post = (date: string, description: string, lines: [string, string][], counterparty?: string, reference?: string) => {
    n += 1;
    entries.push({
      entityId: entity.id, entryDate: date, description, idempotencyKey: `demo:${entity.id}:${n}`, source: "demo",
      lines: lines.map(([code, amount]) => ({ accountId: a(code), amount, counterparty, reference })),
    });
  };
  const neg = (s: string) => money(s).neg().toFixed(2);
  const vat = (s: string) => money(s).times("0.2").toDecimalPlaces(2).toFixed(2);
  const plus = (x: string, y: string) => money(x).plus(y).toFixed(2);
  const t = new Date(`${today.slice(0, 7)}-01T00:00:00Z`);
  const months = [3, 2, 1].map((back) => {
    const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - back, 1));
    return d.toISOString().slice(0, 7);
  });
  const day = (month: string, d: number) => `${month}-${String(d).padStart(2, "0")}`;
  const customers = ["Acme Retail", "Blue Fjord AS", "Cobalt Health", "Delta Freight", "Evergreen Foods", "Fable Games", "Granite Legal"];
  const suppliers: [string, string][] = [["Hetzner Online", "5000"], ["Atlassian", "6200"], ["Figma", "6200"], ["Lufthansa", "6300"], ["AWS EMEA", "5000"]];

  post(day(months[0], 1), "Share capital paid in", [["1000", "250000.00"], ["3000", "-250000.00"]], "Founders", "CAP-1");
  let invoice = 1;
  for (const month of months) {
    post(day(month, 1), `Office rent ${month}`, [["6100", "4200.00"], ["1000", "-4200.00"]], "Landlord Properties", `RENT-${month}`);
    for (let i = 0; i < salesPerMonth; i++) {
      const net = cents(rand, 400, 9000);
      const gross = plus(net, vat(net));
      const customer = customers[Math.floor(rand() * customers.length)];
      const ref = `INV-${month.replace("-", "")}-${String(invoice++).padStart(4, "0")}`;
      const d = 2 + Math.floor(rand() * 24);
      post(day(month, d), `Invoice ${ref} to ${customer}`, [["1100", gross], [rand() < 0.7 ? "4000" : "4100", neg(net)], ["2100", neg(vat(net))]], customer, ref);
      if (rand() < 0.8) post(day(month, Math.min(d + 2 + Math.floor(rand() * 3), 28)), `Receipt from ${customer} for ${ref}`, [["1000", gross], ["1100", neg(gross)]], customer, ref);
    }
    for (const [supplier, code] of suppliers) {
      const net = cents(rand, 80, 2500);
      const gross = plus(net, vat(net));
      const ref = `BILL-${month.replace("-", "")}-${supplier.slice(0, 3).toUpperCase()}`;
      const d = 3 + Math.floor(rand() * 20);
      post(day(month, d), `Bill ${ref} from ${supplier}`, [[code, net], ["1200", vat(net)], ["2000", neg(gross)]], supplier, ref);
      post(day(month, Math.min(d + 5, 28)), `Payment to ${supplier} for ${ref}`, [["2000", gross], ["1000", neg(gross)]], supplier, ref);
    }
    const salaries = cents(rand, 38000, 42000);
    const social = money(salaries).times("0.19").toDecimalPlaces(2).toFixed(2);
    const payroll = plus(salaries, social);
    post(day(month, 25), `Payroll ${month}`, [["6000", salaries], ["6010", social], ["2200", neg(payroll)]], "Payroll", `PAY-${month}`);
    post(day(month, 27), `Payroll payment ${month}`, [["2200", payroll], ["1000", neg(payroll)]], "Payroll", `PAY-${month}`);
    const fees = cents(rand, 18, 65);
    post(day(month, 28), `Bank fees ${month}`, [["6800", fees], ["1000", neg(fees)]], "Bank", `FEES-${month}`);
  }
  const bank = a("1000");
  const bankLines = entries.flatMap((e) =>
    e.lines.filter((l) => l.accountId === bank).map((l) => ({ date: e.entryDate, amount: l.amount, counterparty: l.counterparty ?? "", reference: l.reference ?? "", description: e.description })),
  );
  if (opts.splitDeposit) {
    // The ledger booked Nordlicht's project deposit as two instalments early in the month
    // before the bank received it in one transfer (demo-bank-statements.ts: 1,180.00 on the 19th):
    // a many-to-one match for a person to make, further apart than the engine's date window.
    const previous = months[months.length - 2];
    post(day(previous, 3), "Deposit NL-7 from Nordlicht Design, instalment 1 of 2", [["1000", "700.00"], ["1100", "-700.00"]], "Nordlicht Design GmbH", "NL-7/1");
    post(day(previous, 4), "Deposit NL-7 from Nordlicht Design, instalment 2 of 2", [["1000", "480.00"], ["1100", "-480.00"]], "Nordlicht Design GmbH", "NL-7/2");
  }
  await postJournalEntries(db, systemCtx(orgId, "seed"), entries);
  return { months, bankLines };
}
