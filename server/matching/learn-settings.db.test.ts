import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "@/test/db";
import { createTestOrg, failureOf, rowsInOrg, type TestOrg } from "@/test/fixtures";
import { seedReconciliation, type ReconciliationFixture } from "@/test/matching-fixtures";
import { DEFAULT_MATCH_SETTINGS } from "./settings";
import { runMatching } from "./run-matching";
import { confirmMatch, rejectMatch, undoMatch } from "./lifecycle";
import { listMatches } from "./queries";
import { recalibrateMatching } from "./learn-settings";
import { getMatchingSettings, rollbackMatchingSettings } from "./settings-store";

const t = await testDatabase({ max: 4 });
afterAll(() => t.close());

let org: TestOrg;
let f: ReconciliationFixture;
beforeAll(async () => {
  org = await createTestOrg(t.db);
  f = await seedReconciliation(t.db, org);
});

const run = () => runMatching(t.db, org.ctx.accountant, { sourceId: f.sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual" }, { today: "2026-04-10" });

describe("learning from decisions", () => {
  it("every organisation starts on the defaults as version 1", async () => {
    const s = await getMatchingSettings(t.db, org.ctx.viewer);
    expect(s.version).toBe(1);
    expect(s.current).toEqual(DEFAULT_MATCH_SETTINGS);
    expect(s.changes.map((c) => [c.version, c.kind, c.actor])).toEqual([[1, "initial", "system:defaults"]]);
  });

  it("recalibrating records the learnt weights (before, after, why); an admin rolls back, and the rollback is a change too", async () => {
    await run();
    const { rows } = await listMatches(t.db, org.ctx.viewer, { statuses: ["auto_matched", "suggested"] });
    const autos = rows.filter((m) => m.status === "auto_matched");
    for (const m of autos.slice(0, 5)) await confirmMatch(t.db, org.ctx.accountant, { matchId: m.id });
    await undoMatch(t.db, org.ctx.accountant, { matchId: autos[6].id, reason: "Wrong customer" });
    await rejectMatch(t.db, org.ctx.accountant, { matchId: rows.find((m) => m.status === "suggested")!.id });

    expect(await failureOf(() => recalibrateMatching(t.db, org.ctx.accountant))).toBe("forbidden");
    expect((await getMatchingSettings(t.db, org.ctx.admin)).pendingFeedback).toBe(7);
    const r = await recalibrateMatching(t.db, org.ctx.admin);
    expect(r).toMatchObject({ changed: true, version: 2, feedbackUsed: 7 });
    expect(r.changes.map((c) => c.kind)).toEqual(["learn"]); // fewer than 200 decisions: the threshold is not calibrated yet

    const s = await getMatchingSettings(t.db, org.ctx.admin);
    expect(s.version).toBe(2);
    expect(s.pendingFeedback).toBe(0);
    const learn = s.changes[0];
    expect(learn).toMatchObject({ version: 2, kind: "learn", before: DEFAULT_MATCH_SETTINGS, actor: "Test admin" });
    expect(learn.after.weights).not.toEqual(DEFAULT_MATCH_SETTINGS.weights);
    expect(learn.why.length).toBeGreaterThan(10);
    expect(s.current).toEqual(learn.after);
    // The next run uses (and records) the learnt version.
    const next = await run();
    const [runRow] = await rowsInOrg<{ settings_version: number }>(t.db, org, sql`select settings_version from match_runs where id = ${next.runId}`);
    expect(runRow.settings_version).toBe(2);

    // Nothing new to learn from: no change.
    expect(await recalibrateMatching(t.db, org.ctx.admin)).toMatchObject({ changed: false, version: 2, feedbackUsed: 0 });

    expect(await failureOf(() => rollbackMatchingSettings(t.db, org.ctx.accountant, { toVersion: 1, reason: "too eager" }))).toBe("forbidden");
    expect(await failureOf(() => rollbackMatchingSettings(t.db, org.ctx.admin, { toVersion: 2, reason: "same" }))).toBe("validation");
    expect(await rollbackMatchingSettings(t.db, org.ctx.admin, { toVersion: 1, reason: "Learnt from too few decisions" })).toEqual({ version: 3 });
    const after = await getMatchingSettings(t.db, org.ctx.admin);
    expect(after.current).toEqual(DEFAULT_MATCH_SETTINGS);
    expect(after.changes[0]).toMatchObject({ version: 3, kind: "rollback", restoresVersion: 1, before: learn.after, after: DEFAULT_MATCH_SETTINGS, why: "Rolled back to version 1: Learnt from too few decisions" });
    const audit = await rowsInOrg<{ action: string }>(t.db, org, sql`select action from audit_log where entity_type = 'matching_settings' order by seq`);
    expect(audit.map((a) => a.action)).toEqual(["matching.settings.learn", "matching.settings.rollback"]);
    expect(await failureOf(() => t.adminDb.execute(sql`update matching_settings_changes set why = 'x' where org_id = ${org.orgId}`))).toBe("matching_settings_changes_append_only");
  });
});
