import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { addTestMember } from "@/test/approvals";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { DEFAULT_MATCH_SETTINGS } from "./settings";
import { runMatching } from "./run-matching";
import { confirmMatch, rejectMatch, undoMatch } from "./lifecycle";
import { listMatches } from "./queries";
import { approveRequest } from "@/server/approvals/requests";
import { getMatchingSettings } from "./settings-store";
import { proposeRecalibration, proposeRollback, type SettingsProposal } from "./settings-proposals";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });

const approve = (p: SettingsProposal, ctx = org.ctx.approver) => approveRequest(t.db, ctx, { requestId: p.requestId!, version: 1 });
const because = { reason: "A week of decisions" };

describe("learning from decisions", () => {
  it("every organisation starts on the defaults as version 1", async () => {
    const s = await getMatchingSettings(t.db, org.ctx.viewer);
    expect(s.version).toBe(1);
    expect(s.current).toEqual(DEFAULT_MATCH_SETTINGS);
    expect(s.changes.map((c) => [c.version, c.kind, c.actor])).toEqual([[1, "initial", "system:defaults"]]);
  });

  it("a recalibration is proposed, in effect once approved (before, after, why); an admin rolls back the same way, and the rollback is a change too", async () => {
    await run();
    const { rows } = await listMatches(t.db, org.ctx.viewer, { statuses: ["auto_matched", "suggested"] });
    const autos = rows.filter((m) => m.status === "auto_matched");
    for (const m of autos.slice(0, 5)) await confirmMatch(t.db, org.ctx.accountant, { matchId: m.id });
    await undoMatch(t.db, org.ctx.accountant, { matchId: autos[6].id, reason: "Wrong customer" });
    await rejectMatch(t.db, org.ctx.accountant, { matchId: rows.find((m) => m.status === "suggested")!.id });

    expect(await failureOf(() => proposeRecalibration(t.db, org.ctx.accountant, because))).toBe("forbidden");
    expect((await getMatchingSettings(t.db, org.ctx.admin)).pendingFeedback).toBe(7);
    const p = await proposeRecalibration(t.db, org.ctx.admin, because);
    expect(p).toMatchObject({ status: "pending", feedbackUsed: 7 });
    // Proposed, not in effect: still version 1, the decisions not yet learnt from, and the maker cannot approve it.
    expect(await getMatchingSettings(t.db, org.ctx.admin)).toMatchObject({ version: 1, current: DEFAULT_MATCH_SETTINGS, pendingFeedback: 7 });
    expect(await failureOf(() => approve(p, org.ctx.admin))).toBe("forbidden");
    const [req] = await rowsInOrg<{ summary: string }>(t.db, org, sql`select summary from approval_requests where id = ${p.requestId}`);
    expect(req.summary).toBe("Recalibrate the matching settings (v1 → v2): learn weights"); // fewer than 200 decisions: the threshold is not calibrated yet
    expect(await approve(p)).toMatchObject({ status: "executed", result: { version: 2 } });

    const s = await getMatchingSettings(t.db, org.ctx.admin);
    expect(s.version).toBe(2);
    expect(s.pendingFeedback).toBe(0);
    const learn = s.changes[0];
    expect(learn).toMatchObject({ version: 2, kind: "learn", before: DEFAULT_MATCH_SETTINGS });
    expect(learn.actor).toMatch(/^Test approver \(approval [0-9a-f]{8}\)$/);
    expect(learn.why).toMatch(/\(proposed by Test admin\)$/);
    expect(learn.after.weights).not.toEqual(DEFAULT_MATCH_SETTINGS.weights);
    expect(learn.why.length).toBeGreaterThan(10);
    expect(s.current).toEqual(learn.after);
    // The next run uses (and records) the learnt version.
    const next = await run();
    const [runRow] = await rowsInOrg<{ settings_version: number }>(t.db, org, sql`select settings_version from match_runs where id = ${next.runId}`);
    expect(runRow.settings_version).toBe(2);

    // Nothing new to learn from: no change.
    expect(await proposeRecalibration(t.db, org.ctx.admin, because)).toEqual({ status: "unchanged", requestId: null, feedbackUsed: 0 });

    expect(await failureOf(() => proposeRollback(t.db, org.ctx.accountant, { toVersion: 1, reason: "too eager" }))).toBe("forbidden");
    expect(await failureOf(() => proposeRollback(t.db, org.ctx.admin, { toVersion: 2, reason: "same" }))).toBe("validation");
    const rollback = await proposeRollback(t.db, org.ctx.admin, { toVersion: 1, reason: "Learnt from too few decisions" });
    expect((await getMatchingSettings(t.db, org.ctx.admin)).version).toBe(2);
    expect(await approve(rollback)).toMatchObject({ status: "executed", result: { version: 3 } });
    const after = await getMatchingSettings(t.db, org.ctx.admin);
    expect(after.current).toEqual(DEFAULT_MATCH_SETTINGS);
    expect(after.changes[0]).toMatchObject({ version: 3, kind: "rollback", restoresVersion: 1, before: learn.after, after: DEFAULT_MATCH_SETTINGS, why: "Rolled back to version 1: Learnt from too few decisions (proposed by Test admin)" });
    const audit = await rowsInOrg<{ action: string }>(t.db, org, sql`select action from audit_log where entity_type = 'matching_settings' order by seq`);
    expect(audit.map((a) => a.action)).toEqual(["matching.settings.learn", "matching.settings.rollback"]);
    expect(await failureOf(() => t.adminDb.execute(sql`update matching_settings_changes set why = 'x' where org_id = ${org.orgId}`))).toBe("matching_settings_changes_append_only");
  });

  it("a settings change computed from a version that moved on meanwhile is refused on approval, and nothing changes", async () => {
    const before = await getMatchingSettings(t.db, org.ctx.admin);
    // Two admins propose from the same version; the second approved is stale.
    const admin2 = await addTestMember(t.db, org, "admin", "Second admin");
    const first = await proposeRollback(t.db, org.ctx.admin, { toVersion: 2, reason: "The learnt weights were right" });
    const second = await proposeRollback(t.db, admin2, { toVersion: 1, reason: "Back to the defaults" });
    expect(second.requestId).not.toBe(first.requestId);
    await approve(first);
    expect((await getMatchingSettings(t.db, org.ctx.admin)).version).toBe(before.version + 1);
    let message = "";
    try {
      await approve(second);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/The matching settings changed after this was proposed \(proposed against v3, now v4\)/);
    const after = await getMatchingSettings(t.db, org.ctx.admin);
    expect(after.version).toBe(before.version + 1);
    expect(after.changes).toHaveLength(before.changes.length + 1);
    const [req] = await rowsInOrg<{ status: string }>(t.db, org, sql`select status from approval_requests where id = ${second.requestId}`);
    expect(req.status).toBe("pending");
  });
});
