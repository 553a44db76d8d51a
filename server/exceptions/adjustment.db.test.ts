import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { inOrg } from "@/server/db/tenant";
import { approveRequest } from "@/server/approvals/requests";
import { runMatching } from "@/server/matching/run-matching";
import { acceptException } from "./accept";
import { draftAdjustment } from "./adjustment";
import { getException, listFreeRecords } from "./detail";
import { listExceptionQueue, queueFilters } from "./queue";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

const MARCH = { from: "2026-03-01", to: "2026-03-31" };
let org: TestOrg;
let other: TestOrg;
let f: ReconciliationFixture;
const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, ...MARCH, trigger: "manual" }, { today: "2026-04-10" });
const exceptionOf = async (where: string) => (await rowsInOrg<{ id: string; status: string; resolution: string | null }>(t.db, org, sql`select id, status, resolution from exceptions where ${sql.raw(where)} order by raised_at desc limit 1`))[0];

beforeAll(async () => {
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db, { name: "Other" });
  f = await seedReconciliation(t.db, org);
  // Every proposal waits for a person, so Delta Freight's 1.50-short receipt is a suggestion with a difference.
  await inOrg(t.db, org.system, (tx) => tx.execute(sql`
    insert into matching_settings (org_id, source_id, version, settings) values (${org.orgId}, ${f.sourceId}, 1, ${JSON.stringify({ thresholds: { auto: 1, suggest: 0.5 } })}::jsonb)`));
  await run();
});

describe("writing off an exception", () => {
  it("needs the policy's write-off account, then drafts an entry for approval and resolves the exception when it is approved", async () => {
    const fee = await exceptionOf("kind = 'unmatched_transaction' and amount = -23.10");
    expect(fee.status).toBe("open");
    expect(await failureOf(() => draftAdjustment(t.db, org.ctx.accountant, { exceptionId: fee.id, resolution: "written_off", note: "Card fees" }))).toBe("validation");
    await inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`update exception_policies set write_off_account_id = ${org.accounts["6000"]} where org_id = ${org.orgId}`));
    expect(await failureOf(() => draftAdjustment(t.db, org.ctx.viewer, { exceptionId: fee.id, resolution: "written_off", note: "Card fees" }))).toBe("forbidden");

    const submitted = await draftAdjustment(t.db, org.ctx.accountant, { exceptionId: fee.id, resolution: "written_off", note: "Card fees" });
    expect(submitted.status).toBe("pending");
    const waiting = await getException(t.db, org.ctx.viewer, fee.id);
    expect(waiting.status).toBe("open");
    expect(waiting.pendingApproval?.summary).toMatch(/^Written off: /);
    if (submitted.status !== "pending") throw new Error("expected a pending request");
    // The queue marks it as waiting on that request too.
    const queued = await listExceptionQueue(t.db, org.ctx.viewer, queueFilters.parse({ q: "deutsche bank" }));
    expect(queued.rows.map((r) => [r.id, r.pendingApproval])).toEqual([[fee.id, submitted.requestId]]);
    await approveRequest(t.db, org.ctx.approver, { requestId: submitted.requestId, version: 1 });

    const done = await getException(t.db, org.ctx.viewer, fee.id);
    expect(done).toMatchObject({ status: "resolved", resolution: "written_off" });
    const lines = await rowsInOrg<{ account_id: string; amount: string }>(t.db, org, sql`
      select l.account_id, l.amount::text from journal_lines l where l.entry_id = ${done.details.entryId as string} order by l.line_no`);
    expect(lines).toEqual([{ account_id: org.accounts["1000"], amount: "-23.1000" }, { account_id: org.accounts["6000"], amount: "23.1000" }]);

    // The next run pairs the bank's fee with its new ledger line; nothing is raised about either.
    await run();
    const again = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from exceptions where subject_key = ${`ct:${(await getException(t.db, org.ctx.viewer, fee.id)).subject!.key.slice(3)}`} and status <> 'resolved'`);
    expect(again[0].n).toBe(0);
  });
});

describe("accepting and matching by hand from an exception", () => {
  it("offers free records on both sides near the date, and refuses another organisation's exception", async () => {
    const nordlicht = await exceptionOf("kind = 'unmatched_transaction' and amount = 11800");
    const same = await listFreeRecords(t.db, org.ctx.viewer, { exceptionId: nordlicht.id, side: "same" });
    const otherSide = await listFreeRecords(t.db, org.ctx.viewer, { exceptionId: nordlicht.id, side: "other" });
    expect(same.records.every((r) => r.key.startsWith("ct:"))).toBe(true);
    expect(otherSide.records.every((r) => r.key.startsWith("jl:"))).toBe(true);
    expect(await failureOf(() => getException(t.db, other.ctx.viewer, nordlicht.id))).toBe("not_found");
    expect(await failureOf(() => acceptException(t.db, org.ctx.accountant, nordlicht.id))).toBe("validation");
  });

  it("accepting a mismatch confirms its suggestion and closes it", async () => {
    const mismatch = await exceptionOf("kind = 'amount_mismatch' and status = 'open'");
    if (!mismatch) return expect.fail("the fixture should produce an amount mismatch (Delta Freight 978.50 vs 980.00)");
    await acceptException(t.db, org.ctx.accountant, mismatch.id);
    const after = await getException(t.db, org.ctx.viewer, mismatch.id);
    expect(after).toMatchObject({ status: "resolved", resolution: "matched" });
    expect(after.match?.status).toBe("confirmed");
    const feedback = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from match_feedback where match_id = ${after.match!.id} and decision = 'accept'`);
    expect(feedback[0].n).toBe(1);
  });
});
