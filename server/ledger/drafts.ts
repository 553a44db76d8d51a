import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { isoDate } from "./schemas";

/**
 * A draft is the entry form saved as typed: it may be incomplete or unbalanced until submitted.
 * It is posted only through approval (server/ledger/submit-entry.ts), which marks it posted.
 */
export const draftInput = z.object({
  draftId: z.string().uuid().optional(),
  entityId: z.string().uuid("Choose an entity"),
  entryDate: isoDate,
  description: z.string().trim().max(500),
  lines: z.array(z.object({ accountId: z.string(), debit: z.string().optional(), credit: z.string().optional(), memo: z.string().optional(), counterparty: z.string().optional(), reference: z.string().optional() })).max(100),
});

export type Draft = z.output<typeof draftInput> & { draftId: string; status: string; postedEntryId: string | null; updatedAt: string };

export async function saveDraft(db: Db, ctx: Ctx, input: z.input<typeof draftInput>): Promise<{ draftId: string }> {
  requirePermission(ctx, "ledger.draft");
  const d = draftInput.parse(input);
  return inOrg(db, ctx, async (tx) => {
    const [entity] = await tx.execute(sql`select 1 from entities where org_id = ${ctx.orgId} and id = ${d.entityId}`);
    if (!entity) throw notFound("The entity");
    let id = d.draftId;
    if (id) {
      const [row] = await tx.execute<{ id: string }>(sql`
        update journal_drafts set entity_id = ${d.entityId}, entry_date = ${d.entryDate}, description = ${d.description}, lines = ${JSON.stringify(d.lines)}::jsonb, updated_at = now()
        where org_id = ${ctx.orgId} and id = ${id} and status = 'draft' returning id`);
      if (!row) throw notFound("The draft");
    } else {
      const [row] = await tx.execute<{ id: string }>(sql`
        insert into journal_drafts (org_id, entity_id, entry_date, description, lines, created_by)
        values (${ctx.orgId}, ${d.entityId}, ${d.entryDate}, ${d.description}, ${JSON.stringify(d.lines)}::jsonb, ${ctx.userId}) returning id`);
      id = row.id;
    }
    await appendAudit(tx, ctx, [{ action: d.draftId ? "journal_draft.updated" : "journal_draft.created", entityType: "journal_draft", entityId: id, data: { entityId: d.entityId, entryDate: d.entryDate, description: d.description, lineCount: d.lines.length } }]);
    return { draftId: id! };
  });
}

export async function getDraft(db: Db, ctx: Ctx, draftId: string): Promise<Draft> {
  requirePermission(ctx, "ledger.read");
  if (!isUuid(draftId)) throw notFound("The draft");
  return inOrg(db, ctx, async (tx) => {
    const [d] = await tx.execute<{ id: string; entity_id: string; entry_date: string; description: string; lines: Draft["lines"]; status: string; posted_entry_id: string | null; updated_at: Date }>(sql`
      select id, entity_id, entry_date::text, description, lines, status, posted_entry_id, updated_at from journal_drafts where org_id = ${ctx.orgId} and id = ${draftId}`);
    if (!d) throw notFound("The draft");
    return { draftId: d.id, entityId: d.entity_id, entryDate: d.entry_date, description: d.description, lines: d.lines, status: d.status, postedEntryId: d.posted_entry_id, updatedAt: new Date(d.updated_at).toISOString() };
  });
}

export async function listDrafts(db: Db, ctx: Ctx) {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => [
    ...(await tx.execute<{ id: string; entryDate: string; description: string; entityName: string; updatedAt: string }>(sql`
      select d.id, d.entry_date::text as "entryDate", d.description, e.name as "entityName", d.updated_at::text as "updatedAt"
      from journal_drafts d join entities e on e.id = d.entity_id where d.org_id = ${ctx.orgId} and d.status = 'draft' order by d.updated_at desc limit 50`)),
  ]);
}

export async function discardDraft(db: Db, ctx: Ctx, draftId: string): Promise<void> {
  requirePermission(ctx, "ledger.draft");
  if (!isUuid(draftId)) throw notFound("The draft");
  await inOrg(db, ctx, async (tx) => {
    const rows = await tx.execute(sql`update journal_drafts set status = 'discarded', updated_at = now() where org_id = ${ctx.orgId} and id = ${draftId} and status = 'draft' returning id`);
    if (!rows.length) throw notFound("The draft");
    await appendAudit(tx, ctx, [{ action: "journal_draft.discarded", entityType: "journal_draft", entityId: draftId, data: {} }]);
  });
}
