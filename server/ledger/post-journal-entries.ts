import { createHash, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, fieldErrorsOf, fromDbError } from "@/server/errors";
import { appendAudit, lockOrgChain } from "@/server/audit/append-audit";
import { canonicalJson } from "@/server/canonical-json";
import { decimalPlaces, formatMoney, minorUnits, money, roundTo, sum } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { journalEntryInput, type JournalEntryInput } from "./schemas";

export type PostingInput = JournalEntryInput & { reversesEntryId?: string };
export type PostingResult = { entryId: string; entryNumber: number; replayed: boolean };

type AccountRow = { id: string; entity_id: string; code: string; currency: string; is_active: boolean };
type EntityRow = { id: string; name: string; functional_currency: string };

type PreparedLine = {
  lineNo: number; accountId: string; amount: string; currency: string; rate: string; functionalAmount: string;
  memo: string | null; counterparty: string | null; reference: string | null; dimensions: Record<string, string>;
};
type PreparedEntry = {
  id: string; entityId: string; entryDate: string; description: string; idempotencyKey: string; source: string;
  reversesEntryId: string | null; contentHash: string; lines: PreparedLine[]; total: string; functionalCurrency: string;
};

/** Posts one entry. The same idempotency key with the same content returns the first result. */
export async function postJournalEntry(db: Db, ctx: Ctx, input: PostingInput): Promise<PostingResult> {
  const [result] = await postJournalEntries(db, ctx, [input]);
  return result;
}

/**
 * Posts entries atomically: every entry lands, or none does. This is the only way into
 * journal_entries; single postings, reversals, drafts and bulk loads all come through here.
 *
 * Within an organisation postings are serialised by the audit-chain lock (entry numbers are
 * gapless and the chain is linear), so throughput comes from batching, not from parallel writers.
 */
export async function postJournalEntries(db: Db, ctx: Ctx, inputs: PostingInput[]): Promise<PostingResult[]> {
  requirePermission(ctx, "ledger.post");
  if (inputs.length === 0) return [];
  const parsed = inputs.map((input, i) => {
    const r = journalEntryInput.safeParse(input);
    if (!r.success) {
      const where = inputs.length > 1 ? ` (entry ${i + 1})` : "";
      throw new AppError("validation", `The entry is not valid${where}: ${r.error.issues[0].path.join(".")} — ${r.error.issues[0].message}`, fieldErrorsOf(r.error));
    }
    return { ...r.data, reversesEntryId: input.reversesEntryId ?? null };
  });

  try {
    return await inOrg(db, ctx, async (tx) => {
      await lockOrgChain(tx, ctx.orgId);
      const entities = await loadEntities(tx, ctx.orgId, parsed.map((p) => p.entityId));
      const accounts = await loadAccounts(tx, ctx.orgId, parsed.flatMap((p) => p.lines.map((l) => l.accountId)));
      const prepared = parsed.map((p) => prepareEntry(p, entities, accounts));
      await assertPeriodsOpen(tx, ctx.orgId, prepared, entities);

      // Idempotency: replays return the stored entry; the same key with other content is refused.
      const results = new Map<string, PostingResult>();
      const existing = await tx.execute<{ id: string; idempotency_key: string; content_hash: string; entry_number: string }>(sql`
        select id, idempotency_key, content_hash, entry_number from journal_entries
        where org_id = ${ctx.orgId} and idempotency_key in (select unnest(${pgTextArray(prepared.map((p) => p.idempotencyKey))}::text[]))`);
      const known = new Map(existing.map((e) => [e.idempotency_key, e]));
      const fresh: PreparedEntry[] = [];
      for (const p of prepared) {
        const prior = known.get(p.idempotencyKey);
        const seenInBatch = fresh.find((f) => f.idempotencyKey === p.idempotencyKey);
        const priorHash = prior?.content_hash ?? seenInBatch?.contentHash;
        if (priorHash !== undefined && priorHash !== p.contentHash) {
          throw new AppError("idempotency_conflict", `Idempotency key "${p.idempotencyKey}" was already used for an entry with different content. Use a new key for a new entry.`);
        }
        if (prior) results.set(p.idempotencyKey, { entryId: prior.id, entryNumber: Number(prior.entry_number), replayed: true });
        else if (!seenInBatch) fresh.push(p);
      }

      if (fresh.length > 0) {
        const numbers = await allocateEntryNumbers(tx, ctx.orgId, fresh);
        const entryRows = fresh.map((p) => ({
          id: p.id, org_id: ctx.orgId, entity_id: p.entityId, entry_number: numbers.get(p.id)!, entry_date: p.entryDate,
          description: p.description, idempotency_key: p.idempotencyKey, content_hash: p.contentHash,
          reverses_entry_id: p.reversesEntryId, source: p.source, posted_by: ctx.userId, posted_by_label: ctx.actorLabel,
        }));
        await tx.execute(sql`
          insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, reverses_entry_id, source, posted_by, posted_by_label)
          select id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, reverses_entry_id, source, posted_by, posted_by_label
          from json_to_recordset(${JSON.stringify(entryRows)}::json) as r(
            id uuid, org_id uuid, entity_id uuid, entry_number bigint, entry_date date, description text, idempotency_key text,
            content_hash text, reverses_entry_id uuid, source text, posted_by uuid, posted_by_label text)`);
        const lineRows = fresh.flatMap((p) =>
          p.lines.map((l) => ({
            org_id: ctx.orgId, entry_id: p.id, line_no: l.lineNo, entity_id: p.entityId, account_id: l.accountId, entry_date: p.entryDate,
            amount: l.amount, currency: l.currency, rate: l.rate, functional_amount: l.functionalAmount,
            memo: l.memo, counterparty: l.counterparty, reference: l.reference, dimensions: l.dimensions,
          })),
        );
        await tx.execute(sql`
          insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, memo, counterparty, reference, dimensions)
          select org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, memo, counterparty, reference, dimensions
          from json_to_recordset(${JSON.stringify(lineRows)}::json) as r(
            org_id uuid, entry_id uuid, line_no int, entity_id uuid, account_id uuid, entry_date date, amount numeric, currency text,
            rate numeric, functional_amount numeric, memo text, counterparty text, reference text, dimensions jsonb)`);
        await appendAudit(
          tx,
          ctx,
          fresh.map((p) => ({
            action: p.reversesEntryId ? "journal_entry.reversed" : "journal_entry.posted",
            entityType: "journal_entry",
            entityId: p.id,
            data: {
              entryNumber: numbers.get(p.id)!, entityId: p.entityId, entryDate: p.entryDate, description: p.description,
              idempotencyKey: p.idempotencyKey, contentHash: p.contentHash, lineCount: p.lines.length,
              total: `${p.total} ${p.functionalCurrency}`, reversesEntryId: p.reversesEntryId,
            },
          })),
        );
        for (const p of fresh) results.set(p.idempotencyKey, { entryId: p.id, entryNumber: numbers.get(p.id)!, replayed: false });
      }
      return prepared.map((p) => results.get(p.idempotencyKey)!);
    });
  } catch (e) {
    throw fromDbError(e) ?? e;
  }
}

function prepareEntry(
  p: ReturnType<typeof journalEntryInput.parse> & { reversesEntryId: string | null },
  entities: Map<string, EntityRow>,
  accounts: Map<string, AccountRow>,
): PreparedEntry {
  const entity = entities.get(p.entityId);
  if (!entity) throw new AppError("not_found", "The entity was not found.");
  const functional = entity.functional_currency;
  const lines: PreparedLine[] = p.lines.map((l, i) => {
    const where = `Line ${i + 1}`;
    const account = accounts.get(l.accountId);
    if (!account || account.entity_id !== p.entityId) throw new AppError("validation", `${where}: the account was not found in ${entity.name}.`, { [`lines.${i}.accountId`]: ["Unknown account"] });
    if (!account.is_active) throw new AppError("validation", `${where}: account ${account.code} is inactive.`, { [`lines.${i}.accountId`]: ["Inactive account"] });
    const currency = l.currency ?? account.currency;
    if (currency !== account.currency) throw new AppError("validation", `${where}: account ${account.code} is kept in ${account.currency}, not ${currency}.`, { [`lines.${i}.currency`]: ["Currency differs from the account"] });
    if (decimalPlaces(l.amount) > minorUnits(currency)) throw new AppError("validation", `${where}: ${currency} has ${minorUnits(currency)} decimal places; ${l.amount} has more.`, { [`lines.${i}.amount`]: ["Too many decimal places"] });
    let rate = l.rate ?? (currency === functional ? "1" : undefined);
    if (rate === undefined) throw new AppError("validation", `${where}: a ${currency} line in a ${functional} entity needs an exchange rate.`, { [`lines.${i}.rate`]: ["Rate required"] });
    if (currency === functional && !money(rate).eq(1)) throw new AppError("validation", `${where}: a line in the functional currency has rate 1.`, { [`lines.${i}.rate`]: ["Must be 1"] });
    const functionalAmount = l.functionalAmount !== undefined ? money(l.functionalAmount) : roundTo(money(l.amount).times(rate), functional);
    if (decimalPlaces(functionalAmount.toFixed()) > minorUnits(functional)) throw new AppError("validation", `${where}: the functional amount has more decimals than ${functional} allows.`);
    if (functionalAmount.isZero() || functionalAmount.isNeg() !== money(l.amount).isNeg()) throw new AppError("validation", `${where}: the functional amount must have the same sign as the amount and not be zero.`);
    rate = money(rate).toFixed();
    return {
      lineNo: i + 1, accountId: l.accountId, amount: money(l.amount).toFixed(), currency, rate,
      functionalAmount: functionalAmount.toFixed(), memo: l.memo ?? null, counterparty: l.counterparty ?? null,
      reference: l.reference ?? null, dimensions: l.dimensions ?? {},
    };
  });
  const debits = sum(lines.filter((l) => !l.functionalAmount.startsWith("-")).map((l) => l.functionalAmount));
  const credits = sum(lines.filter((l) => l.functionalAmount.startsWith("-")).map((l) => l.functionalAmount)).neg();
  if (!debits.eq(credits)) {
    throw new AppError("unbalanced", `The entry does not balance: debits ${formatMoney(debits, functional)} and credits ${formatMoney(credits, functional)} ${functional} differ by ${formatMoney(debits.minus(credits).abs(), functional)}.`);
  }
  const source = p.source ?? (p.reversesEntryId ? "reversal" : "manual");
  const content = { entityId: p.entityId, entryDate: p.entryDate, description: p.description, reversesEntryId: p.reversesEntryId, source, lines: lines.map(({ lineNo: _n, ...rest }) => rest) };
  return {
    id: randomUUID(), entityId: p.entityId, entryDate: p.entryDate, description: p.description, idempotencyKey: p.idempotencyKey,
    source, reversesEntryId: p.reversesEntryId, contentHash: createHash("sha256").update(canonicalJson(content)).digest("hex"),
    lines, total: debits.toFixed(minorUnits(functional)), functionalCurrency: functional,
  };
}

async function loadEntities(tx: Db, orgId: string, ids: string[]) {
  const rows = await tx.execute<EntityRow>(sql`
    select id, name, functional_currency from entities where org_id = ${orgId} and id in (select unnest(${pgTextArray([...new Set(ids)])}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r]));
}

async function loadAccounts(tx: Db, orgId: string, ids: string[]) {
  const rows = await tx.execute<AccountRow>(sql`
    select id, entity_id, code, currency, is_active from accounts where org_id = ${orgId} and id in (select unnest(${pgTextArray([...new Set(ids)])}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r]));
}

/** Refuses dates in closed (or missing) periods with the period's name; the trigger re-checks. */
async function assertPeriodsOpen(tx: Db, orgId: string, entries: PreparedEntry[], entities: Map<string, EntityRow>) {
  const pairs = [...new Set(entries.map((e) => `${e.entityId}|${e.entryDate}`))].map((s) => s.split("|"));
  const rows = await tx.execute<{ entity_id: string; d: string; name: string | null; status: string | null }>(sql`
    select q.entity_id, q.d::text as d, p.name, p.status
    from json_to_recordset(${JSON.stringify(pairs.map(([entity_id, d]) => ({ entity_id, d })))}::json) as q(entity_id uuid, d date)
    left join fiscal_periods p on p.org_id = ${orgId} and p.entity_id = q.entity_id and q.d between p.starts_on and p.ends_on`);
  for (const r of rows) {
    const entity = entities.get(r.entity_id)?.name ?? "the entity";
    if (r.status === null) throw new AppError("no_period", `No fiscal period covers ${r.d} for ${entity}.`);
    if (r.status === "closed") throw new AppError("period_closed", `Period ${r.name} of ${entity} is closed; nothing can be posted on ${r.d}.`);
  }
}

/** Gapless per-entity numbers, allocated under the organisation lock the caller holds. */
async function allocateEntryNumbers(tx: Db, orgId: string, entries: PreparedEntry[]) {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.entityId, (counts.get(e.entityId) ?? 0) + 1);
  const numbers = new Map<string, number>();
  for (const [entityId, n] of counts) {
    const [row] = await tx.execute<{ last_number: string }>(sql`
      insert into entry_sequences (org_id, entity_id, last_number) values (${orgId}, ${entityId}, ${n})
      on conflict (entity_id) do update set last_number = entry_sequences.last_number + excluded.last_number
      returning last_number`);
    let next = Number(row.last_number) - n;
    for (const e of entries) if (e.entityId === entityId) numbers.set(e.id, ++next);
  }
  return numbers;
}

/** A PostgreSQL array literal passed as one parameter (drizzle would spread a JS array into a list). */
export function pgTextArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}
