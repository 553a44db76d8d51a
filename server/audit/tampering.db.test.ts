import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestOrg, failureOf, testDatabase, type TestOrg } from "@/test/db";
import { postJournalEntries } from "@/server/ledger/post-journal-entries";
import { verifyAuditChain } from "@/server/audit/verify-chain";

const t = await testDatabase();

/** An organisation with a 9-row chain: its creation and eight postings. */
async function orgWithChain(): Promise<TestOrg> {
  const org = await createTestOrg(t.db);
  await postJournalEntries(
    t.db,
    org.ctx.accountant,
    Array.from({ length: 8 }, (_, i) => ({
      entityId: org.entityId, entryDate: `${org.year}-02-0${i + 1}`, description: `Entry ${i + 1}`, idempotencyKey: randomUUID(),
      lines: [{ accountId: org.accounts["1000"], amount: `${i + 1}0.00` }, { accountId: org.accounts["4000"], amount: `-${i + 1}0.00` }],
    })),
  );
  expect(await verifyAuditChain(t.db, org.ctx.admin)).toMatchObject({ ok: true, rows: 9 });
  return org;
}

/** As the superuser with triggers off, the way someone with database access would tamper. */
async function tamper(statement: ReturnType<typeof sql>) {
  await t.adminDb.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    const r = await tx.execute(statement);
    expect(r.count).toBe(1);
  });
}

describe("audit chain verification", () => {
  it("reports the row whose data changed by one byte", async () => {
    const org = await orgWithChain();
    const [row] = await t.adminDb.execute<{ data: { description: string } }>(sql`select data from audit_log where org_id = ${org.orgId} and seq = 5`);
    expect(row.data.description).toBe("Entry 4");
    await tamper(sql`update audit_log set data = jsonb_set(data, '{description}', '"Entry 5"') where org_id = ${org.orgId} and seq = 5`);
    expect(await verifyAuditChain(t.db, org.ctx.admin)).toMatchObject({ ok: false, firstBrokenSeq: 5 });
  });

  it("reports a deleted middle row at its sequence number", async () => {
    const org = await orgWithChain();
    await tamper(sql`delete from audit_log where org_id = ${org.orgId} and seq = 6`);
    expect(await verifyAuditChain(t.db, org.ctx.admin)).toMatchObject({ ok: false, firstBrokenSeq: 6 });
  });

  it("reports a row whose hash was recomputed to hide an edit, at the next row", async () => {
    const org = await orgWithChain();
    await tamper(sql`update audit_log set actor_label = 'someone else', hash = repeat('a', 64) where org_id = ${org.orgId} and seq = 3`);
    const result = await verifyAuditChain(t.db, org.ctx.admin);
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 3 });
  });

  it("leaves other organisations' chains intact and refuses a row that does not link while triggers are on", async () => {
    const tampered = await orgWithChain();
    const clean = await orgWithChain();
    await tamper(sql`update audit_log set action = 'x' where org_id = ${tampered.orgId} and seq = 2`);
    expect(await verifyAuditChain(t.db, clean.ctx.admin)).toMatchObject({ ok: true, rows: 9 });
    const forged = sql`insert into audit_log (org_id, seq, at, actor_label, action, entity_type, data, prev_hash, hash)
      values (${clean.orgId}, 10, now(), 'forger', 'journal_entry.posted', 'journal_entry', '{}', ${"0".repeat(64)}, ${"f".repeat(64)})`;
    expect(await failureOf(() => t.adminDb.execute(forged))).toBe("audit_log_chain");
    // Only admins may read the chain.
    expect(await failureOf(() => verifyAuditChain(t.db, clean.ctx.accountant))).toBe("forbidden");
  });
});
