import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { inOrg } from "@/server/db/tenant";
import { filtersFromSearchParams, listExceptionQueue, queueRows, QUEUE_SORTS, type QueueFilters, type QueueSort } from "./queue";
import { assignExceptions, explainExceptions, reopenExceptions, snoozeExceptions, wakeExceptions, commentOnException } from "./actions";
import { wakeSnoozesEverywhere } from "@/server/jobs/exception-sweeps-job";
import { todayUtc } from "@/server/jobs/events";
import { addDays } from "@/server/matching/records";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const TODAY = "2026-04-10";
const N = 230;
let org: TestOrg;
let other: TestOrg;

/** N exceptions spread over kinds, severities, amounts (some without), dates and two assignees. */
async function seed(o: TestOrg) {
  const kinds = ["unmatched_transaction", "unmatched_ledger_line", "amount_mismatch", "stale_source"];
  const sevs = ["low", "medium", "high", "critical"];
  await inOrg(t.db, o.system, (tx) => tx.execute(sql`
    insert into exceptions (org_id, kind, severity, title, subject_key, amount, currency, occurred_on, details, assignee_id)
    select ${o.orgId}, (${`{${kinds.join(",")}}`}::text[])[1 + i % 4], (${`{${sevs.join(",")}}`}::text[])[1 + (i * 7) % 4],
           'Item ' || i || case when i % 10 = 0 then ' Acme GmbH' else '' end, 'test:' || i,
           case when i % 4 = 3 then null else ((i * 37) % 5000)::numeric + 0.25 end, 'EUR', ${TODAY}::date - (i * 3) % 90,
           jsonb_build_object('reference', 'REF-' || i), case when i % 5 = 0 then ${o.ctx.accountant.userId}::uuid end
    from generate_series(1, ${N}) as i`));
}

beforeAll(async () => {
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db, { name: "Other" });
  await seed(org);
  await seed(other);
});

async function allPages(f: Partial<QueueFilters>, pageSize = 17) {
  const seen: string[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await listExceptionQueue(t.db, org.ctx.viewer, filtersFromSearchParams({ ...Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v === undefined ? undefined : String(v)])), limit: String(pageSize), after }), { today: TODAY });
    seen.push(...page.rows.map((r) => r.id));
    // The counts come with the first page only.
    expect(page.counts === null).toBe(after !== undefined);
    if (!page.next) return seen;
    after = page.next;
  }
  throw new Error("did not end");
}

/** The first page of the default view: it carries the counts. */
const firstPage = () => listExceptionQueue(t.db, org.ctx.viewer, { ...filtersFromSearchParams({}), after: undefined }, { today: TODAY });

const ORDER_SQL: Record<QueueSort, string> = {
  priority: "severity_rank, due_at, id",
  amount: "coalesce(abs(amount), 0) desc, id desc",
  oldest: "occurred_on, id",
  newest: "raised_at desc, id desc",
};

describe("the exceptions queue", () => {
  it("pages through every open exception exactly once, in each sort order, with keyset cursors", async () => {
    for (const sort of Object.keys(QUEUE_SORTS) as QueueSort[]) {
      const ids = await allPages({ sort });
      const expected = await rowsInOrg<{ id: string }>(t.db, org, sql`select id from exceptions where status = 'open' order by ${sql.raw(ORDER_SQL[sort])}`);
      expect(ids, sort).toEqual(expected.map((r) => r.id));
    }
  });

  it("filters on the server: severity, kind, assignee, age bucket, amount range and text", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ severity: "high,critical" }, "severity in ('high', 'critical')"],
      [{ kind: "unmatched_ledger_line" }, "kind = 'unmatched_ledger_line'"],
      [{ assignee: "none" }, "assignee_id is null"],
      [{ age: "8-30" }, `${"'" + TODAY + "'"}::date - occurred_on between 8 and 30`],
      [{ min: "1000", max: "2000.25" }, "abs(amount) between 1000 and 2000.25"],
      [{ q: "acme" }, "title ilike '%acme%'"],
      [{ q: "ref-11" }, "details->>'reference' ilike '%ref-11%'"],
    ];
    for (const [f, where] of cases) {
      const ids = await allPages({ ...f, sort: "oldest" } as never, 50);
      const expected = await rowsInOrg<{ id: string }>(t.db, org, sql`select id from exceptions where status = 'open' and ${sql.raw(where)} order by occurred_on, id`);
      expect(ids, JSON.stringify(f)).toEqual(expected.map((r) => r.id));
      expect(ids.length, JSON.stringify(f)).toBeGreaterThan(0);
    }
    const mine = await listExceptionQueue(t.db, org.ctx.accountant, filtersFromSearchParams({ assignee: "me", limit: "200" }), { today: TODAY });
    expect(mine.rows.length).toBe(N / 5);
  });

  it("counts per severity and age bucket equal a real count", async () => {
    const page = await firstPage();
    const real = await rowsInOrg<{ severity: string; n: number }>(t.db, org, sql`select severity, count(*)::int as n from exceptions where status = 'open' group by 1`);
    for (const r of real) expect(page.counts.bySeverity[r.severity as "low"]).toBe(r.n);
    const [{ n }] = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from exceptions where status = 'open' and ${TODAY}::date - occurred_on > 60`);
    expect(page.counts.byAge["61+"]).toBe(n);
    expect(page.counts.open).toBe(real.reduce((a, r) => a + r.n, 0));
  });

  it("every day falls in exactly one age bucket, a record dated ahead in the newest", async () => {
    const o = await createTestOrg(t.db, { name: "Buckets" });
    // Ages −2 (a value date ahead), 0, 7 | 8, 30 | 31, 60 | 61, 400; one snoozed, not in the open counts.
    await inOrg(t.db, o.system, (tx) => tx.execute(sql`
      insert into exceptions (org_id, kind, severity, title, subject_key, currency, occurred_on, status, snoozed_until)
      select ${o.orgId}, 'unmatched_transaction', 'low', 'Age ' || age, 'age:' || age, 'EUR', ${TODAY}::date - age,
             case when age = 30 then 'snoozed' else 'open' end, case when age = 30 then now() + interval '1 day' end
      from unnest(array[-2, 0, 7, 8, 30, 31, 60, 61, 400]) as age`));
    const page = await listExceptionQueue(t.db, o.ctx.accountant, { ...filtersFromSearchParams({}), after: undefined }, { today: TODAY });
    expect(page.counts.byAge).toEqual({ "0-7": 3, "8-30": 1, "31-60": 2, "61+": 2 });
    expect(page.counts.grid.low).toEqual(page.counts.byAge);
    expect(page.counts.open).toBe(8);
    expect(page.counts.snoozed).toBe(1);
    // The age filter shows what the count counted, the record dated ahead included.
    for (const [age, n] of Object.entries(page.counts.byAge)) {
      const view = await listExceptionQueue(t.db, o.ctx.accountant, filtersFromSearchParams({ age }), { today: TODAY });
      expect([age, view.rows.length]).toEqual([age, n]);
    }
  });

  it("a search pages the same whether its walk fills the page or the index has to answer", async () => {
    const expected = await rowsInOrg<{ id: string }>(t.db, org, sql`select id from exceptions where status = 'open' and title ilike '%acme%' order by severity_rank, due_at, id`);
    for (const walkRows of [1_000, 20, 1]) {
      const ids: string[] = [];
      let after: string[] | null = null;
      do {
        const page: { rows: { id: string }[]; next: string[] | null } = await inOrg(t.db, org.ctx.viewer, (tx) => queueRows(tx, org.ctx.viewer, filtersFromSearchParams({ q: "ACME" }), { today: TODAY, limit: 5, after, walkRows }));
        ids.push(...page.rows.map((r) => r.id));
        after = page.next;
      } while (after);
      expect(ids, `walk of ${walkRows}`).toEqual(expected.map((r) => r.id));
    }
  });

  it("text search hands out only the organisation's own ids, and none without one", async () => {
    const mine = await rowsInOrg<{ id: string }>(t.db, org, sql`select exception_search_ids('%acme%') as id`);
    expect(mine.length).toBe(N / 10);
    const owners = await t.adminDb.execute<{ org_id: string }>(sql`select distinct org_id from exceptions where id = any(${`{${mine.map((r) => r.id).join(",")}}`}::uuid[])`);
    expect(owners.map((r) => r.org_id)).toEqual([org.orgId]);
    const none = await t.db.transaction((tx) => tx.execute(sql`select exception_search_ids('%acme%')`));
    expect(none.length).toBe(0);
  });

  it("refuses a bad filter or a stale cursor with a plain message", async () => {
    expect(() => filtersFromSearchParams({ severity: "urgent" })).toThrow(/severity/);
    const page = await listExceptionQueue(t.db, org.ctx.viewer, filtersFromSearchParams({ limit: "5" }), { today: TODAY });
    expect(await failureOf(() => listExceptionQueue(t.db, org.ctx.viewer, filtersFromSearchParams({ sort: "amount", after: page.next! }), { today: TODAY }))).toBe("validation");
  });
});

describe("working exceptions", () => {
  const openIds = async (o = org, n = 3) => (await rowsInOrg<{ id: string }>(t.db, o, sql`select id from exceptions where status = 'open' order by id limit ${n}`)).map((r) => r.id);

  it("snoozes out of the open queue and wakes back; history and audit are written", async () => {
    const ids = await openIds();
    const before = await firstPage();
    await snoozeExceptions(t.db, org.ctx.accountant, { ids, until: "2026-04-20", note: "Waiting for the bank" }, { today: TODAY });
    const after = await firstPage();
    expect(after.counts.open).toBe(before.counts.open - 3);
    expect(after.counts.snoozed).toBe(before.counts.snoozed + 3);
    const snoozed = await allPages({ status: "snoozed" });
    expect(snoozed).toEqual(expect.arrayContaining(ids));
    const events = await rowsInOrg<{ action: string; actor_label: string }>(t.db, org, sql`select action, actor_label from exception_events where exception_id = ${ids[0]} order by id`);
    expect(events).toEqual([{ action: "raised", actor_label: org.system.actorLabel }, { action: "snoozed", actor_label: org.ctx.accountant.actorLabel }]);
    const audit = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from audit_log where action = 'exception.snoozed'`);
    expect(audit[0].n).toBe(3);
    await wakeExceptions(t.db, org.ctx.accountant, { ids });
    expect((await firstPage()).counts.open).toBe(before.counts.open);
  });

  it("a snooze ends at 00:00 UTC of its day, and the hourly wake brings it back then (not at the nightly sweep)", async () => {
    const [ended, running] = await openIds(org, 2);
    const today = todayUtc();
    // Snoozed yesterday until today: its time came at midnight. Snoozed today until tomorrow: still asleep.
    await snoozeExceptions(t.db, org.ctx.accountant, { ids: [ended], until: today }, { today: addDays(today, -1) });
    await snoozeExceptions(t.db, org.ctx.accountant, { ids: [running], until: addDays(today, 1) }, { today });
    const until = async (id: string) => (await rowsInOrg<{ status: string; until: string | null }>(t.db, org, sql`select status, to_char(snoozed_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as until from exceptions where id = ${id}`))[0];
    expect(await until(ended)).toEqual({ status: "snoozed", until: `${today}T00:00` });

    const outcome = await wakeSnoozesEverywhere(t.db, { log: { info: () => {}, error: () => {} } });
    expect(outcome.failures).toEqual([]);
    expect(outcome.woke).toBeGreaterThanOrEqual(1);
    expect(await until(ended)).toEqual({ status: "open", until: null });
    expect(await until(running)).toEqual({ status: "snoozed", until: `${addDays(today, 1)}T00:00` });
    const [woke] = await rowsInOrg<{ action: string; actor_label: string }>(t.db, org, sql`select action, actor_label from exception_events where exception_id = ${ended} order by id desc limit 1`);
    expect(woke).toEqual({ action: "woke", actor_label: "system:snooze-wake" });
    await wakeExceptions(t.db, org.ctx.accountant, { ids: [running] });
  });

  it("explains, refuses to explain twice, and reopens with a reason", async () => {
    const ids = await openIds();
    await explainExceptions(t.db, org.ctx.accountant, { ids, reasonCode: "timing_difference", note: "Clears in May" });
    const rows = await rowsInOrg<{ status: string; resolution: string; reason_code: string }>(t.db, org, sql`select status, resolution, reason_code from exceptions where id = any(${`{${ids.join(",")}}`}::uuid[])`);
    expect(rows.every((r) => r.status === "resolved" && r.resolution === "explained" && r.reason_code === "timing_difference")).toBe(true);
    // One resolved in the batch: the whole batch is refused, nothing changes.
    const mixed = [...ids.slice(0, 1), ...(await openIds(org, 2))];
    expect(await failureOf(() => explainExceptions(t.db, org.ctx.accountant, { ids: mixed, reasonCode: "immaterial" }))).toBe("conflict");
    expect(await failureOf(() => explainExceptions(t.db, org.ctx.accountant, { ids: mixed.slice(1), reasonCode: "other" }))).toBe("validation");
    await reopenExceptions(t.db, org.ctx.accountant, { ids: ids.slice(0, 1), reason: "Bank says it never cleared" });
    const [r] = await rowsInOrg<{ status: string; resolution: string | null }>(t.db, org, sql`select status, resolution from exceptions where id = ${ids[0]}`);
    expect(r).toEqual({ status: "open", resolution: null });
    const comments = await rowsInOrg<{ body: string }>(t.db, org, sql`select body from exception_comments where exception_id = ${ids[0]} order by id`);
    expect(comments.map((c) => c.body)).toEqual(["Snoozed until 2026-04-20: Waiting for the bank", "Reopened: Bank says it never cleared"]);
  });

  it("assigns only to members who can work exceptions", async () => {
    const ids = await openIds();
    await assignExceptions(t.db, org.ctx.admin, { ids, assigneeId: org.ctx.accountant.userId });
    expect(await failureOf(() => assignExceptions(t.db, org.ctx.admin, { ids, assigneeId: org.ctx.viewer.userId }))).toBe("validation");
    expect(await failureOf(() => assignExceptions(t.db, org.ctx.admin, { ids, assigneeId: other.ctx.accountant.userId }))).toBe("not_found");
  });

  it("viewers and approvers change nothing; another organisation's id is not found", async () => {
    const ids = await openIds();
    expect(await failureOf(() => snoozeExceptions(t.db, org.ctx.viewer, { ids, until: "2026-04-20" }, { today: TODAY }))).toBe("forbidden");
    expect(await failureOf(() => commentOnException(t.db, org.ctx.approver, { exceptionId: ids[0], body: "hi" }))).toBe("forbidden");
    const foreign = await openIds(other, 1);
    expect(await failureOf(() => explainExceptions(t.db, org.ctx.accountant, { ids: [...ids, ...foreign], reasonCode: "immaterial" }))).toBe("not_found");
    const still = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from exceptions where id = any(${`{${ids.join(",")}}`}::uuid[]) and status = 'open'`);
    expect(still[0].n).toBe(3);
    // Not even the owner connection can delete one.
    await expect(t.adminDb.execute(sql`delete from exceptions where id = ${ids[0]}`)).rejects.toThrow();
  });
});
