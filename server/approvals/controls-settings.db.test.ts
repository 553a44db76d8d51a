import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, test } from "vitest";
import { createTestOrg, failureOf, rowsInOrg, testDatabase, type TestOrg } from "@/test/db";
import { addTestMember } from "@/test/approvals";
import { inOrg } from "@/server/db/tenant";
import { AppError } from "@/server/errors";
import { raiseExceptions, type ExceptionCandidate } from "@/server/exceptions/raise-exceptions";
import type { ExceptionPolicy } from "@/server/exceptions/exception-policy";
import type { Ctx } from "@/server/tenancy/context";
import { loadOrganisationControls, proposeControlsChange } from "./controls-settings";
import { getRequest } from "./queries";
import { approveRequest, requestApproval } from "./requests";

const t = await testDatabase({ max: 8 });

/** The organisation's day (UTC), as the re-rating counts age from it: exceptions dated today are 0 days old. */
const TODAY = new Date().toISOString().slice(0, 10);

/** The defaults every organisation starts with (0011_exceptions_workspace). */
const DEFAULT_POLICY: ExceptionPolicy = {
  amountMedium: "1000", amountHigh: "10000", ageStepDays: [30, 60], slaDaysCritical: 1, slaDaysHigh: 2, slaDaysMedium: 5, slaDaysLow: 10, staleSourceDays: 3, writeOffAccountId: null,
};

type Exc = { id: string; subject_key: string; status: string; severity: string; due_days: number };

const exceptionsOf = (org: TestOrg) =>
  rowsInOrg<Exc>(t.db, org, sql`
    select id, subject_key, status, severity, extract(epoch from due_at - raised_at)::int / 86400 as due_days from exceptions order by subject_key`);
const bySubject = async (org: TestOrg) => Object.fromEntries((await exceptionsOf(org)).map((e) => [e.subject_key, e]));
const policyRow = (org: TestOrg) =>
  rowsInOrg<{ amount_medium: string; amount_high: string; age_step_days: number[]; sla_days_high: number; sla_days_medium: number; write_off_account_id: string | null; version: number; updated_by: string | null }>(
    t.db, org, sql`select amount_medium::text, amount_high::text, age_step_days, sla_days_high, sla_days_medium, write_off_account_id, version, updated_by from exception_policies`);
const requestsOf = (org: TestOrg) => rowsInOrg<{ id: string }>(t.db, org, sql`select id from approval_requests where kind = 'controls_change'`);

const candidate = (subject: string, amount: string): ExceptionCandidate => ({
  kind: "unmatched_transaction", subjectKey: subject, sourceId: null, amount, currency: "EUR", occurredOn: TODAY, title: `Unmatched ${subject}`, details: {},
});

/** Exceptions under the default policy, all dated today (no age step passed). */
async function seedExceptions(org: TestOrg) {
  await inOrg(t.db, org.system, async (tx) => {
    await raiseExceptions(tx, org.system, TODAY, [
      candidate("ct:a", "1500.00"), // medium by amount
      candidate("ct:b", "-300.00"), // low
      candidate("ct:c", "100.00"), // low
      candidate("ct:d", "5000.00"), // medium, to be snoozed
      candidate("ct:e", "5000.00"), // medium, to be resolved
    ]);
    await tx.execute(sql`update exceptions set status = 'snoozed', snoozed_until = now() + interval '3 days' where subject_key = 'ct:d'`);
    await tx.execute(sql`update exceptions set status = 'resolved', resolution = 'explained', resolved_at = now() where subject_key = 'ct:e'`);
    // Raised 'high' on purpose whatever its amount (a statement that does not add up): the policy does not rate it.
    await tx.execute(sql`insert into exceptions (org_id, kind, severity, title, subject_key, amount, currency) values (${org.orgId}, 'statement_unbalanced', 'high', 'Statement off by 50', 'statement:f', 50, 'EUR')`);
  });
}

const proposePolicy = (ctx: Ctx, policy: Partial<ExceptionPolicy>, why = "Lower thresholds after the audit letter") =>
  proposeControlsChange(t.db, ctx, { target: "exception_policy", exceptionPolicy: { ...DEFAULT_POLICY, ...policy }, reason: why });

describe("the exception policy changes through four-eyes", () => {
  let org: TestOrg;
  let bystander: TestOrg;
  beforeAll(async () => {
    [org, bystander] = [await createTestOrg(t.db), await createTestOrg(t.db)];
    await seedExceptions(org);
    await seedExceptions(bystander);
  });

  test("an admin proposes; nothing changes until another person approves; then the policy and the open exceptions follow it", async () => {
    const before = await bySubject(org);
    expect(Object.fromEntries(Object.values(before).map((e) => [e.subject_key, [e.status, e.severity, e.due_days]]))).toEqual({
      "ct:a": ["open", "medium", 5], "ct:b": ["open", "low", 10], "ct:c": ["open", "low", 10], "ct:d": ["snoozed", "medium", 5],
      "ct:e": ["resolved", "medium", 5], "statement:f": ["open", "high", 2],
    });

    const proposal = await proposePolicy(org.ctx.admin, { amountMedium: "200", amountHigh: "1200.50", slaDaysHigh: 1, slaDaysMedium: 3, writeOffAccountId: org.accounts["6000"] });
    expect(proposal.status).toBe("pending");
    if (proposal.status !== "pending") return;
    // Proposed, not applied: the row, the exceptions and their counts are as they were.
    expect((await policyRow(org))[0]).toMatchObject({ amount_medium: "1000.0000", version: 1 });
    expect(await exceptionsOf(org)).toEqual(Object.values(before));

    // The approver sees before → after for each changed field, the account by its name.
    const detail = await getRequest(t.db, org.ctx.approver, proposal.requestId);
    expect(detail.view.diff).toEqual([
      { field: "Exception policy: Medium from amount", before: "1000", after: "200" },
      { field: "Exception policy: High from amount", before: "10000", after: "1200.5" },
      { field: "Exception policy: SLA days, high", before: "2", after: "1" },
      { field: "Exception policy: SLA days, medium", before: "5", after: "3" },
      { field: "Exception policy: Write-off account", before: "none", after: "6000 Expenses (Test GmbH)" },
    ]);
    expect(detail.summary).toContain("Medium from amount: 1000 → 200");

    // The maker is an admin, and still cannot approve their own proposal.
    expect(await failureOf(() => approveRequest(t.db, org.ctx.admin, { requestId: proposal.requestId, version: 1 }))).toBe("forbidden");
    expect((await policyRow(org))[0].version).toBe(1);

    const done = await approveRequest(t.db, org.ctx.approver, { requestId: proposal.requestId, version: 1, comment: "Agreed with the auditors" });
    expect(done.status).toBe("executed");
    expect(done.result).toMatchObject({ exceptionPolicyVersion: 2, severityChanged: 3, dueChanged: 4 });

    const [row] = await policyRow(org);
    expect(row).toEqual({
      amount_medium: "200.0000", amount_high: "1200.5000", age_step_days: [30, 60], sla_days_high: 1, sla_days_medium: 3,
      write_off_account_id: org.accounts["6000"], version: 2, updated_by: org.ctx.admin.userId,
    });

    const after = await bySubject(org);
    // 1,500 now passes the high threshold of 1,200.50; 300 the medium one of 200; 100 is still low.
    expect([after["ct:a"].severity, after["ct:a"].due_days]).toEqual(["high", 1]);
    expect([after["ct:b"].severity, after["ct:b"].due_days]).toEqual(["medium", 3]);
    expect(after["ct:c"]).toEqual(before["ct:c"]);
    // Snoozed is still unresolved: re-rated, and still snoozed.
    expect([after["ct:d"].status, after["ct:d"].severity, after["ct:d"].due_days]).toEqual(["snoozed", "high", 1]);
    // Resolved exceptions keep what they were resolved under.
    expect(after["ct:e"]).toEqual(before["ct:e"]);
    // Not a kind the policy rates: still high, but its deadline follows the new SLA for high.
    expect([after["statement:f"].severity, after["statement:f"].due_days]).toEqual(["high", 1]);
    // Another organisation's exceptions and policy are untouched.
    expect(await exceptionsOf(bystander)).toEqual(Object.values(await bySubject(bystander)));
    expect((await bySubject(bystander))["ct:a"]).toMatchObject({ severity: "medium", due_days: 5 });
    expect((await policyRow(bystander))[0].version).toBe(1);

    // The history names the change and who approved it, as for any other change of severity.
    const events = await rowsInOrg<{ subject_key: string; action: string; actor_label: string; actor_user_id: string; data: Record<string, unknown> }>(t.db, org, sql`
      select e.subject_key, v.action, v.actor_label, v.actor_user_id, v.data from exception_events v join exceptions e on e.id = v.exception_id
      where v.action = 'severity_changed' order by e.subject_key`);
    expect(events.map((e) => [e.subject_key, e.data.severity])).toEqual([
      ["ct:a", { from: "medium", to: "high" }], ["ct:b", { from: "low", to: "medium" }], ["ct:d", { from: "medium", to: "high" }],
    ]);
    for (const e of events) {
      expect(e.actor_user_id).toBe(org.ctx.approver.userId);
      expect(e.actor_label).toBe(`Test approver (approval ${proposal.requestId.slice(0, 8)})`);
    }

    // exception_counts, kept by the triggers, still agree with the rows.
    const counts = await rowsInOrg<{ status: string; severity: string; n: number }>(t.db, org, sql`
      select status, severity, sum(n)::int as n from exception_counts group by 1, 2 having sum(n) <> 0 order by 1, 2`);
    const actual = await rowsInOrg<{ status: string; severity: string; n: number }>(t.db, org, sql`
      select status, severity, count(*)::int as n from exceptions group by 1, 2 order by 1, 2`);
    expect(counts).toEqual(actual);

    // One audit row for the change itself, with before → after.
    const audit = await rowsInOrg<{ action: string; data: { exceptionPolicy: { before: ExceptionPolicy; after: ExceptionPolicy }; exceptionsRerated: { severityChanged: number } } }>(t.db, org, sql`
      select action, data from audit_log where entity_id = ${proposal.requestId} and action = 'controls.changed'`);
    expect(audit).toHaveLength(1);
    expect([audit[0].data.exceptionPolicy.before.amountHigh, audit[0].data.exceptionPolicy.after.amountHigh]).toEqual(["10000", "1200.5"]);
    expect(audit[0].data.exceptionsRerated.severityChanged).toBe(3);
    // The request still shows what it changed once it has run (the before is part of what was approved).
    expect((await getRequest(t.db, org.ctx.viewer, proposal.requestId)).view.diff).toEqual(detail.view.diff);

    // The settings screen reads the new policy, with the account named.
    const controls = await loadOrganisationControls(t.db, org.ctx.viewer);
    expect(controls.exceptionPolicy).toMatchObject({ amountMedium: "200", amountHigh: "1200.5", version: 2, updatedBy: "Test admin", writeOffAccount: "6000 Expenses (Test GmbH)" });
    expect(controls.pending).toEqual([]);
    expect(controls.canPropose).toBe(false);
    // The form offers only where a write-off can go: profit and loss.
    expect(controls.writeOffAccounts.map((a) => a.label)).toEqual(["4000 Revenue (Test GmbH)", "6000 Expenses (Test GmbH)"]);
  });

  test("a second admin may approve; a proposal that changes nothing is refused", async () => {
    const other = await createTestOrg(t.db);
    const admin2 = await addTestMember(t.db, other, "admin", "Second admin");
    expect(await failureOf(() => proposePolicy(other.ctx.admin, {}))).toBe("validation");
    const p = await proposePolicy(other.ctx.admin, { staleSourceDays: 5, ageStepDays: [14, 45, 90] });
    if (p.status !== "pending") throw new Error("expected pending");
    expect(await failureOf(() => approveRequest(t.db, other.ctx.admin, { requestId: p.requestId, version: 1 }))).toBe("forbidden");
    expect((await approveRequest(t.db, admin2, { requestId: p.requestId, version: 1 })).status).toBe("executed");
    expect((await policyRow(other))[0]).toMatchObject({ age_step_days: [14, 45, 90], version: 2 });
  });

  test("only admins propose: an accountant, an approver and a viewer are refused, and nothing is written", async () => {
    const other = await createTestOrg(t.db);
    for (const role of ["accountant", "approver", "viewer"] as const) {
      expect(await failureOf(() => proposePolicy(other.ctx[role], { amountMedium: "1" }))).toBe("forbidden");
      // The service behind every path refuses too, not only this one.
      expect(await failureOf(() => requestApproval(t.db, other.ctx[role], {
        kind: "controls_change", targetKey: "exception_policy", reason: "sneaky", content: { exceptionPolicy: { before: DEFAULT_POLICY, after: { ...DEFAULT_POLICY, amountMedium: "1" } } },
      }))).toBe("forbidden");
    }
    expect(await requestsOf(other)).toEqual([]);
    expect((await loadOrganisationControls(t.db, other.ctx.admin)).canPropose).toBe(true);
  });

  test("a write-off account of another organisation, an unknown one, a control, balance-sheet or inactive account is refused with a clear message, and nothing is written", async () => {
    const [mine, theirs] = [await createTestOrg(t.db), await createTestOrg(t.db)];
    const refusal = async (accountId: string) => {
      try {
        await proposePolicy(mine.ctx.admin, { writeOffAccountId: accountId });
      } catch (e) {
        if (e instanceof AppError) return { code: e.code, message: e.message, field: e.fieldErrors?.["exceptionPolicy.writeOffAccountId"] };
        throw e;
      }
      throw new Error("expected a refusal");
    };
    const crossTenant = await refusal(theirs.accounts["6000"]);
    expect(crossTenant).toEqual({ code: "validation", message: "The write-off account is not an account of this organisation.", field: ["The write-off account is not an account of this organisation."] });
    // Another tenant's id reads exactly as an id nobody has.
    expect(await refusal(crypto.randomUUID())).toEqual(crossTenant);

    await inOrg(t.db, mine.system, (tx) => tx.execute(sql`update accounts set is_control = true where id = ${mine.accounts["1100"]}`));
    expect((await refusal(mine.accounts["1100"])).message).toMatch(/^Account 1100 is a control account/);
    expect((await refusal(mine.accounts["1000"])).message).toBe("Account 1000 is an asset account; write-offs go to an income or expense account.");
    await inOrg(t.db, mine.system, (tx) => tx.execute(sql`update accounts set is_active = false where id = ${mine.accounts["4000"]}`));
    expect((await refusal(mine.accounts["4000"])).message).toBe("Account 4000 is inactive; write-offs need an active account.");

    expect(await requestsOf(mine)).toEqual([]);
    expect((await policyRow(mine))[0]).toMatchObject({ write_off_account_id: null, version: 1 });
    // And the database's own key refuses another tenant's account, whoever writes the row.
    expect(await failureOf(() => inOrg(t.db, mine.system, (tx) => tx.execute(sql`update exception_policies set write_off_account_id = ${theirs.accounts["6000"]}`))))
      .toBe("exception_policies_write_off_account_fk");
  });

  test("an invalid policy is refused with a message for the field: medium above high, floats, negative SLAs, steps out of order", async () => {
    const other = await createTestOrg(t.db);
    const fieldErrorsOf = async (policy: Record<string, unknown>) => {
      try {
        await proposeControlsChange(t.db, other.ctx.admin, { target: "exception_policy", exceptionPolicy: { ...DEFAULT_POLICY, ...policy } as ExceptionPolicy, reason: "Try" });
      } catch (e) {
        if (e instanceof AppError && e.code === "validation") return { message: e.message, fields: e.fieldErrors };
        throw e;
      }
      throw new Error("expected a refusal");
    };
    const mediumAboveHigh = await fieldErrorsOf({ amountMedium: "20000", amountHigh: "10000" });
    expect(mediumAboveHigh.message).toBe("exceptionPolicy.amountHigh: The high threshold cannot be below the medium one");
    expect(mediumAboveHigh.fields).toEqual({ "exceptionPolicy.amountHigh": ["The high threshold cannot be below the medium one"] });
    // Amounts travel as decimal strings; a JS number is refused, not rounded.
    expect(Object.keys((await fieldErrorsOf({ amountMedium: 1000.1 })).fields!)).toEqual(["exceptionPolicy.amountMedium"]);
    expect(Object.keys((await fieldErrorsOf({ amountHigh: "12.34567" })).fields!)).toEqual(["exceptionPolicy.amountHigh"]);
    expect((await fieldErrorsOf({ slaDaysLow: -1 })).fields).toEqual({ "exceptionPolicy.slaDaysLow": ["Not negative"] });
    expect((await fieldErrorsOf({ staleSourceDays: 0 })).fields).toEqual({ "exceptionPolicy.staleSourceDays": ["At least 1 day"] });
    expect((await fieldErrorsOf({ ageStepDays: [60, 30] })).fields).toEqual({ "exceptionPolicy.ageStepDays.1": ["Each age step must be later than the one before"] });
    expect((await fieldErrorsOf({ ageStepDays: [0] })).fields).toEqual({ "exceptionPolicy.ageStepDays.0": ["At least 1 day"] });
    expect(await requestsOf(other)).toEqual([]);
    expect((await policyRow(other))[0].version).toBe(1);
  });

  test("if the write-off account is deactivated while the request waits, the approval fails with the reason and nothing changes", async () => {
    const other = await createTestOrg(t.db);
    const p = await proposePolicy(other.ctx.admin, { writeOffAccountId: other.accounts["6000"] });
    if (p.status !== "pending") throw new Error("expected pending");
    await inOrg(t.db, other.system, (tx) => tx.execute(sql`update accounts set is_active = false where id = ${other.accounts["6000"]}`));
    const err = await approveRequest(t.db, other.ctx.approver, { requestId: p.requestId, version: 1 }).catch((e: AppError) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe("Not approved: the action can no longer run. Account 6000 is inactive; write-offs need an active account.");
    expect((await policyRow(other))[0]).toMatchObject({ write_off_account_id: null, version: 1 });
    expect((await getRequest(t.db, other.ctx.admin, p.requestId)).status).toBe("pending");
  });

  test("a proposal applies only to the policy it was made against: a change in between fails the approval, and a forged before is refused", async () => {
    const other = await createTestOrg(t.db);
    const p = await proposePolicy(other.ctx.admin, { amountHigh: "20000" });
    if (p.status !== "pending") throw new Error("expected pending");
    // Someone with database access changes the SLA meanwhile: approving must not undo it.
    await inOrg(t.db, other.system, (tx) => tx.execute(sql`update exception_policies set sla_days_low = 20, version = version + 1`));
    const err = await approveRequest(t.db, other.ctx.approver, { requestId: p.requestId, version: 1 }).catch((e: AppError) => e);
    expect((err as AppError).message).toBe("Not approved: the action can no longer run. The exception policy changed after this proposal was made (SLA days, low; now version 2); propose the change again from the current policy.");
    expect((await policyRow(other))[0]).toMatchObject({ amount_high: "10000.0000", version: 2 });

    // Content sent past the form, claiming an old policy as its before, is refused at submission.
    const forged = await requestApproval(t.db, other.ctx.admin, {
      kind: "controls_change", targetKey: "exception_policy:forged", reason: "Past the form", content: { exceptionPolicy: { before: DEFAULT_POLICY, after: { ...DEFAULT_POLICY, amountHigh: "30000" } } },
    }).catch((e: AppError) => e);
    expect(forged).toMatchObject({ code: "conflict" });
    expect((await requestsOf(other)).map((r) => r.id)).toEqual([p.requestId]);
  });
});

describe("approval tiers and control settings from the same screen", () => {
  test("tiers for a kind are proposed and approved; controls changes keep at least one approver; pending proposals are listed", async () => {
    const org = await createTestOrg(t.db);
    const before = await loadOrganisationControls(t.db, org.ctx.accountant);
    expect(before.tiers.find((k) => k.kind === "manual_journal")).toMatchObject({ source: "default", tiers: [{ minAmount: "0" }, { minAmount: "10000" }, { minAmount: "100000" }] });

    expect(await failureOf(() => proposeControlsChange(t.db, org.ctx.admin, {
      target: "approval_tiers", reason: "Let admins change controls alone", policy: { kind: "controls_change", tiers: [{ minAmount: "0", approvalsRequired: 0, adminRequired: false }] },
    }))).toBe("validation");

    const tiers = await proposeControlsChange(t.db, org.ctx.admin, {
      target: "approval_tiers", reason: "Higher second-approver threshold", policy: { kind: "manual_journal", tiers: [{ minAmount: "0", approvalsRequired: 1, adminRequired: false }, { minAmount: "25000.00", approvalsRequired: 2, adminRequired: true }] },
    });
    const settings = await proposeControlsChange(t.db, org.ctx.admin, {
      target: "control_settings", reason: "A week is enough", settings: { requestTtlHours: 168, closedPeriodPostings: "refuse", closedPeriodImports: "flag" },
    });
    if (tiers.status !== "pending" || settings.status !== "pending") throw new Error("expected pending");
    const pending = (await loadOrganisationControls(t.db, org.ctx.viewer)).pending;
    expect(pending.map((q) => [q.id, q.targetKey])).toEqual([[tiers.requestId, "policy:manual_journal"], [settings.requestId, "control_settings"]]);

    await approveRequest(t.db, org.ctx.approver, { requestId: tiers.requestId, version: 1 });
    await approveRequest(t.db, org.ctx.approver, { requestId: settings.requestId, version: 1 });
    const after = await loadOrganisationControls(t.db, org.ctx.viewer);
    expect(after.tiers.find((k) => k.kind === "manual_journal")).toMatchObject({
      source: "organisation", tiers: [{ minAmount: "0", approvalsRequired: 1 }, { minAmount: "25000", approvalsRequired: 2, adminRequired: true }],
    });
    expect(after.settings).toEqual({ requestTtlHours: 168, closedPeriodPostings: "refuse", closedPeriodImports: "flag" });
    expect(after.pending).toEqual([]);
  });
});
