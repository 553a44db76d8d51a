import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { testDatabase } from "@/test/db";
import { createStripeSource, stripeHeaders } from "@/test/stripe-webhooks";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { inOrg } from "@/server/db/tenant";
import { landRecords } from "@/server/ingest/land-records";
import { receiveWebhook } from "@/server/ingest/receive-webhook";
import { initJobs, type Dispatcher } from "./dispatch";
import type { JobEvent } from "./events";
import { resumeMatchingBacklogs, runNightlyMatching } from "./inline-scheduler";
import { runMatchingBacklog } from "./matching-job";

/**
 * Lines that land start their own reconciliation: every landing widens the source's backlog in its
 * own transaction, and one debounced run per burst takes the whole backlog. Real deliveries
 * (signed Stripe webhooks) into a real database; the inline dispatcher with a short debounce.
 */
const t = await testDatabase({ max: 8 });
afterAll(() => t.close());

let org: TestOrg;
let stripe: string;
let secret: string;
const NOW = 1_763_700_000;
const DAY = 86_400;
const MARCH_2 = Date.UTC(2026, 2, 2, 12) / 1000;
let nextCharge = 1;

beforeAll(async () => {
  org = await createTestOrg(t.db);
  ({ sourceId: stripe, secret } = await createStripeSource(t.db, org));
});

/** One signed charge.succeeded delivery booked `dayOffset` days after 2 March 2026. */
function charge(dayOffset: number, opts: { id?: string; amount?: unknown } = {}) {
  const n = nextCharge++;
  const body = JSON.stringify({
    id: opts.id ?? `evt_backlog_${n}`, object: "event", api_version: "2024-06-20", created: MARCH_2 + dayOffset * DAY, livemode: false, type: "charge.succeeded",
    data: { object: { id: `ch_backlog_${n}`, object: "charge", amount: opts.amount ?? 1000 + n, amount_captured: 1000 + n, amount_refunded: 0, balance_transaction: `txn_backlog_${n}`,
      billing_details: { name: "Marta Keller" }, captured: true, created: MARCH_2 + dayOffset * DAY, currency: "eur", description: `Order #${n}`, status: "succeeded" } },
  });
  return () => receiveWebhook(t.db, { provider: "stripe", sourceId: stripe, rawBody: Buffer.from(body), headers: stripeHeaders(body, secret, NOW), now: NOW });
}

const backlog = async (sourceId = stripe) =>
  (await t.adminDb.execute<{ from: string; to: string }>(sql`select date_from::text as from, date_to::text as to from matching_backlog where source_id = ${sourceId}`))[0] ?? null;
const runs = async () =>
  t.adminDb.execute<{ trigger: string; status: string; from: string; to: string }>(sql`
    select trigger, status, date_from::text as from, date_to::text as to from match_runs where source_id = ${stripe} order by queued_at`);

/** Records what would go to Inngest: landing and reconciling are then separate, step by step. */
function recordingJobs(): JobEvent[] {
  const sent: JobEvent[] = [];
  initJobs({ mode: "inngest", send: async (e) => (sent.push(e), { ids: [] }) });
  return sent;
}

describe("the matching backlog", () => {
  test("every delivery widens its source's one backlog row and asks for a run; a replay or a refused delivery changes nothing", async () => {
    const sent = recordingJobs();
    const replayed = charge(3, { id: "evt_backlog_replayed" });
    for (const deliver of [charge(3), charge(0), replayed, charge(7)]) expect((await deliver()).status).toBe(200);
    expect(await backlog()).toEqual({ from: "2026-03-02", to: "2026-03-09" });
    expect(sent).toHaveLength(4);
    expect(sent.every((e) => e.name === "tieout/matching.backlog.added" && e.data.orgId === org.orgId && e.data.sourceId === stripe)).toBe(true);

    expect((await replayed()).body.events).toEqual([{ id: "evt_backlog_replayed", replayed: true, transactions: 0 }]);
    const refused = await charge(20, { amount: "not a number" })();
    expect(refused.status).toBe(400);
    expect(sent).toHaveLength(4);
    expect(await backlog()).toEqual({ from: "2026-03-02", to: "2026-03-09" });
  });

  test("a burst of deliveries becomes one import-triggered run over all their dates, and its unmatched lines open exceptions", async () => {
    const jobs: Dispatcher = initJobs({ mode: "inline", db: () => t.db, backlogDebounce: { quietMs: 300, maxWaitMs: 10_000 } });
    const before = (await runs()).length;
    for (let i = 0; i < 8; i++) expect((await charge(i % 4)()).status).toBe(200);
    await jobs.settled!();
    const after = (await runs()).slice(before);
    // The first test's four landings were still in the backlog: this run takes them too.
    expect(after).toEqual([{ trigger: "import", status: "succeeded", from: "2026-03-02", to: "2026-03-09" }]);
    expect(await backlog()).toBeNull();
    const [open] = await t.adminDb.execute<{ lines: number; exceptions: number }>(sql`
      select (select count(*)::int from canonical_transactions where source_id = ${stripe}) as lines,
             (select count(*)::int from exceptions where source_id = ${stripe} and kind = 'unmatched_transaction' and status = 'open') as exceptions`);
    // No ledger entries exist for these charges: each line is an exception a person sees.
    expect(open).toEqual({ lines: 12, exceptions: 12 });
  });

  test("a steady stream cannot postpone its run past the longest wait", async () => {
    const jobs: Dispatcher = initJobs({ mode: "inline", db: () => t.db, backlogDebounce: { quietMs: 400, maxWaitMs: 900 } });
    const before = (await runs()).length;
    const started = Date.now();
    while (Date.now() - started < 1_800) {
      expect((await charge(10)()).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    await jobs.settled!();
    const during = (await runs()).slice(before);
    // Deliveries every ~100 ms never pause for 400 ms, yet a run starts at most 900 ms after the first of a wait.
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.every((r) => r.trigger === "import" && r.status === "succeeded" && r.from === "2026-03-12")).toBe(true);
    expect(await backlog()).toBeNull();
  });

  test("a run that throws or fails puts its range back, and the next run reconciles it", async () => {
    recordingJobs();
    expect((await charge(15)()).status).toBe(200);
    expect(await backlog()).toEqual({ from: "2026-03-17", to: "2026-03-17" });
    const before = (await runs()).length;

    // A database that refuses the run's row: the run throws before it starts.
    await t.adminDb.execute(sql.raw(`
      create function refuse_backlog_run() returns trigger language plpgsql as $$ begin raise exception 'no runs today'; end $$;
      create trigger refuse_backlog_run before insert on match_runs for each row execute function refuse_backlog_run()`));
    const thrown = await runMatchingBacklog(t.db, org.orgId, stripe).then(() => null, (e: Error) => e);
    expect(String((thrown?.cause as Error | undefined)?.message)).toMatch(/no runs today/);
    expect(await backlog()).toEqual({ from: "2026-03-17", to: "2026-03-17" });
    await t.adminDb.execute(sql.raw(`drop trigger refuse_backlog_run on match_runs`));

    // A run that starts and then fails on its way to success: recorded as failed, range kept.
    await t.adminDb.execute(sql.raw(`
      create trigger refuse_backlog_run before update on match_runs for each row when (new.status = 'succeeded') execute function refuse_backlog_run()`));
    expect(await runMatchingBacklog(t.db, org.orgId, stripe)).toMatchObject({ status: "failed" });
    expect(await backlog()).toEqual({ from: "2026-03-17", to: "2026-03-17" });
    await t.adminDb.execute(sql.raw(`drop trigger refuse_backlog_run on match_runs; drop function refuse_backlog_run()`));

    expect(await runMatchingBacklog(t.db, org.orgId, stripe)).toMatchObject({ status: "succeeded", from: "2026-03-17", to: "2026-03-17" });
    expect(await backlog()).toBeNull();
    expect(await runMatchingBacklog(t.db, org.orgId, stripe)).toBeNull();
    expect((await runs()).slice(before).map((r) => r.status)).toEqual(["failed", "succeeded"]);
  });

  test("a process that starts reconciles the backlog a stopped one left", async () => {
    recordingJobs();
    expect((await charge(21)()).status).toBe(200);
    expect(await backlog()).not.toBeNull();
    const resumed = await resumeMatchingBacklogs(t.db, { log: { info: () => {}, error: () => {} } });
    expect(resumed).toEqual([expect.objectContaining({ sourceId: stripe, status: "succeeded", from: "2026-03-23", to: "2026-03-23" })]);
    expect(await backlog()).toBeNull();
  });

  test("lines landing in a Xero source add no backlog, and the nightly run reconciles the bank and provider sources only", async () => {
    const [xero] = await t.adminDb.execute<{ id: string }>(sql`
      insert into sources (org_id, entity_id, kind, name, currency, gl_account_id) values (${org.orgId}, ${org.entityId}, 'xero', 'Xero (demo)', 'EUR', ${org.accounts["1000"]}) returning id`);
    await inOrg(t.db, org.system, (tx) =>
      landRecords(tx, org.system, { id: xero.id, name: "Xero (demo)", currency: "EUR" }, {
        format: "xero_bank_transactions", parserVersion: "1", statements: [], warnings: [],
        records: [{ externalId: "xero-bt-1", statementIndex: null, bookedDate: "2026-03-05", valueDate: null, amount: "12.50", currency: "EUR", counterpartyName: null, counterpartyAccount: null, reference: null, description: "Xero line", bankTransactionCode: null, type: "payment", originalAmount: null, originalCurrency: null, raw: {} }],
      }, { channel: "xero", fileName: null, uploadId: null, startedAt: performance.now() }),
    );
    expect(await backlog(xero.id)).toBeNull();

    const nightly = await runNightlyMatching(t.db, { today: "2026-03-31", log: { info: () => {}, error: () => {} } });
    expect(nightly.failures).toEqual([]);
    expect(nightly.runs.filter((r) => r.orgId === org.orgId).map((r) => [r.sourceId, r.status, r.from, r.to])).toEqual([[stripe, "succeeded", "2026-02-24", "2026-03-31"]]);
  });
});
