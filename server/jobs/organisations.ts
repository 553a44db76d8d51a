import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";

/**
 * Every organisation's id, for scheduled work that runs once per tenant. Goes through the
 * SECURITY DEFINER function scheduler_org_ids() (drizzle/migrations/0002_scheduler.sql): the
 * application role cannot see organisations it is not acting for, and this hands it ids only.
 * Works with the app-role handle and with an owner/admin handle alike.
 */
export async function listOrganisationIds(db: Db): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`select id from scheduler_org_ids() as id`);
  return rows.map((r) => r.id);
}
