import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase } from "@/test/db";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";

// The keys of entries, lines and audit rows to their parents are checked once per INSERT
// statement (drizzle/migrations/0006) instead of declared per row; these are the rules they keep.
const t = await testDatabase();
const org = await createTestOrg(t.db);
const other = await createTestOrg(t.db, { name: "Other org" });
const { accounts } = org;

const posted = await postJournalEntry(t.db, org.ctx.accountant, {
  entityId: org.entityId, entryDate: `${org.year}-02-10`, description: "Keys", idempotencyKey: randomUUID(),
  lines: [{ accountId: accounts["1000"], amount: "10.00" }, { accountId: accounts["4000"], amount: "-10.00" }],
});

/** One transaction as the app role in `org`: an entry with `entry` overrides and its two lines with `line` overrides. */
const rawPosting = (entry: Partial<Record<"entity_id" | "posted_by" | "posted_txid", string | null>> = {}, line: Partial<Record<"account_id" | "entry_id", string>> = {}) =>
  t.appClient.begin(async (q) => {
    await q`select set_config('app.org_id', ${org.orgId}, true)`;
    const id = randomUUID();
    const e = { id, org_id: org.orgId, entity_id: org.entityId, entry_number: 800000 + Math.floor(Math.random() * 99999), entry_date: `${org.year}-02-11`,
      description: "raw", idempotency_key: randomUUID(), content_hash: "x", posted_by_label: "raw", posted_by: org.ctx.accountant.userId, ...entry };
    await q`insert into journal_entries ${q(e)}`;
    for (const [no, acct, amt] of [[1, accounts["1000"], "5.00"], [2, accounts["4000"], "-5.00"]] as const) {
      const l = { org_id: org.orgId, entry_id: id, line_no: no, entity_id: org.entityId, account_id: acct, entry_date: `${org.year}-02-11`, amount: amt, currency: "EUR", rate: 1, functional_amount: amt, ...line };
      await q`insert into journal_lines ${q(l)}`;
    }
  });

describe("keys of posted rows", () => {
  it("refuses entries and lines that point at a missing or foreign parent, and accepts the same posting when they do not", async () => {
    expect(await failureOf(() => rawPosting({ entity_id: randomUUID() }))).toBe("journal_entries_org_id_entity_id_entities_org_id_id_fk");
    expect(await failureOf(() => rawPosting({ entity_id: other.entityId }))).toBe("journal_entries_org_id_entity_id_entities_org_id_id_fk");
    expect(await failureOf(() => rawPosting({ posted_by: randomUUID() }))).toBe("journal_entries_posted_by_users_id_fk");
    expect(await failureOf(() => rawPosting({}, { account_id: randomUUID() }))).toBe("journal_lines_org_id_entity_id_account_id_accounts_org_id_entit");
    expect(await failureOf(() => rawPosting({}, { account_id: other.accounts["1000"] }))).toBe("journal_lines_org_id_entity_id_account_id_accounts_org_id_entit");
    expect(await failureOf(() => rawPosting({}, { entry_id: randomUUID() }))).toBe("journal_lines_entry_id_journal_entries_id_fk");
    // The posting transaction is the database's to name: lines may later be added only in it.
    expect(await failureOf(() => rawPosting({ posted_txid: "999999999" }))).toBe("journal_entry_posted_txid");
    expect(await failureOf(() => rawPosting({ posted_by: null }))).toBe("no error");
  });

  it("refuses audit rows of a missing organisation or actor", async () => {
    const [head] = await t.adminDb.execute<{ seq: string; hash: string }>(sql`select seq, hash from audit_log where org_id = ${org.orgId} order by seq desc limit 1`);
    const row = (actor: string | null) =>
      t.appClient.begin(async (q) => {
        await q`select set_config('app.org_id', ${org.orgId}, true)`;
        await q`insert into audit_log (org_id, seq, at, actor_user_id, actor_label, action, entity_type, data, prev_hash, hash)
                values (${org.orgId}, ${Number(head.seq) + 1}, now(), ${actor}, 'x', 'x', 'x', '{}', ${head.hash}, 'x')`;
        throw new Error("rolled back");
      });
    expect(await failureOf(() => row(randomUUID()))).toBe("audit_log_actor_user_id_users_id_fk");
    expect(await failureOf(() => row(org.ctx.admin.userId))).toBe("Error: rolled back");
    const orphan = randomUUID();
    expect(await failureOf(() => t.adminDb.execute(sql`insert into audit_log (org_id, seq, at, actor_label, action, entity_type, data, prev_hash, hash)
      values (${orphan}, 1, now(), 'x', 'x', 'x', '{}', ${"0".repeat(64)}, 'x')`))).toBe("audit_log_org_id_organisations_id_fk");
  });

  it("refuses, even to the owner, deleting or re-keying a parent that posted rows reference", async () => {
    const [{ id: unused }] = await t.adminDb.execute<{ id: string }>(sql`
      insert into accounts (org_id, entity_id, code, name, type, normal_balance, currency) values (${org.orgId}, ${org.entityId}, '9990', 'Unused', 'asset', 'debit', 'EUR') returning id`);
    const attempts = {
      "delete account": sql`delete from accounts where id = ${accounts["1000"]}`,
      "re-key account": sql`update accounts set id = gen_random_uuid() where id = ${accounts["1000"]}`,
      "move account": sql`update accounts set entity_id = ${other.entityId}, org_id = ${other.orgId}, code = '4999' where id = ${accounts["4000"]}`,
      "truncate accounts": sql`truncate accounts cascade`,
    };
    const outcomes: Record<string, string> = {};
    for (const [name, q] of Object.entries(attempts)) outcomes[name] = await failureOf(() => t.adminDb.execute(q));
    expect(outcomes).toEqual({
      "delete account": "journal_lines_org_id_entity_id_account_id_accounts_org_id_entit",
      "re-key account": "journal_lines_org_id_entity_id_account_id_accounts_org_id_entit",
      "move account": "journal_lines_org_id_entity_id_account_id_accounts_org_id_entit",
      "truncate accounts": "0A000",
    });
    // Nothing references the new account, so it can go; the posted entry is still whole.
    expect(await failureOf(() => t.adminDb.execute(sql`delete from accounts where id = ${unused}`))).toBe("no error");
    const [{ n }] = await t.adminDb.execute<{ n: string }>(sql`select count(*) as n from journal_lines where entry_id = ${posted.entryId}`);
    expect(n).toBe("2");
  });

  it("refuses deleting an entity, user or organisation referenced only by posted rows", async () => {
    // With the other declared keys out of the way (as the owner, triggers on), only the posted rows hold them.
    const lone = await createTestOrg(t.db, { name: "Lone org" });
    await postJournalEntry(t.db, lone.ctx.accountant, {
      entityId: lone.entityId, entryDate: `${lone.year}-03-03`, description: "Lone", idempotencyKey: randomUUID(),
      lines: [{ accountId: lone.accounts["1000"], amount: "1.00" }, { accountId: lone.accounts["4000"], amount: "-1.00" }],
    });
    await t.adminDb.execute(sql`delete from memberships where user_id = ${lone.ctx.accountant.userId}`);
    expect(await failureOf(() => t.adminDb.execute(sql`delete from users where id = ${lone.ctx.accountant.userId}`))).toBe("journal_entries_posted_by_users_id_fk");
    // The admin posted nothing but is the actor of no row either: removable.
    await t.adminDb.execute(sql`delete from memberships where user_id = ${lone.ctx.viewer.userId}`);
    expect(await failureOf(() => t.adminDb.execute(sql`delete from users where id = ${lone.ctx.viewer.userId}`))).toBe("no error");
    expect(await failureOf(() => t.adminDb.execute(sql`update users set id = gen_random_uuid() where id = ${lone.ctx.accountant.userId}`))).toBe("journal_entries_posted_by_users_id_fk");
    // The app role may update users, but never re-key one that posted: its check cannot be run under row-level security.
    expect(await failureOf(() => t.db.execute(sql`update users set id = gen_random_uuid() where id = ${lone.ctx.accountant.userId}`))).toBe("42501");
  });
});
