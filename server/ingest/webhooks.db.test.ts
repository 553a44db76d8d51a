import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createStripeSource, stripeHeaders as signedByStripe } from "@/test/stripe-webhooks";
import { createTestOrg, type TestOrg } from "@/test/fixtures";
import { sweepStaleSources } from "@/server/exceptions/stale-sources";
import { todayUtc } from "@/server/jobs/events";
import { addDays } from "@/server/matching/records";
import { initJobs, type JobEvent } from "@/server/jobs";
import { receiveWebhook } from "./receive-webhook";

const t = await testDatabase({ max: 6 });
afterAll(() => t.close());

let org: TestOrg;
let sourceId: string;
let secret: string;
const NOW = 1_763_700_000;

// What a delivery hands to the background (a reconciliation of its lines) is recorded, not run:
// server/jobs/matching-backlog.db.test.ts runs it.
const requested: JobEvent[] = [];
initJobs({ mode: "inngest", send: async (e) => (requested.push(e), { ids: [] }) });

beforeAll(async () => {
  org = await createTestOrg(t.db);
  ({ sourceId, secret } = await createStripeSource(t.db, org));
});

const chargeEvent = (n: number) => ({
  id: `evt_test_${n}`,
  object: "event",
  api_version: "2024-06-20",
  created: NOW - 10,
  livemode: false,
  type: "charge.succeeded",
  data: {
    object: {
      id: `ch_test_${n}`, object: "charge", amount: 4990 + n, amount_captured: 4990 + n, amount_refunded: 0, balance_transaction: `txn_test_${n}`,
      billing_details: { name: "Marta Keller" }, captured: true, created: NOW - 20, currency: "eur", description: `Order #${n}`, status: "succeeded",
    },
  },
});

const stripeHeaders = (body: string, key: string, timestamp = NOW) => signedByStripe(body, key, timestamp);

const deliver = (body: string, headers: Record<string, string>, source = sourceId, provider = "stripe") =>
  receiveWebhook(t.db, { provider, sourceId: source, rawBody: Buffer.from(body), headers, now: NOW });

const transactions = async () => {
  const [r] = await t.adminDb.execute<{ n: number }>(sql`select count(*)::int as n from canonical_transactions where source_id = ${sourceId}`);
  return r.n;
};

describe("signed payment-provider webhooks", () => {
  it("accepts every valid delivery and turns it into canonical transactions", async () => {
    for (let n = 1; n <= 50; n++) {
      const body = JSON.stringify(chargeEvent(n));
      const r = await deliver(body, stripeHeaders(body, secret));
      expect(r.status, r.body.message).toBe(200);
      expect(r.body.events).toEqual([{ id: `evt_test_${n}`, replayed: false, transactions: 1 }]);
    }
    expect(await transactions()).toBe(50);
    expect(requested.filter((e) => e.name === "tieout/matching.backlog.added")).toHaveLength(50);
    const [row] = await t.adminDb.execute<{ amount: string; external_id: string; type: string }>(sql`select amount::text, external_id, type from canonical_transactions where source_id = ${sourceId} and external_id = 'txn_test_7'`);
    expect(row).toEqual({ amount: "49.9700", external_id: "txn_test_7", type: "payment" });
  });

  it("a delivery that lands clears the source's stale_source exception at once", async () => {
    const staleOf = async () => (await t.adminDb.execute<{ status: string; resolution: string | null }>(sql`select status, resolution from exceptions where kind = 'stale_source' and source_id = ${sourceId}`))[0];
    await sweepStaleSources(t.db, org.system, addDays(todayUtc(), 30));
    expect(await staleOf()).toMatchObject({ status: "open" });
    const body = JSON.stringify(chargeEvent(51));
    expect((await deliver(body, stripeHeaders(body, secret))).status).toBe(200);
    expect(await staleOf()).toMatchObject({ status: "resolved", resolution: "cleared" });
  });

  it("refuses a flipped bit, a wrong key, a stale timestamp or no signature with 401, writing nothing", async () => {
    const before = await transactions();
    const body = JSON.stringify(chargeEvent(100));
    const good = stripeHeaders(body, secret);
    for (let i = 0; i < 200; i++) {
      // one bit flipped somewhere in the body, signature unchanged
      const bytes = Buffer.from(body);
      const at = (i * 7919) % bytes.length;
      bytes[at] ^= 1 << (i % 8);
      const r = await receiveWebhook(t.db, { provider: "stripe", sourceId, rawBody: bytes, headers: good, now: NOW });
      expect(r.status).toBe(401);
    }
    const flippedSignature = good["stripe-signature"].replace(/v1=(.)/, (_, c: string) => `v1=${c === "a" ? "b" : "a"}`);
    expect((await deliver(body, { "stripe-signature": flippedSignature })).status).toBe(401);
    expect((await deliver(body, stripeHeaders(body, "whsec_wrong"))).status).toBe(401);
    expect((await deliver(body, stripeHeaders(body, secret, NOW - 301))).status).toBe(401);
    expect((await deliver(body, {})).status).toBe(401);
    expect(await transactions()).toBe(before);
  });

  it("changes nothing on 200 replays of one event, 10 of them at once, and still answers 200", async () => {
    const body = JSON.stringify(chargeEvent(500));
    const headers = stripeHeaders(body, secret);
    const before = await transactions();
    const outcomes = [];
    for (let round = 0; round < 20; round++) outcomes.push(...(await Promise.all(Array.from({ length: 10 }, () => deliver(body, headers)))));
    expect(outcomes).toHaveLength(200);
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    expect(outcomes.filter((o) => o.body.events?.[0].replayed === false)).toHaveLength(1);
    expect(await transactions()).toBe(before + 1);
    const [events] = await t.adminDb.execute<{ n: number }>(sql`select count(*)::int as n from webhook_events where source_id = ${sourceId} and event_id = 'evt_test_500'`);
    expect(events.n).toBe(1);
  });

  it("answers 404 for an unknown source, another provider's URL, or no source at all", async () => {
    const body = JSON.stringify(chargeEvent(900));
    expect((await deliver(body, stripeHeaders(body, secret), "00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await deliver(body, stripeHeaders(body, secret), sourceId, "paypal")).status).toBe(404);
    expect((await deliver(body, stripeHeaders(body, secret), "not-a-uuid")).status).toBe(404);
    expect((await deliver(body, stripeHeaders(body, secret), sourceId, "acme")).status).toBe(404);
  });

  it("answers 400 for a signed body that is not a usable event, writing nothing", async () => {
    const before = await transactions();
    const body = JSON.stringify({ id: "evt_bad", type: "charge.succeeded", data: { object: { amount: 49.9, currency: "eur" } } });
    const r = await deliver(body, stripeHeaders(body, secret));
    expect(r.status).toBe(400);
    expect(await transactions()).toBe(before);
  });
});
