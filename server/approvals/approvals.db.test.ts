import { sql } from "drizzle-orm";
import { runExceptionSweepsJob } from "@/server/jobs/exception-sweeps-job";
import { beforeAll, describe, expect, test } from "vitest";
import { closePeriod, createTestOrg, failureOf, rowsInOrg, testDatabase, type TestOrg } from "@/test/db";
import { addTestMember, entryContent } from "@/test/approvals";
import { inOrg } from "@/server/db/tenant";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { saveDraft } from "@/server/ledger/drafts";
import { submitDraft, submitManualEntry, submitReversal } from "@/server/ledger/submit-entry";
import type { Ctx } from "@/server/tenancy/context";
import { approveRequest, rejectRequest, requestApproval, withdrawRequest } from "./requests";
import { countWaiting, getRequest, listRequests } from "./queries";

const t = await testDatabase({ max: 24 });

const submitEntry = (org: TestOrg, ctx: Ctx, amount: string, key: string, date?: string) =>
  requestApproval(t.db, ctx, { kind: "manual_journal", targetKey: `test:${key}`, content: entryContent(org, amount, date), reason: "Month-end accrual" });

const entriesByKey = (org: TestOrg, key: string) => rowsInOrg<{ id: string }>(t.db, org, sql`select id from journal_entries where idempotency_key = ${key}`);

describe("four-eyes on manual entries", () => {
  let org: TestOrg;
  let approver2: Ctx;
  beforeAll(async () => {
    org = await createTestOrg(t.db);
    approver2 = await addTestMember(t.db, org, "approver", "Second approver");
  });

  test("an adjustment of 12,000 needs two approvers; the second approval posts it in the same transaction", async () => {
    const r = await submitEntry(org, org.ctx.accountant, "12000.00", "twelve");
    expect(r.status).toBe("pending");
    if (r.status !== "pending") return;
    expect(r.policy.tier).toMatchObject({ minAmount: "10000", approvalsRequired: 2 });
    expect(await countWaiting(t.db, org.ctx.approver)).toBe(1);
    expect(await countWaiting(t.db, org.ctx.accountant)).toBe(0);

    // The maker cannot approve, whatever their role; an accountant or viewer cannot either.
    expect(await failureOf(() => approveRequest(t.db, org.ctx.accountant, { requestId: r.requestId, version: 1 }))).toBe("forbidden");
    expect(await failureOf(() => approveRequest(t.db, org.ctx.viewer, { requestId: r.requestId, version: 1 }))).toBe("forbidden");

    const first = await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1, comment: "Checked the invoice" });
    expect(first).toMatchObject({ status: "pending", approvals: 1, required: 2 });
    expect(await entriesByKey(org, `approval:${r.requestId}`)).toHaveLength(0);
    // The same approver twice is still one approver.
    expect(await failureOf(() => approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 }))).toBe("conflict");

    const second = await approveRequest(t.db, approver2, { requestId: r.requestId, version: 1 });
    expect(second.status).toBe("executed");
    const [entry] = await entriesByKey(org, `approval:${r.requestId}`);
    expect(entry.id).toBe(second.result!.entryId);
    const detail = await getRequest(t.db, org.ctx.viewer, r.requestId);
    expect(detail.status).toBe("executed");
    expect(detail.decisions.map((d) => d.decision)).toEqual(["approved", "approved"]);
    expect(detail.trail.map((a) => a.action)).toEqual(["approval.requested", "approval.approved", "approval.approved", "approval.executed"]);
    expect(detail.view.table?.rows).toHaveLength(2);
    expect(detail.outcome).toEqual({ text: `Journal entry ${second.result!.entryNumber} is posted.`, href: `/ledger/entries/${entry.id}` });
    expect(await failureOf(() => approveRequest(t.db, org.ctx.admin, { requestId: r.requestId, version: 1 }))).toBe("conflict");
  });

  test("the database refuses a self-approval, a forged maker and a decision by a member without the role", async () => {
    const r = await submitEntry(org, org.ctx.admin, "50.00", "self");
    if (r.status !== "pending") throw new Error("expected pending");
    const [q] = await rowsInOrg<{ content_hash: string }>(t.db, org, sql`select content_hash from approval_requests where id = ${r.requestId}`);
    const insert = (approver: Ctx, makerId: string, role: string) =>
      inOrg(t.db, approver, (tx) => tx.execute(sql`
        insert into approval_decisions (org_id, request_id, maker_id, approver_id, approver_label, approver_role, decision, request_version, content_hash)
        values (${org.orgId}, ${r.requestId}, ${makerId}, ${approver.userId}, 'x', ${role}, 'approved', 1, ${q.content_hash})`));
    // The admin made it: as approver of their own request the CHECK refuses.
    expect(await failureOf(() => insert(org.ctx.admin, org.ctx.admin.userId!, "admin"))).toBe("approval_decisions_not_maker");
    // Claiming another maker breaks the composite key to the request.
    expect(await failureOf(() => insert(org.ctx.admin, org.ctx.approver.userId!, "admin"))).toBe("approval_decisions_request_maker_fk");
    // An accountant who claims the approver role: the membership says otherwise.
    expect(await failureOf(() => insert(org.ctx.accountant, org.ctx.admin.userId!, "approver"))).toBe("approval_decisions_role");
    expect(await failureOf(() => insert(org.ctx.viewer, org.ctx.admin.userId!, "approver"))).toBe("approval_decisions_role");
    // Executing without the approvals is refused by the database too.
    expect(await failureOf(() => inOrg(t.db, org.ctx.admin, (tx) => tx.execute(sql`update approval_requests set status = 'executed' where id = ${r.requestId}`)))).toBe("approval_requests_enough_approvals");
    await withdrawRequest(t.db, org.ctx.admin, { requestId: r.requestId });
  });

  test("an edit after an approval voids it; approving the old version is refused", async () => {
    const r1 = await submitEntry(org, org.ctx.accountant, "20000.00", "edit");
    if (r1.status !== "pending") throw new Error("expected pending");
    await approveRequest(t.db, org.ctx.approver, { requestId: r1.requestId, version: 1 });
    const r2 = await submitEntry(org, org.ctx.accountant, "20500.00", "edit");
    expect(r2).toMatchObject({ status: "pending", requestId: r1.requestId, version: 2, replayed: false });
    const [{ live, voided }] = await rowsInOrg<{ live: number; voided: number }>(t.db, org, sql`
      select count(*) filter (where voided_at is null)::int as live, count(*) filter (where voided_at is not null)::int as voided from approval_decisions where request_id = ${r1.requestId}`);
    expect({ live, voided }).toEqual({ live: 0, voided: 1 });
    expect(await failureOf(() => approveRequest(t.db, approver2, { requestId: r1.requestId, version: 1 }))).toBe("conflict");
    // The approver who approved version 1 approves again; one more is needed.
    expect((await approveRequest(t.db, org.ctx.approver, { requestId: r1.requestId, version: 2 })).status).toBe("pending");
    expect((await approveRequest(t.db, approver2, { requestId: r1.requestId, version: 2 })).status).toBe("executed");
    const lines = await rowsInOrg<{ amount: string }>(t.db, org, sql`select l.amount::text from journal_lines l join journal_entries e on e.id = l.entry_id where e.idempotency_key = ${`approval:${r1.requestId}`} order by l.line_no`);
    expect(lines.map((l) => l.amount)).toEqual(["20500.0000", "-20500.0000"]);
    // Resubmitting the same content is a replay, not an edit.
    const r3 = await submitEntry(org, org.ctx.accountant, "1.00", "edit-replay");
    const r4 = await submitEntry(org, org.ctx.accountant, "1.00", "edit-replay");
    expect(r4).toMatchObject({ status: "pending", replayed: true, requestId: r3.requestId });
  });

  test("from 100,000 an admin must be among the approvers", async () => {
    const r = await submitEntry(org, org.ctx.accountant, "150000.00", "big");
    if (r.status !== "pending") throw new Error("expected pending");
    await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 });
    expect(await approveRequest(t.db, approver2, { requestId: r.requestId, version: 1 })).toMatchObject({ status: "pending", approvals: 2, adminMissing: true });
    expect((await approveRequest(t.db, org.ctx.admin, { requestId: r.requestId, version: 1 })).status).toBe("executed");
  });

  test("if the period closed meanwhile, the approval fails with the reason and nothing is recorded", async () => {
    const r = await submitEntry(org, org.ctx.accountant, "300.00", "closing", `${org.year}-02-10`);
    if (r.status !== "pending") throw new Error("expected pending");
    await closePeriod(t.db, org, `${org.year}-02`);
    let message = "";
    try {
      await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 });
    } catch (e) {
      message = (e as Error).message;
      expect((e as { code: string }).code).toBe("period_closed");
    }
    expect(message).toMatch(/^Not approved: the action can no longer run\. Period \d{4}-02 is closed/);
    const detail = await getRequest(t.db, org.ctx.approver, r.requestId);
    expect(detail.status).toBe("pending");
    expect(detail.decisions).toHaveLength(0);
    expect(detail.trail.map((a) => a.action)).toEqual(["approval.requested", "approval.execution_failed"]);
    expect(await entriesByKey(org, `approval:${r.requestId}`)).toHaveLength(0);
    // And a new submission into the closed period is refused at once.
    expect(await failureOf(() => submitEntry(org, org.ctx.accountant, "300.00", "closing-2", `${org.year}-02-11`))).toBe("period_closed");
  });

  test("twenty approvers clicking at once produce one execution", async () => {
    const approvers = await Promise.all(Array.from({ length: 20 }, (_, i) => addTestMember(t.db, org, i % 5 === 0 ? "admin" : "approver", `Racer ${i}`)));
    for (const amount of ["500.00", "15000.00"]) {
      const r = await submitEntry(org, org.ctx.accountant, amount, `race-${amount}`);
      if (r.status !== "pending") throw new Error("expected pending");
      const outcomes = await Promise.allSettled(approvers.map((a) => approveRequest(t.db, a, { requestId: r.requestId, version: 1 })));
      const executed = outcomes.filter((o) => o.status === "fulfilled" && o.value.status === "executed");
      const refused = outcomes.filter((o) => o.status === "rejected");
      expect(executed).toHaveLength(1);
      expect(refused.every((o) => (o as PromiseRejectedResult).reason.code === "conflict")).toBe(true);
      expect(await entriesByKey(org, `approval:${r.requestId}`)).toHaveLength(1);
      const [{ n }] = await rowsInOrg<{ n: number }>(t.db, org, sql`select count(*)::int as n from approval_decisions where request_id = ${r.requestId} and voided_at is null`);
      expect(n).toBe(amount === "500.00" ? 1 : 2);
    }
  });

  test("an expired request cannot be approved and stops waiting", async () => {
    const r = await submitEntry(org, org.ctx.accountant, "75.00", "expire");
    if (r.status !== "pending") throw new Error("expected pending");
    await t.adminDb.execute(sql`update approval_requests set expires_at = now() - interval '1 minute' where id = ${r.requestId}`);
    expect(await failureOf(() => approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 }))).toBe("expired");
    expect((await getRequest(t.db, org.ctx.approver, r.requestId)).status).toBe("expired");
  });

  test("the daily sweep expires an overdue request that nobody opens", async () => {
    const r = await submitEntry(org, org.ctx.accountant, "76.00", "expire-by-sweep");
    if (r.status !== "pending") throw new Error("expected pending");
    await t.adminDb.execute(sql`update approval_requests set expires_at = now() - interval '1 minute' where id = ${r.requestId}`);
    const job = await runExceptionSweepsJob(t.db, { orgId: org.orgId, today: new Date().toISOString().slice(0, 10) });
    expect(job.requestsExpired).toBe(1);
    const [row] = await rowsInOrg<{ status: string; audited: number }>(t.db, org, sql`
      select status, (select count(*)::int from audit_log a where a.entity_id = q.id::text and a.action = 'approval.expired') as audited
      from approval_requests q where id = ${r.requestId}`);
    expect(row).toEqual({ status: "expired", audited: 1 });
  });

  test("a rejection needs a comment and ends the request; the draft stays editable, an edited draft must be resubmitted", async () => {
    const { draftId } = await saveDraft(t.db, org.ctx.accountant, {
      entityId: org.entityId, entryDate: `${org.year}-04-01`, description: "Prepaid rent",
      lines: [{ accountId: org.accounts["6000"], debit: "900" }, { accountId: org.accounts["1000"], credit: "900" }],
    });
    const r = await submitDraft(t.db, org.ctx.accountant, { draftId });
    if (r.status !== "pending") throw new Error("expected pending");
    expect(await failureOf(() => rejectRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 }))).toBe("validation");
    await rejectRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1, comment: "Wrong account" });
    expect((await getRequest(t.db, org.ctx.accountant, r.requestId)).status).toBe("rejected");

    const again = await submitDraft(t.db, org.ctx.accountant, { draftId });
    if (again.status !== "pending") throw new Error("expected pending");
    expect(again.requestId).not.toBe(r.requestId);
    // Edited after submission: the approval cannot post what the draft no longer says.
    await saveDraft(t.db, org.ctx.accountant, { draftId, entityId: org.entityId, entryDate: `${org.year}-04-01`, description: "Prepaid rent (April)", lines: [{ accountId: org.accounts["6000"], debit: "900" }, { accountId: org.accounts["1000"], credit: "900" }] });
    expect(await failureOf(() => approveRequest(t.db, org.ctx.approver, { requestId: again.requestId, version: 1 }))).toBe("conflict");
    const resubmitted = await submitDraft(t.db, org.ctx.accountant, { draftId });
    expect(resubmitted).toMatchObject({ status: "pending", requestId: again.requestId, version: 2 });
    const done = await approveRequest(t.db, org.ctx.approver, { requestId: again.requestId, version: 2 });
    expect(done.status).toBe("executed");
    const [d] = await rowsInOrg<{ status: string; posted_entry_id: string }>(t.db, org, sql`select status, posted_entry_id from journal_drafts where id = ${draftId}`);
    expect(d).toEqual({ status: "posted", posted_entry_id: done.result!.entryId });
  });

  test("a reversal goes through approval too", async () => {
    const posted = await postJournalEntry(t.db, org.system, { ...entryContent(org, "42.00", `${org.year}-05-05`), idempotencyKey: "to-reverse" });
    const r = await submitReversal(t.db, org.ctx.accountant, { entryId: posted.entryId, reversalDate: `${org.year}-05-06`, reason: "Duplicate booking" });
    if (r.status !== "pending") throw new Error("expected pending");
    const done = await approveRequest(t.db, org.ctx.approver, { requestId: r.requestId, version: 1 });
    const [rev] = await rowsInOrg<{ reverses_entry_id: string }>(t.db, org, sql`select reverses_entry_id from journal_entries where id = ${done.result!.entryId}`);
    expect(rev.reverses_entry_id).toBe(posted.entryId);
  });

  test("a policy change is itself approved; a tier of 0 approvals then posts small entries at once", async () => {
    const other = await createTestOrg(t.db);
    const change = await requestApproval(t.db, other.ctx.admin, {
      kind: "controls_change", targetKey: "policy:manual_journal", reason: "Small entries post directly",
      content: { policy: { kind: "manual_journal", tiers: [{ minAmount: "0", approvalsRequired: 0, adminRequired: false }, { minAmount: "1000", approvalsRequired: 1, adminRequired: false }] } },
    });
    if (change.status !== "pending") throw new Error("expected pending");
    expect(await failureOf(() => requestApproval(t.db, other.ctx.accountant, { kind: "controls_change", targetKey: "x", reason: "sneaky", content: { settings: { requestTtlHours: 1, closedPeriodPostings: "refuse", closedPeriodImports: "flag" } } }))).toBe("forbidden");
    await approveRequest(t.db, other.ctx.approver, { requestId: change.requestId, version: 1 });
    const small = await submitManualEntry(t.db, other.ctx.accountant, { ...formOf(other, "999.99"), idempotencyKey: "small-entry" });
    expect(small.status).toBe("executed");
    const large = await submitManualEntry(t.db, other.ctx.accountant, { ...formOf(other, "1000.00"), idempotencyKey: "large-entry" });
    expect(large.status).toBe("pending");
    expect((await listRequests(t.db, other.ctx.approver, { box: "waiting" })).map((q) => q.id)).toEqual([large.requestId]);
    expect((await listRequests(t.db, other.ctx.accountant, { box: "submitted" })).map((q) => q.id)).toEqual([large.requestId]);
  });

  test("requests of another organisation are not found", async () => {
    const other = await createTestOrg(t.db);
    const r = await submitEntry(org, org.ctx.accountant, "10.00", "tenant");
    if (r.status !== "pending") throw new Error("expected pending");
    expect(await failureOf(() => approveRequest(t.db, other.ctx.approver, { requestId: r.requestId, version: 1 }))).toBe("not_found");
    expect(await failureOf(() => getRequest(t.db, other.ctx.admin, r.requestId))).toBe("not_found");
  });
});

function formOf(org: TestOrg, amount: string) {
  return { entityId: org.entityId, entryDate: `${org.year}-03-01`, description: "Bank fee", lines: [{ accountId: org.accounts["6000"], debit: amount }, { accountId: org.accounts["1000"], credit: amount }] };
}
