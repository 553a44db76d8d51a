import fc from "fast-check";
import { sql } from "drizzle-orm";
import { beforeAll, expect, test } from "vitest";
import { createTestOrg, rowsInOrg, testDatabase, type TestOrg } from "@/test/db";
import { addTestMember, entryContent } from "@/test/approvals";
import { money } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { approveRequest, requestApproval } from "./requests";

const t = await testDatabase();
const RUNS = Number(process.env.APPROVALS_PROPERTY_RUNS ?? 100);

/** The default manual-entry policy, restated independently of server/approvals/policy.ts. */
function oracle(amount: string): { required: number; admin: boolean } {
  const a = money(amount);
  if (a.gte(100000)) return { required: 2, admin: true };
  if (a.gte(10000)) return { required: 2, admin: false };
  return { required: 1, admin: false };
}

let org: TestOrg;
let people: Ctx[];
beforeAll(async () => {
  org = await createTestOrg(t.db);
  people = [
    org.ctx.admin, org.ctx.accountant, org.ctx.approver, org.ctx.viewer,
    await addTestMember(t.db, org, "approver"), await addTestMember(t.db, org, "approver"),
    await addTestMember(t.db, org, "admin"), await addTestMember(t.db, org, "accountant"), await addTestMember(t.db, org, "viewer"),
  ];
});

const amountArb = fc.oneof(
  fc.integer({ min: 1, max: 99_999 }),
  fc.integer({ min: 999_000, max: 1_001_000 }),
  fc.integer({ min: 9_999_000, max: 10_001_000 }),
  fc.integer({ min: 10_000_000, max: 30_000_000 }),
).map((cents) => money(String(cents)).dividedBy(100).toFixed(2));

const stepArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant("approve" as const), who: fc.nat({ max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("edit" as const), amount: amountArb }) },
);

test(`property: ${RUNS} random requests × users × roles × amounts keep four-eyes`, async () => {
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1, 7), amountArb, fc.array(stepArb, { minLength: 1, maxLength: 8 }), async (makerIdx, amount, steps) => {
      const maker = people[makerIdx];
      const key = `prop:${++seq}`;
      const submit = (a: string) => requestApproval(t.db, maker, { kind: "manual_journal", targetKey: key, content: entryContent(org, a), reason: "property" });
      const first = await submit(amount);
      if (first.status !== "pending") throw new Error("every manual entry needs approval by default");
      const id = first.requestId;
      let version = 1;
      let current = amount;
      let approvers = new Set<string>();
      let hasAdmin = false;
      let executed = false;
      for (const s of steps) {
        if (s.type === "edit") {
          if (executed) continue;
          const r = await submit(s.amount);
          if (s.amount !== current) {
            expect(r).toMatchObject({ status: "pending", requestId: id, version: version + 1 });
            version += 1;
            current = s.amount;
            approvers = new Set();
            hasAdmin = false;
            // An edited request always voids the approvals given before it.
            const [{ live }] = await rowsInOrg<{ live: number }>(t.db, org, sql`select count(*)::int as live from approval_decisions where request_id = ${id} and voided_at is null`);
            expect(live).toBe(0);
          }
          continue;
        }
        const who = people[s.who];
        const eligible = !executed && who.userId !== maker.userId && (who.role === "approver" || who.role === "admin") && !approvers.has(who.userId!);
        const outcome = await approveRequest(t.db, who, { requestId: id, version }).then((r) => r.status, (e: { code?: string }) => `error:${e.code}`);
        if (!eligible) {
          expect(outcome).toMatch(/^error:(forbidden|conflict)$/);
          continue;
        }
        approvers.add(who.userId!);
        hasAdmin ||= who.role === "admin";
        const need = oracle(current);
        const shouldExecute = approvers.size >= need.required && (!need.admin || hasAdmin);
        expect(outcome).toBe(shouldExecute ? "executed" : "pending");
        executed = shouldExecute;
      }
      const [q] = await rowsInOrg<{ status: string; version: number; entries: number }>(t.db, org, sql`
        select status, version, (select count(*)::int from journal_entries e where e.idempotency_key = 'approval:' || q.id::text) as entries
        from approval_requests q where id = ${id}`);
      expect(q.status).toBe(executed ? "executed" : "pending");
      expect(q.entries).toBe(executed ? 1 : 0);
    }),
    { numRuns: RUNS, seed: Number(process.env.SEED ?? 20261121), verbose: 1 },
  );

  // Over everything the runs wrote: the figures the issue asks for.
  const [figures] = await rowsInOrg<{ self: number; without_role: number; under_tier: number; executions: number; requests: number; decisions: number }>(t.db, org, sql`
    with live as (
      select d.request_id, count(distinct d.approver_id) as n, bool_or(m.role = 'admin') as admin
      from approval_decisions d join approval_requests q on q.id = d.request_id
      left join memberships m on m.org_id = d.org_id and m.user_id = d.approver_id
      where d.voided_at is null and d.decision = 'approved' and d.request_version = q.version group by d.request_id)
    select
      (select count(*)::int from approval_decisions d join approval_requests q on q.id = d.request_id where d.approver_id = q.maker_id) as self,
      (select count(*)::int from approval_decisions d left join memberships m on m.org_id = d.org_id and m.user_id = d.approver_id where m.role is null or m.role not in ('approver', 'admin')) as without_role,
      (select count(*)::int from approval_requests q left join live on live.request_id = q.id
        where q.status = 'executed' and (coalesce(live.n, 0) < case when q.amount >= 10000 then 2 else 1 end or (q.amount >= 100000 and not coalesce(live.admin, false)))) as under_tier,
      (select count(*)::int from approval_requests where status = 'executed') as executions,
      (select count(*)::int from approval_requests) as requests,
      (select count(*)::int from approval_decisions) as decisions`);
  console.log(`approvals property: ${RUNS} runs, ${figures.requests} requests, ${figures.decisions} decisions, ${figures.executions} executions; self-approvals ${figures.self}, approvals without the role ${figures.without_role}, executions under their tier ${figures.under_tier}`);
  expect(figures).toMatchObject({ self: 0, without_role: 0, under_tier: 0 });
  expect(figures.executions).toBeGreaterThan(0);
});
