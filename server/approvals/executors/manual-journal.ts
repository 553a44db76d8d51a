import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError, notFound } from "@/server/errors";
import { formatMoney, money, roundTo } from "@/server/money";
import { postJournalEntry } from "@/server/ledger/post-journal-entries";
import { reverseJournalEntry } from "@/server/ledger/reverse-journal-entry";
import { journalEntryInput, isoDate } from "@/server/ledger/schemas";
import { assertPeriodOpen } from "@/server/period-close/open-period";
import type { Ctx } from "@/server/tenancy/context";
import type { Executor, Outcome } from "../registry";

export const manualJournalContent = journalEntryInput.omit({ idempotencyKey: true, source: true }).extend({
  /** The draft this entry was submitted from; it is marked posted with the entry. */
  draftId: z.string().uuid().nullable().default(null),
  /** The draft as it was submitted: an edit of the draft afterwards stops the execution (the maker resubmits). */
  draftUpdatedAt: z.string().nullable().default(null),
});
export type ManualJournalContent = z.output<typeof manualJournalContent>;

/** A throw that undoes a dry run: the posting is tried for real inside a savepoint, then rolled back. */
class DryRunDone extends Error {}

/** Tries the posting (balance, accounts, currencies, period, database checks) and rolls it back. */
export async function dryRunPosting(tx: Db, ctx: Ctx, post: (sp: Db) => Promise<unknown>): Promise<void> {
  try {
    await tx.transaction(async (sp) => {
      await post(sp as unknown as Db);
      throw new DryRunDone();
    });
  } catch (e) {
    if (!(e instanceof DryRunDone)) throw e;
  }
}

const postingOf = (c: ManualJournalContent, idempotencyKey: string) => ({
  entityId: c.entityId, entryDate: c.entryDate, description: c.description, idempotencyKey, source: "manual", lines: c.lines,
});

/** Manual journal entries and adjustments: posted on the last required approval. */
export const manualJournal: Executor<ManualJournalContent> = {
  kind: "manual_journal",
  label: "Manual journal entry",
  submitPermission: "ledger.draft",
  content: manualJournalContent,
  async describe(tx, ctx, c) {
    const [entity] = await tx.execute<{ functional_currency: string; name: string }>(sql`select functional_currency, name from entities where org_id = ${ctx.orgId} and id = ${c.entityId}`);
    if (!entity) throw notFound("The entity");
    const cur = entity.functional_currency;
    // The debit side in functional currency; the posting recomputes it exactly when it runs.
    let debits = money("0");
    for (const l of c.lines) {
      const f = l.functionalAmount !== undefined ? money(l.functionalAmount) : money(l.amount).times(l.rate ?? "1");
      if (f.isPos()) debits = debits.plus(f);
    }
    const amount = roundTo(debits, cur).toFixed();
    return { entityId: c.entityId, effectiveDate: c.entryDate, amount, currency: cur, summary: `${c.description} — ${formatMoney(amount, cur)} ${cur} on ${c.entryDate} (${entity.name})` };
  },
  outcome: (r) => postedEntry(r, "Journal entry"),
  async present(tx, ctx, c) {
    const [entity] = await tx.execute<{ name: string; functional_currency: string }>(sql`select name, functional_currency from entities where org_id = ${ctx.orgId} and id = ${c.entityId}`);
    const names = await accountNames(tx, ctx, c.lines.map((l) => l.accountId));
    return {
      fields: [
        { label: "Entity", value: entity ? `${entity.name} (${entity.functional_currency})` : c.entityId },
        { label: "Date", value: c.entryDate },
        { label: "Description", value: c.description },
        ...(c.draftId ? [{ label: "From draft", value: c.draftId }] : []),
      ],
      table: {
        caption: "Journal lines",
        columns: ["Account", "Memo", "Debit", "Credit", "Currency"],
        numeric: [2, 3],
        rows: c.lines.map((l) => {
          const neg = l.amount.startsWith("-");
          const cur = l.currency ?? entity?.functional_currency ?? "";
          return [names.get(l.accountId) ?? l.accountId, l.memo ?? "", neg ? "" : formatMoney(l.amount, cur), neg ? formatMoney(l.amount.slice(1), cur) : "", cur];
        }),
      },
    };
  },
  async check(tx, ctx, c) {
    await assertPeriodOpen(tx, ctx.orgId, c.entityId, c.entryDate);
    await dryRunPosting(tx, ctx, (sp) => postJournalEntry(sp, { ...ctx, role: "system" }, postingOf(c, `approval-check:${crypto.randomUUID()}`)));
  },
  async execute(tx, ctx, c, request) {
    await assertPeriodOpen(tx, ctx.orgId, c.entityId, c.entryDate);
    if (c.draftId) {
      const [d] = await tx.execute<{ status: string; ms: string }>(sql`
        select status, floor(extract(epoch from updated_at) * 1000)::bigint::text as ms from journal_drafts where org_id = ${ctx.orgId} and id = ${c.draftId} for update`);
      if (!d || d.status !== "draft") throw new AppError("conflict", `The draft was ${d ? d.status : "removed"} after it was submitted; nothing was posted.`);
      if (c.draftUpdatedAt && Number(d.ms) !== Date.parse(c.draftUpdatedAt)) {
        throw new AppError("conflict", "The draft was edited after it was submitted; the maker must submit it again. Nothing was posted.");
      }
    }
    const posted = await postJournalEntry(tx, ctx, postingOf(c, `approval:${request.id}`));
    if (c.draftId) {
      await tx.execute(sql`update journal_drafts set status = 'posted', posted_entry_id = ${posted.entryId}, updated_at = now() where org_id = ${ctx.orgId} and id = ${c.draftId}`);
    }
    return { entryId: posted.entryId, entryNumber: posted.entryNumber };
  },
};

export const journalReversalContent = z.object({ entryId: z.string().uuid(), reversalDate: isoDate, reason: z.string().trim().min(3).max(500) });
export type JournalReversalContent = z.output<typeof journalReversalContent>;

/** Account labels (code and name) by id, for presenting content; ids that are not uuids are left out. */
export async function accountNames(tx: Db, ctx: Ctx, ids: string[]) {
  const valid = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (!valid.length) return new Map<string, string>();
  const rows = await tx.execute<{ id: string; label: string }>(sql`
    select id, code || ' ' || name as label from accounts where org_id = ${ctx.orgId} and id in (select unnest(${`{${valid.join(",")}}`}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r.label]));
}

async function loadEntry(tx: Db, ctx: Ctx, entryId: string) {
  const [e] = await tx.execute<{ entity_id: string; entry_number: string; description: string; total: string; currency: string; reversed_by: string | null }>(sql`
    select j.entity_id, j.entry_number, j.description, en.functional_currency as currency,
           (select sum(functional_amount) from journal_lines l where l.entry_id = j.id and l.functional_amount > 0)::text as total,
           (select r.entry_number::text from journal_entries r where r.org_id = j.org_id and r.reverses_entry_id = j.id) as reversed_by
    from journal_entries j join entities en on en.id = j.entity_id where j.org_id = ${ctx.orgId} and j.id = ${entryId}`);
  if (!e) throw notFound("The journal entry");
  return e;
}

/** A reversal moves the same money back: it is a manual entry like any other and needs the same sign-off. */
export const journalReversal: Executor<JournalReversalContent> = {
  kind: "journal_reversal",
  label: "Reversal of a journal entry",
  submitPermission: "ledger.draft",
  content: journalReversalContent,
  async describe(tx, ctx, c) {
    const e = await loadEntry(tx, ctx, c.entryId);
    return { entityId: e.entity_id, effectiveDate: c.reversalDate, amount: e.total, currency: e.currency, summary: `Reverse entry ${e.entry_number} (${e.description}) — ${formatMoney(e.total, e.currency)} ${e.currency} on ${c.reversalDate}` };
  },
  outcome: (r) => postedEntry(r, "Reversing entry"),
  async present(tx, ctx, c) {
    const e = await loadEntry(tx, ctx, c.entryId);
    const lines = await tx.execute<{ account: string; amount: string; currency: string; memo: string | null }>(sql`
      select a.code || ' ' || a.name as account, l.amount::text as amount, l.currency, l.memo
      from journal_lines l join accounts a on a.id = l.account_id where l.org_id = ${ctx.orgId} and l.entry_id = ${c.entryId} order by l.line_no`);
    return {
      fields: [
        { label: "Reverses", value: `Entry ${e.entry_number}: ${e.description}` },
        { label: "Reversal date", value: c.reversalDate },
        { label: "Reason", value: c.reason },
      ],
      table: {
        caption: "Reversal lines (the original's, negated)",
        columns: ["Account", "Memo", "Debit", "Credit", "Currency"],
        numeric: [2, 3],
        // Negated: the original's credits become the reversal's debits.
        rows: lines.map((l) => [l.account, l.memo ?? "", l.amount.startsWith("-") ? formatMoney(l.amount.slice(1), l.currency) : "", l.amount.startsWith("-") ? "" : formatMoney(l.amount, l.currency), l.currency]),
      },
    };
  },
  async check(tx, ctx, c) {
    const e = await loadEntry(tx, ctx, c.entryId);
    if (e.reversed_by) throw new AppError("already_reversed", `Entry ${e.entry_number} was already reversed by entry ${e.reversed_by}.`);
    await assertPeriodOpen(tx, ctx.orgId, e.entity_id, c.reversalDate);
  },
  async execute(tx, ctx, c, request) {
    const e = await loadEntry(tx, ctx, c.entryId);
    await assertPeriodOpen(tx, ctx.orgId, e.entity_id, c.reversalDate);
    const r = await reverseJournalEntry(tx, ctx, { entryId: c.entryId, reversalDate: c.reversalDate, reason: `${c.reason} (approval ${request.id.slice(0, 8)})` });
    return { entryId: r.entryId, entryNumber: r.entryNumber };
  },
};

/** The outcome of an executor that posts one entry: its number, linked to the entry. */
export function postedEntry(result: Record<string, unknown>, what: string): Outcome {
  return { text: `${what} ${String(result.entryNumber)} is posted.`, href: `/ledger/entries/${String(result.entryId)}` };
}
