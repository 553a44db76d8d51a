import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, notFound } from "@/server/errors";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { isUuid } from "@/server/ids";
import { postJournalEntry, type PostingResult } from "./post-journal-entries";
import { reverseInput } from "./schemas";
import type { z } from "zod";

/**
 * Corrects a posted entry the only way a ledger allows: a new entry with every line negated,
 * pointing back at the original. Once per entry (unique index); its key makes a double click safe.
 */
export async function reverseJournalEntry(db: Db, ctx: Ctx, input: z.input<typeof reverseInput>): Promise<PostingResult> {
  requirePermission(ctx, "ledger.post");
  const { entryId, reversalDate, reason } = reverseInput.parse(input);
  if (!isUuid(entryId)) throw notFound("The journal entry");
  const original = await inOrg(db, ctx, async (tx) => {
    const [entry] = await tx.execute<{ id: string; entity_id: string; entry_number: string; entry_date: string; description: string }>(sql`
      select id, entity_id, entry_number, entry_date::text, description from journal_entries where org_id = ${ctx.orgId} and id = ${entryId}`);
    if (!entry) throw notFound("The journal entry");
    const [already] = await tx.execute<{ entry_number: string }>(sql`
      select entry_number from journal_entries where org_id = ${ctx.orgId} and reverses_entry_id = ${entryId}`);
    if (already) throw new AppError("already_reversed", `Entry ${entry.entry_number} was already reversed by entry ${already.entry_number}.`);
    const lines = await tx.execute<{ account_id: string; amount: string; currency: string; rate: string; functional_amount: string; memo: string | null; counterparty: string | null; reference: string | null; dimensions: Record<string, string> }>(sql`
      select account_id, amount, currency, rate, functional_amount, memo, counterparty, reference, dimensions
      from journal_lines where org_id = ${ctx.orgId} and entry_id = ${entryId} order by line_no`);
    return { entry, lines };
  });
  // The reason travels in the reversal's description, so it is in the entry and its audit row.
  return postJournalEntry(db, ctx, {
    entityId: original.entry.entity_id,
    entryDate: reversalDate ?? original.entry.entry_date,
    description: `Reversal of entry ${original.entry.entry_number}: ${reason}`.slice(0, 500),
    idempotencyKey: `reversal:${entryId}`,
    reversesEntryId: entryId,
    source: "reversal",
    lines: original.lines.map((l) => ({
      accountId: l.account_id,
      amount: money(l.amount).neg().toFixed(),
      currency: l.currency,
      rate: money(l.rate).toFixed(),
      functionalAmount: money(l.functional_amount).neg().toFixed(),
      memo: l.memo ?? undefined,
      counterparty: l.counterparty ?? undefined,
      reference: l.reference ?? undefined,
      dimensions: l.dimensions,
    })),
  });
}
