import { sql, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { inOrg } from "@/server/db/tenant";
import { createSource } from "@/server/ingest/sources";
import { reconciliationOverview, reconciliationTotals } from "./overview";
import { reconcilingItems } from "./reconciling-items";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const N = 100_000;
let org: TestOrg;
let sourceId: string;

/**
 * 100,000 bank lines and 100,000 ledger lines over 2026, nine in ten matched one to one (the
 * ledger a day or two earlier), written in bulk as the owner with triggers off: the overview is
 * what is measured, not the import or the matching engine.
 */
beforeAll(async () => {
  org = await createTestOrg(t.db);
  ({ id: sourceId } = await createSource(t.db, org.ctx.accountant, { kind: "bank", name: "Big bank", entityId: org.entityId, currency: "EUR", glAccountId: org.accounts["1000"] }));
  await t.adminDb.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local session_replication_role = replica`));
    const [imp] = await tx.execute<{ id: string }>(sql`
      insert into imports (org_id, source_id, channel, file_name, format, parser_version, new_count, duplicate_count, rejected_count, statement_count, unbalanced_statement_count)
      values (${org.orgId}, ${sourceId}, 'file', 'big.csv', 'csv', '1', ${N}, 0, 0, 0, 0) returning id`);
    await tx.execute(sql`
      insert into canonical_transactions (org_id, source_id, import_id, dedupe_key, booked_date, amount, currency, raw, parser, parser_version, type)
      select ${org.orgId}, ${sourceId}, ${imp.id}, 'id:' || n, date '2026-01-01' + (n % 362), (n % 5000) - 2500 + 0.37, 'EUR', '{}', 'scale', '1', 'payment'
      from generate_series(1, ${N}) n`);
    await tx.execute(sql`
      insert into journal_entries (org_id, id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, source, posted_by_label)
      select ${org.orgId}, md5('e' || n)::uuid, ${org.entityId}, n, date '2026-01-01' + (n % 362) - (n % 3), 'Scale ' || n, 'scale:' || n, 'scale', 'scale', 'scale'
      from generate_series(1, ${N}) n`);
    await tx.execute(sql`
      insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount)
      select ${org.orgId}, md5('e' || n)::uuid, k, ${org.entityId}, case k when 1 then ${org.accounts["1000"]}::uuid else ${org.accounts["4000"]}::uuid end,
             date '2026-01-01' + (n % 362) - (n % 3), a * s, 'EUR', 1, a * s
      from generate_series(1, ${N}) n, lateral (select (n % 5000) - 2500 + 0.37 as a) x, (values (1, 1), (2, -1)) v(k, s)`);
    await tx.execute(sql`
      insert into matches (org_id, id, source_id, pairing, level, confidence, decision, status, difference, currency, reason)
      select ${org.orgId}, md5('m' || n)::uuid, ${sourceId}, 'ledger', 'exact', 1, 'auto', 'auto_matched', 0, 'EUR', 'scale'
      from generate_series(1, ${N}) n where n % 10 <> 0`);
    await tx.execute(sql`
      insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, amount, record_date)
      select ${org.orgId}, md5('m' || substr(t.dedupe_key, 4))::uuid, 'ledger', 'left', t.id, t.amount, t.booked_date
      from canonical_transactions t where t.source_id = ${sourceId} and substr(t.dedupe_key, 4)::int % 10 <> 0`);
    await tx.execute(sql`
      insert into match_members (org_id, match_id, pairing, side, journal_line_id, amount, record_date)
      select ${org.orgId}, md5('m' || e.entry_number)::uuid, 'ledger', 'right', l.id, l.amount, l.entry_date
      from journal_entries e join journal_lines l on l.entry_id = e.id and l.line_no = 1
      where e.org_id = ${org.orgId} and e.entry_number % 10 <> 0`);
  });
  await t.adminDb.execute(sql.raw(`analyze canonical_transactions; analyze journal_lines; analyze journal_entries; analyze matches; analyze match_members`));
}, 120_000);

/** Every index a plan reads, and every table it scans whole. */
function planNodes(plan: unknown): { indexes: Set<string>; seqScans: Set<string> } {
  const indexes = new Set<string>();
  const seqScans = new Set<string>();
  const walk = (n: Record<string, unknown>) => {
    if (typeof n["Index Name"] === "string") indexes.add(n["Index Name"]);
    if (n["Node Type"] === "Seq Scan") seqScans.add(String(n["Relation Name"]));
    for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
  };
  walk((plan as { Plan: Record<string, unknown> }[])[0].Plan);
  return { indexes, seqScans };
}

async function explain(q: SQL) {
  const [row] = await inOrg(t.db, org.ctx.viewer, (tx) => tx.execute<{ "QUERY PLAN": unknown }>(sql`explain (format json) ${q}`));
  return planNodes(row["QUERY PLAN"]);
}

describe("the overview on 100,000 lines per side", () => {
  it("probes the active-member indexes per record and never scans the match tables", async () => {
    const plan = await explain(reconciliationTotals(org.orgId, { id: sourceId, gl_account_id: org.accounts["1000"] }, "2026-12-31"));
    expect([...plan.indexes]).toEqual(expect.arrayContaining(["match_members_one_active_transaction", "match_members_one_active_line", "match_members_match_idx"]));
    // The records up to the date are read whole either way (here: all of this one source's); what must never be scanned is the match tables.
    expect([...plan.seqScans].filter((r) => r.startsWith("match"))).toEqual([]);
    if (process.env.RECON_EXPLAIN) {
      const rows = await inOrg(t.db, org.ctx.viewer, (tx) => tx.execute<{ "QUERY PLAN": string }>(sql`explain (analyze, buffers) ${reconciliationTotals(org.orgId, { id: sourceId, gl_account_id: org.accounts["1000"] }, "2026-12-31")}`));
      console.log(rows.map((r) => r["QUERY PLAN"]).join("\n"));
    }
  });

  it("adds up and answers in well under the bound, as does a page of the drill-down", async () => {
    const t0 = performance.now();
    const [r] = await reconciliationOverview(t.db, org.ctx.viewer, { asOf: "2026-12-31" });
    const overviewMs = performance.now() - t0;
    // One bank line in ten is unmatched, and so is one ledger line in ten.
    expect([r.lineCount, r.unreconciled.statement.count, r.unreconciled.ledger.count]).toEqual([N, N / 10, N / 10]);
    const t1 = performance.now();
    const page = await reconcilingItems(t.db, org.ctx.viewer, { sourceId, asOf: "2026-12-31", side: "statement", limit: 50 });
    const pageMs = performance.now() - t1;
    expect(page.items).toHaveLength(50);
    console.log(`overview ${overviewMs.toFixed(0)} ms, drill-down page ${pageMs.toFixed(0)} ms on ${N} lines per side`);
    // Bounds that catch a scan gone quadratic, not a slow machine: each is a few hundred ms here.
    expect(overviewMs).toBeLessThan(5_000);
    expect(pageMs).toBeLessThan(3_000);
  });
});
