import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { importFile } from "@/server/ingest/import-file";
import { createSource } from "@/server/ingest/sources";
import { postJournalEntries } from "@/server/ledger/post-journal-entries";
import { runMatching } from "@/server/matching/run-matching";
import { money, sum } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { reconciliationOverview, sourceReconciliation, type SourceReconciliation } from "./overview";
import { reconcilingItems, type ReconcilingItem } from "./reconciling-items";

const t = await testDatabase({ max: 6 });
afterAll(() => t.close());

const LIMITS = { maxBytes: 1 << 20, maxRecords: 1000 };

/** A one-statement CAMT.053 file, as a bank sends it: opening and closing balances and booked lines. */
function camt(o: { opening: string; closing: string; from: string; to: string; lines: { date: string; amount: string; name: string; text: string }[] }) {
  const bal = (code: string, amount: string, date: string) =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${money(amount).abs().toFixed(2)}</Amt><CdtDbtInd>${amount.startsWith("-") ? "DBIT" : "CRDT"}</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>`;
  const entries = o.lines.map((l, i) => {
    const credit = !l.amount.startsWith("-");
    return `<Ntry><Amt Ccy="EUR">${money(l.amount).abs().toFixed(2)}</Amt><CdtDbtInd>${credit ? "CRDT" : "DBIT"}</CdtDbtInd><Sts>BOOK</Sts>` +
      `<BookgDt><Dt>${l.date}</Dt></BookgDt><ValDt><Dt>${l.date}</Dt></ValDt><AcctSvcrRef>T${i}${l.date}</AcctSvcrRef>` +
      `<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${credit ? "RCDT" : "ICDT"}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>` +
      `<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><${credit ? "Dbtr" : "Cdtr"}><Nm>${l.name}</Nm></${credit ? "Dbtr" : "Cdtr"}></RltdPties>` +
      `<RmtInf><Ustrd>${l.text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`;
  });
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>T-${o.from}</MsgId><CreDtTm>${o.to}T22:00:00</CreDtTm></GrpHdr>
<Stmt><Id>T-${o.from}</Id><CreDtTm>${o.to}T22:00:00</CreDtTm><FrToDt><FrDtTm>${o.from}T00:00:00</FrDtTm><ToDtTm>${o.to}T23:59:59</ToDtTm></FrToDt>
<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
${bal("OPBD", o.opening, o.from)}${bal("CLBD", o.closing, o.to)}
${entries.join("\n")}
</Stmt></BkToCstmrStmt></Document>`);
}

/** Every reconciling item of a source as of a date, page by page (a small page size, so paging is exercised). */
async function allItems(ctx: Ctx, sourceId: string, asOf: string, side?: "statement" | "ledger" | "matches"): Promise<ReconcilingItem[]> {
  const out: ReconcilingItem[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await reconcilingItems(t.db, ctx, { sourceId, asOf, side, limit: 2, after });
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
  throw new Error("paging did not end");
}

/** The overview's difference equals its groups' totals, and the items listed page by page plus the remainder sum to it too. */
async function expectTiesOut(ctx: Ctx, r: SourceReconciliation) {
  expect(sum(r.items.map((i) => i.total)).equals(r.difference)).toBe(true);
  expect(money(r.itemsTotal).equals(r.difference)).toBe(true);
  expect(money(r.statementBalance).minus(r.ledgerBalance).equals(r.difference)).toBe(true);
  const listed = await allItems(ctx, r.sourceId, r.asOf);
  const unexplained = r.items.find((i) => i.kind === "unexplained")!.total;
  expect(sum([...listed.map((i) => i.effect), unexplained]).equals(r.difference)).toBe(true);
  // Each list matches its group in the overview, count and total.
  for (const [group, kind] of [["statement_only", "statement_only"], ["ledger_only", "ledger_only"], ["match_differences", "match_difference"]] as const) {
    const g = r.items.find((i) => i.kind === group)!;
    const of = listed.filter((i) => i.kind === kind);
    expect([of.length, sum(of.map((i) => i.effect)).toFixed()]).toEqual([g.count, money(g.total).toFixed()]);
  }
  return listed;
}

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
  // A payment on the last day of March that the ledger books on 1 April: a timing difference.
  await importFile(t.db, org.ctx.accountant, { sourceId: f.sourceId, fileName: "march-late.csv", bytes: Buffer.from("Date,Amount,Counterparty,Reference,Description\n2026-03-31,-150.00,TELEKOM,BILL-81,Debit transfer"), format: "csv" }, LIMITS);
  await postJournalEntries(t.db, org.ctx.accountant, [{
    entityId: org.entityId, entryDate: "2026-04-01", description: "Payment BILL-81", idempotencyKey: "recon:telekom",
    lines: [{ accountId: org.accounts["1000"], amount: "-150.00", counterparty: "Telekom", reference: "BILL-81" }, { accountId: org.accounts["2000"], amount: "150.00", counterparty: "Telekom", reference: "BILL-81" }],
  }]);
  const run = await runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
  expect(run.counts).toMatchObject({ left: 12, auto: 9, suggested: 1, unmatched: 2 });
});

describe("the reconciliation of a bank account against its GL account", () => {
  it("as of the end of March: the bank is ahead by two unmatched receipts and fees, a short receipt, and a payment the ledger books in April", async () => {
    const [r] = await reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-03-31" });
    expect(r).toMatchObject({
      sourceId: f.sourceId, statementBasis: { kind: "lines" }, currency: "EUR", glAccount: { code: "1000" },
      // Bank lines: 11,478.35 − 150.00; ledger up to 31 March: −297.05 (Telekom is booked on 1 April).
      statementBalance: "11328.35", ledgerBalance: "-297.05", difference: "11625.4", itemsTotal: "11625.4",
    });
    expect(r.items.map((i) => [i.kind, i.count, i.total])).toEqual([
      ["statement_only", 3, "11626.9"], // Nordlicht 11,800.00, card fees −23.10, Telekom −150.00
      ["ledger_only", 0, "0"],
      ["match_differences", 1, "-1.5"], // Delta Freight paid 978.50 against 980.00
      ["unexplained", 0, "0"],
    ]);
    expect(r.unreconciled).toEqual({ statement: { count: 3, amount: "11626.9" }, ledger: { count: 0, amount: "0" }, count: 3, grossAmount: "11973.1" });
    expect(r.lastImport).toMatchObject({ fileName: "march-late.csv", channel: "file", by: expect.stringContaining("accountant-") });
    expect(r.lastStatementDate).toBeNull();

    const items = await expectTiesOut(org.ctx.viewer, r);
    const telekom = items.find((i) => i.counterparty === "TELEKOM")!;
    // Matched, but its ledger side is dated after the as-of date: outstanding, and the page can say why.
    expect(telekom).toMatchObject({ kind: "statement_only", date: "2026-03-31", effect: "-150", match: { status: "auto_matched", counterpartDate: "2026-04-01" } });
    const delta = items.find((i) => i.kind === "match_difference")!;
    expect([delta.amount, delta.ledgerAmount, delta.effect]).toEqual(["978.5", "980", "-1.5"]);
  });

  it("as of 1 April the payment is in both and reconciles; as of 10 March the ledger is ahead by a payment the bank books a day later", async () => {
    const [april] = await reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-04-01" });
    expect([april.difference, april.ledgerBalance]).toEqual(["11775.4", "-447.05"]);
    expect(april.items.find((i) => i.kind === "statement_only")).toMatchObject({ count: 2, total: "11776.9" });
    await expectTiesOut(org.ctx.viewer, april);

    const [tenth] = await reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-03-10" });
    expect([tenth.statementBalance, tenth.ledgerBalance, tenth.difference]).toEqual(["4040.5", "3727.95", "312.55"]);
    const items = await expectTiesOut(org.ctx.viewer, tenth);
    expect(items.map((i) => [i.kind, i.counterparty, i.effect, i.match?.counterpartDate])).toEqual([["ledger_only", "AWS EMEA", "312.55", "2026-03-11"]]);

    // Before anything happened, nothing to explain.
    const [before] = await reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-02-28" });
    expect([before.statementBalance, before.ledgerBalance, before.difference, before.unreconciled.count]).toEqual(["0", "0", "0", 0]);
  });

  it("a suggested match that is rejected puts both its lines back among the outstanding items, and it still ties out", async () => {
    const o = await createTestOrg(t.db);
    const fx = await seedReconciliation(t.db, o);
    await runMatching(t.db, o.ctx.accountant, { sourceId: fx.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });
    const [withSuggestion] = await reconciliationOverview(t.db, o.ctx.viewer, { asOf: "2026-03-31" });
    const { rejectMatch } = await import("@/server/matching/lifecycle");
    const { listMatches } = await import("@/server/matching/queries");
    const [s] = (await listMatches(t.db, o.ctx.viewer, { statuses: ["suggested"] })).rows;
    await rejectMatch(t.db, o.ctx.accountant, { matchId: s.id, reason: "test" });
    const [after] = await reconciliationOverview(t.db, o.ctx.viewer, { asOf: "2026-03-31" });
    expect(after.difference).toBe(withSuggestion.difference);
    expect([after.unreconciled.statement.count, after.unreconciled.ledger.count]).toEqual([withSuggestion.unreconciled.statement.count + 1, 1]);
    expect(after.unreconciled.ledger.amount).toBe("-760");
    await expectTiesOut(o.ctx.viewer, after);
  });

  it("paging by statement side only returns those lines, oldest first, without repeats", async () => {
    const lines = await allItems(org.ctx.viewer, f.sourceId, "2026-03-31", "statement");
    expect(lines.map((i) => i.date)).toEqual(["2026-03-16", "2026-03-19", "2026-03-31"]);
    expect(new Set(lines.map((i) => i.key)).size).toBe(3);
    expect(await failureOf(() => reconcilingItems(t.db, org.ctx.viewer, { sourceId: f.sourceId, asOf: "2026-03-31", after: "1 OR 1=1" }))).toBe("validation");
  });
});

describe("statement balances", () => {
  let other: TestOrg;
  let sourceId: string;
  beforeAll(async () => {
    other = await createTestOrg(t.db);
    ({ id: sourceId } = await createSource(t.db, other.ctx.accountant, { kind: "bank", name: "Deposit account", entityId: other.entityId, currency: "EUR", glAccountId: other.accounts["1000"] }));
    // The account existed before we used Tieout: the bank opens March at 1,000.00 that no line here explains.
    await importFile(t.db, other.ctx.accountant, {
      sourceId, fileName: "march.xml", format: "camt",
      bytes: camt({ opening: "1000.00", closing: "1150.00", from: "2026-03-01", to: "2026-03-31", lines: [
        { date: "2026-03-05", amount: "200.00", name: "ACME RETAIL", text: "INV-9 Acme" },
        { date: "2026-03-20", amount: "-50.00", name: "DEUTSCHE BANK AG", text: "CHARGES" },
      ] }),
    }, LIMITS);
    await importFile(t.db, other.ctx.accountant, { sourceId, fileName: "april.csv", format: "csv", bytes: Buffer.from("Date,Amount,Counterparty,Reference,Description\n2026-04-02,75.00,BLUE FJORD,INV-10,Credit transfer") }, LIMITS);
    await postJournalEntries(t.db, other.ctx.accountant, [{
      entityId: other.entityId, entryDate: "2026-03-04", description: "Receipt INV-9", idempotencyKey: "recon:inv9",
      lines: [{ accountId: other.accounts["1000"], amount: "200.00", counterparty: "Acme Retail", reference: "INV-9" }, { accountId: other.accounts["1100"], amount: "-200.00" }],
    }]);
    await runMatching(t.db, other.ctx.accountant, { sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-04-30", trigger: "manual" }, { today: "2026-05-01" });
  });

  it("the latest closing balance rolled forward, the opening balance inside the first statement, the lines before any", async () => {
    const at = async (asOf: string) => (await sourceReconciliation(t.db, other.ctx.viewer, { sourceId, asOf }));
    const end = await at("2026-03-31");
    expect([end.statementBasis, end.statementBalance, end.ledgerBalance, end.difference]).toEqual([{ kind: "closing", date: "2026-03-31", balance: "1150" }, "1150", "200", "950"]);
    expect(end.items.map((i) => [i.kind, i.total])).toEqual([["statement_only", "-50"], ["ledger_only", "0"], ["match_differences", "0"], ["unexplained", "1000"]]);
    expect(end.lastStatementDate).toBe("2026-03-31");
    await expectTiesOut(other.ctx.viewer, end);

    const april = await at("2026-04-10");
    expect([april.statementBalance, april.difference, april.items.find((i) => i.kind === "unexplained")!.total]).toEqual(["1225", "1025", "1000"]);
    await expectTiesOut(other.ctx.viewer, april);

    const mid = await at("2026-03-15");
    expect([mid.statementBasis.kind, mid.statementBalance, mid.difference]).toEqual(["opening", "1200", "1000"]);
    await expectTiesOut(other.ctx.viewer, mid);

    const early = await at("2026-02-15");
    expect([early.statementBasis.kind, early.statementBalance, early.difference]).toEqual(["lines", "0", "0"]);
  });
});

describe("access", () => {
  it("another organisation's source is not found, whoever asks; a malformed id or date is refused", async () => {
    const stranger = await createTestOrg(t.db);
    expect(await failureOf(() => sourceReconciliation(t.db, stranger.ctx.admin, { sourceId: f.sourceId, asOf: "2026-03-31" }))).toBe("not_found");
    expect(await failureOf(() => reconcilingItems(t.db, stranger.ctx.admin, { sourceId: f.sourceId, asOf: "2026-03-31" }))).toBe("not_found");
    expect(await reconciliationOverview(t.db, stranger.ctx.viewer, { asOf: "2026-03-31" })).toEqual([]);
    expect(await failureOf(() => sourceReconciliation(t.db, org.ctx.viewer, { sourceId: "nope", asOf: "2026-03-31" }))).toBe("not_found");
    expect(await failureOf(() => reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-02-30" }))).toBe("validation");
  });
});
