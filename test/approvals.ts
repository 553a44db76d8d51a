import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import type { Ctx, Role } from "@/server/tenancy/context";
import type { TestOrg } from "./fixtures";

/** Another member of the organisation with a role (the fixtures make one per role). */
export async function addTestMember(db: Db, org: TestOrg, role: Role, label = `Extra ${role}`): Promise<Ctx> {
  const [u] = await db.execute<{ id: string }>(sql`insert into users (email, name) values (${`${role}-${randomBytes(5).toString("hex")}@test.tieout.dev`}, ${label}) returning id`);
  await inOrg(db, org.system, (tx) => tx.execute(sql`insert into memberships (org_id, user_id, role) values (${org.orgId}, ${u.id}, ${role})`));
  return { orgId: org.orgId, userId: u.id, role, actorLabel: `${label} ${u.id.slice(0, 4)}` };
}

/** A balanced manual entry of `amount` (debit expenses, credit bank) as request content. */
export function entryContent(org: TestOrg, amount: string, date = `${org.year}-03-15`, description = "Accrual") {
  return { entityId: org.entityId, entryDate: date, description, lines: [{ accountId: org.accounts["6000"], amount }, { accountId: org.accounts["1000"], amount: `-${amount}` }] };
}
