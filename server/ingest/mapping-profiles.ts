import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, fieldErrorsOf } from "@/server/errors";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { csvMappingSchema, type CsvMapping } from "./parsers/csv";

export type MappingProfile = { id: string; name: string; mapping: CsvMapping; createdAt: string };

/** Saves (or replaces, by name) a CSV/XLSX mapping inside the caller's transaction. */
export async function saveMappingProfile(tx: Db, ctx: Ctx, name: string, mapping: unknown): Promise<string> {
  requirePermission(ctx, "imports.run");
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100) throw new AppError("validation", "Name the mapping profile (at most 100 characters).", { saveProfileAs: ["Name the profile"] });
  const parsed = csvMappingSchema.safeParse(mapping);
  if (!parsed.success) throw new AppError("validation", "The mapping is not complete.", fieldErrorsOf(parsed.error));
  const [row] = await tx.execute<{ id: string }>(sql`
    insert into mapping_profiles (org_id, name, mapping, created_by) values (${ctx.orgId}, ${trimmed}, ${JSON.stringify(parsed.data)}::jsonb, ${ctx.userId})
    on conflict (org_id, name) do update set mapping = excluded.mapping
    returning id`);
  await appendAudit(tx, ctx, [{ action: "mapping_profile.saved", entityType: "mapping_profile", entityId: row.id, data: { name: trimmed, mapping: parsed.data } }]);
  return row.id;
}

export async function listMappingProfiles(db: Db, ctx: Ctx): Promise<MappingProfile[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<MappingProfile>(sql`select id, name, mapping, created_at as "createdAt" from mapping_profiles where org_id = ${ctx.orgId} order by name`)),
  ]);
}
