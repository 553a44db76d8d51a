import { afterAll, beforeAll, describe, expect, it } from "vitest";
import bcrypt from "bcryptjs";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase, type TestDatabase, type TestOrg } from "@/test/db";
import { signInWithPassword } from "./password-sign-in";
import { createAuthSession, resolveSessionActor, revokeAuthSession } from "./auth-sessions";
import { changeMemberRole, listMembers, removeMember } from "@/server/tenancy/members";

const policy = { maxFailures: 3, lockMinutes: 15 };
let t: TestDatabase;
let org: TestOrg;
let other: TestOrg;
const email = "sign-in@test.tieout.dev";
let userId: string;

beforeAll(async () => {
  t = await testDatabase();
  org = await createTestOrg(t.db);
  other = await createTestOrg(t.db);
  const hash = await bcrypt.hash("correct horse", 4);
  [{ id: userId }] = await t.db.execute<{ id: string }>(sql`insert into users (email, name, password_hash) values (${email}, 'Sign In', ${hash}) returning id`);
});
afterAll(() => t.close());

describe("password sign-in", () => {
  it("accepts the right password (email case-insensitive) and refuses a wrong one or an unknown email", async () => {
    expect(await signInWithPassword(t.db, policy, "Sign-In@Test.Tieout.dev", "correct horse")).toMatchObject({ id: userId, email });
    expect(await signInWithPassword(t.db, policy, email, "wrong")).toBeNull();
    expect(await signInWithPassword(t.db, policy, "nobody@test.tieout.dev", "correct horse")).toBeNull();
    // A success resets the failure count.
    await signInWithPassword(t.db, policy, email, "correct horse");
    const [u] = await t.adminDb.execute<{ failed_sign_ins: number }>(sql`select failed_sign_ins from users where id = ${userId}`);
    expect(u.failed_sign_ins).toBe(0);
  });

  it("locks the account after repeated failures, even against the right password, until the lock expires", async () => {
    for (let i = 0; i < policy.maxFailures; i++) expect(await signInWithPassword(t.db, policy, email, `wrong ${i}`)).toBeNull();
    expect(await failureOf(() => signInWithPassword(t.db, policy, email, "correct horse"))).toBe("throttled");
    // Concurrent wrong guesses are all counted (one UPDATE each, no lost increments).
    await Promise.all(Array.from({ length: 5 }, () => signInWithPassword(t.db, policy, email, "wrong").catch(() => null)));
    await t.adminDb.execute(sql`update users set locked_until = now() - interval '1 second' where id = ${userId}`);
    expect(await signInWithPassword(t.db, policy, email, "correct horse")).toMatchObject({ id: userId });
  });

  it("refuses a disabled account", async () => {
    await t.adminDb.execute(sql`update users set disabled_at = now() where id = ${userId}`);
    expect(await failureOf(() => signInWithPassword(t.db, policy, email, "correct horse"))).toBe("forbidden");
    await t.adminDb.execute(sql`update users set disabled_at = null where id = ${userId}`);
  });
});

describe("sessions", () => {
  it("a session counts until it is revoked or its user is disabled", async () => {
    const sid = await createAuthSession(t.db, userId);
    expect(await resolveSessionActor(t.db, sid)).toMatchObject({ user: { userId, sessionId: sid } });
    await revokeAuthSession(t.db, sid);
    expect(await resolveSessionActor(t.db, sid)).toBeNull();

    const sid2 = await createAuthSession(t.db, userId);
    await t.adminDb.execute(sql`update users set disabled_at = now() where id = ${userId}`);
    expect(await resolveSessionActor(t.db, sid2)).toBeNull();
    await t.adminDb.execute(sql`update users set disabled_at = null where id = ${userId}`);
    expect(await resolveSessionActor(t.db, "not-a-uuid")).toBeNull();
    expect(await resolveSessionActor(t.db, undefined)).toBeNull();
    expect(await resolveSessionActor(t.db, "00000000-0000-4000-8000-000000000000")).toBeNull();
  });

  it("a session lists only the organisations its user belongs to, each with its role", async () => {
    const session = await resolveSessionActor(t.db, await createAuthSession(t.db, org.ctx.accountant.userId!));
    expect(session!.memberships).toEqual([expect.objectContaining({ orgId: org.orgId, role: "accountant" })]);
    expect((await resolveSessionActor(t.db, await createAuthSession(t.db, userId)))!.memberships).toEqual([]);
    // Two organisations, in name order; the other organisation's people are not listed.
    await t.adminDb.execute(sql`insert into memberships (org_id, user_id, role) values (${other.orgId}, ${org.ctx.accountant.userId}, 'viewer')`);
    const both = await resolveSessionActor(t.db, await createAuthSession(t.db, org.ctx.accountant.userId!));
    expect(both!.memberships.map((m) => [m.orgId, m.role]).sort()).toEqual([[org.orgId, "accountant"], [other.orgId, "viewer"]].sort());
    await t.adminDb.execute(sql`delete from memberships where org_id = ${other.orgId} and user_id = ${org.ctx.accountant.userId}`);
  });
});

describe("members", () => {
  it("only admins manage members; the last admin cannot be demoted or removed; changes are audited", async () => {
    expect(await failureOf(() => listMembers(t.db, org.ctx.accountant))).toBe("forbidden");
    expect(await failureOf(() => changeMemberRole(t.db, org.ctx.accountant, { userId: org.ctx.viewer.userId!, role: "admin" }))).toBe("forbidden");
    expect(await failureOf(() => changeMemberRole(t.db, org.ctx.admin, { userId: org.ctx.admin.userId!, role: "viewer" }))).toBe("conflict");
    expect(await failureOf(() => removeMember(t.db, org.ctx.admin, { userId: org.ctx.admin.userId! }))).toBe("conflict");
    // Another organisation's member is not found here.
    expect(await failureOf(() => changeMemberRole(t.db, org.ctx.admin, { userId: other.ctx.viewer.userId!, role: "admin" }))).toBe("not_found");

    await changeMemberRole(t.db, org.ctx.admin, { userId: org.ctx.viewer.userId!, role: "approver" });
    await removeMember(t.db, org.ctx.admin, { userId: org.ctx.approver.userId! });
    const members = await listMembers(t.db, org.ctx.admin);
    expect(members.map((m) => [m.userId, m.role]).sort()).toEqual(
      [[org.ctx.admin.userId, "admin"], [org.ctx.accountant.userId, "accountant"], [org.ctx.viewer.userId, "approver"]].sort(),
    );
    expect((await resolveSessionActor(t.db, await createAuthSession(t.db, org.ctx.approver.userId!)))!.memberships).toEqual([]);
    const audit = await t.adminDb.execute<{ action: string; data: Record<string, unknown> }>(sql`
      select action, data from audit_log where org_id = ${org.orgId} and action like 'membership.%' order by seq`);
    expect(audit.map((a) => a.action)).toEqual(["membership.role_changed", "membership.removed"]);
    expect(audit[0].data).toEqual({ before: "viewer", after: "approver" });
  });
});
