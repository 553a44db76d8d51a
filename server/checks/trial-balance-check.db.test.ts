import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, rowsInOrg, testDatabase } from "@/test/db";
import { postJournalEntries } from "@/server/ledger/post-journal-entries";
import { systemCtx } from "@/server/tenancy/context";
import { createDispatcher } from "@/server/jobs/dispatch";
import { runNightlyTrialBalance } from "@/server/jobs/inline-scheduler";
import { listOrganisationIds } from "@/server/jobs/organisations";
import { listCheckRuns, runTrialBalanceCheck, type TrialBalanceCheckResult } from "./trial-balance-check";

const t = await testDatabase();
const silent = { info: () => {}, error: () => {} };

async function orgWithPostings() {
  const org = await createTestOrg(t.db);
  const [bank, revenue, expenses, payable] = ["1000", "4000", "6000", "2000"].map((c) => org.accounts[c]);
  await postJournalEntries(t.db, org.ctx.accountant, [
    { entityId: org.entityId, entryDate: "2026-03-10", description: "Invoice 1", idempotencyKey: "inv-1", lines: [{ accountId: bank, amount: "1200.10" }, { accountId: revenue, amount: "-1200.10" }] },
    { entityId: org.entityId, entryDate: "2026-03-20", description: "Bill 1", idempotencyKey: "bill-1", lines: [{ accountId: expenses, amount: "300.05" }, { accountId: payable, amount: "-300.05" }] },
    // After asOf: must not be counted.
    { entityId: org.entityId, entryDate: "2026-04-02", description: "Invoice 2", idempotencyKey: "inv-2", lines: [{ accountId: bank, amount: "50" }, { accountId: revenue, amount: "-50" }] },
  ]);
  return org;
}

async function auditFor(orgId: string, runId: string) {
  return t.adminDb.execute<{ action: string; actor_label: string; data: Record<string, unknown> }>(
    sql`select action, actor_label, data from audit_log where org_id = ${orgId} and entity_type = 'check_run' and entity_id = ${runId}`,
  );
}

describe("trial-balance check", () => {
  it("passes a balanced ledger, with per-entity figures up to asOf as decimal strings, one run row and one audit event", async () => {
    const org = await orgWithPostings();
    const run = await runTrialBalanceCheck(t.db, systemCtx(org.orgId, "nightly-trial-balance"), { asOf: "2026-03-31", trigger: "schedule" });

    expect(run).toMatchObject({ orgId: org.orgId, kind: "trial_balance", status: "passed", trigger: "schedule" });
    expect(run.result.entities).toEqual([
      {
        entityId: org.entityId, entityName: "Test GmbH", functionalCurrency: "EUR",
        debits: "1500.15", credits: "1500.15", difference: "0", lineCount: 4, entryCount: 2, unbalancedEntries: 0, passed: true,
      },
    ]);
    const [stored] = await listCheckRuns(t.db, org.ctx.viewer, { kind: "trial_balance" });
    expect(stored).toEqual(run);
    const audit = await auditFor(org.orgId, run.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "check.trial_balance.completed", actor_label: "system:nightly-trial-balance", data: { status: "passed", trigger: "schedule", asOf: "2026-03-31", failedEntities: [] } });
  });

  it("fails when an unbalanced entry got past the database trigger, and names the entity and the difference", async () => {
    const org = await orgWithPostings();
    const [bank, revenue] = [org.accounts["1000"], org.accounts["4000"]];
    // Tampering as the superuser with triggers off (session_replication_role = replica): the
    // write the balance trigger exists to refuse. The check must find it on its own.
    await t.adminClient.begin(async (s) => {
      await s`set local session_replication_role = replica`;
      const [e] = await s`insert into journal_entries (org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, posted_by_label)
        values (${org.orgId}, ${org.entityId}, 999, '2026-03-25', 'tampered', 'tampered-1', 'x', 'intruder') returning id`;
      await s`insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount) values
        (${org.orgId}, ${e.id}, 1, ${org.entityId}, ${bank}, '2026-03-25', 100.01, 'EUR', 1, 100.01),
        (${org.orgId}, ${e.id}, 2, ${org.entityId}, ${revenue}, '2026-03-25', -100, 'EUR', 1, -100)`;
    });

    const run = await runTrialBalanceCheck(t.db, org.ctx.accountant, { asOf: "2026-03-31", trigger: "manual" });

    expect(run.status).toBe("failed");
    expect(run.result.entities[0]).toMatchObject({ debits: "1600.16", credits: "1600.15", difference: "0.01", entryCount: 3, unbalancedEntries: 1, passed: false });
    const [audit] = await auditFor(org.orgId, run.id);
    expect(audit.data).toMatchObject({ status: "failed", failedEntities: [{ entityId: org.entityId, difference: "0.01", unbalancedEntries: 1 }] });
    // Before the tampered date the ledger still ties out.
    const earlier = await runTrialBalanceCheck(t.db, org.ctx.accountant, { asOf: "2026-03-24", trigger: "manual" });
    expect(earlier.status).toBe("passed");
  });

  it("is refused to a viewer and to bad input, and one organisation never sees another's runs", async () => {
    const [a, b] = [await orgWithPostings(), await orgWithPostings()];
    expect(await failureOf(() => runTrialBalanceCheck(t.db, a.ctx.viewer, { asOf: "2026-03-31", trigger: "manual" }))).toBe("forbidden");
    expect(await failureOf(() => runTrialBalanceCheck(t.db, a.ctx.admin, { asOf: "2026-02-30x", trigger: "manual" }))).toBe("validation");
    await runTrialBalanceCheck(t.db, a.ctx.admin, { asOf: "2026-03-31", trigger: "manual" });
    expect(await listCheckRuns(t.db, a.ctx.viewer, { kind: "trial_balance" })).toHaveLength(1);
    expect(await listCheckRuns(t.db, b.ctx.viewer, { kind: "trial_balance" })).toHaveLength(0);
    // RLS as well as the where clause: b's transaction sees none of a's rows.
    expect(await rowsInOrg(t.db, b, sql`select id from check_runs where org_id = ${a.orgId}`)).toHaveLength(0);
  });
});

describe("scheduling without Inngest", () => {
  it("lists every organisation's id to the app role, which cannot read the organisations table itself", async () => {
    const [a, b] = [await createTestOrg(t.db), await createTestOrg(t.db)];
    const ids = await listOrganisationIds(t.db);
    expect(ids).toEqual(expect.arrayContaining([a.orgId, b.orgId]));
    const direct = await t.db.execute(sql`select id from organisations`);
    expect(direct).toHaveLength(0);
  });

  it("runs a scheduled check for every organisation, and inline dispatch runs a manual one at once", async () => {
    const org = await orgWithPostings();
    const outcome = await runNightlyTrialBalance(t.db, { asOf: "2026-03-31", log: silent });
    const ids = await listOrganisationIds(t.db);
    expect(outcome.failures).toEqual([]);
    expect(outcome.runs.map((r) => r.orgId).sort()).toEqual([...ids].sort());
    expect(outcome.runs.find((r) => r.orgId === org.orgId)).toMatchObject({ status: "passed", asOf: "2026-03-31" });

    const requestedBy = org.ctx.accountant.userId!;
    const jobs = createDispatcher({ mode: "inline", db: () => t.db, log: silent, now: () => new Date("2026-04-02T09:00:00Z") });
    const dispatched = await jobs.dispatch({ name: "tieout/checks.trial-balance.requested", data: { orgId: org.orgId, requestedBy } });
    expect(dispatched).toMatchObject({ mode: "inline", runs: [{ orgId: org.orgId, status: "passed", asOf: "2026-04-02" }] });
    const runs = await listCheckRuns(t.db, org.ctx.viewer, { kind: "trial_balance" });
    expect(runs.map((r) => r.trigger)).toEqual(["manual", "schedule"]);
    expect((runs[0].result as TrialBalanceCheckResult).requestedBy).toBe(requestedBy);
    expect((runs[0].result as TrialBalanceCheckResult).entities[0].debits).toBe("1550.15");

    expect(await failureOf(() => jobs.dispatch({ name: "tieout/checks.trial-balance.requested", data: { orgId: "not-an-id" } }))).toBe("validation");
    expect(await failureOf(() => jobs.dispatch({ name: "tieout/checks.trial-balance.requested", data: { orgId: randomUUID(), asOf: "2026-04-01" } }))).not.toBe("no error");
  });
});
