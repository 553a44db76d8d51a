import { hash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { executePrepared } from "@/server/db/prepared";
import { timeOrderedIds } from "@/server/db/time-ordered-ids";
import { inOrg } from "@/server/db/tenant";
import { AppError, fieldErrorsOf, fromDbError } from "@/server/errors";
import { auditRows, chainHead, insertAuditRows, lockOrgChain } from "@/server/audit/append-audit";
import { canonicalJson } from "@/server/canonical-json";
import { decimalPlaces, formatMoney, fromUnits4, minorUnits, money, normaliseDecimal, roundTo, sum, toUnits4 } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { journalEntryInput, type JournalEntryInput } from "./schemas";

export type PostingInput = JournalEntryInput & { reversesEntryId?: string };
export type PostingResult = { entryId: string; entryNumber: number; replayed: boolean };

type AccountRow = { id: string; entity_id: string; code: string; currency: string; is_active: boolean };
type EntityRow = { id: string; name: string; functional_currency: string };

/** A line as stored and as hashed into its entry's content hash; its number is its place in the entry. */
type PreparedLine = {
  accountId: string; amount: string; counterparty: string | null; currency: string; dimensions: Record<string, string>;
  functionalAmount: string; memo: string | null; rate: string; reference: string | null;
};
type PreparedEntry = {
  id: string; entityId: string; entryDate: string; description: string; idempotencyKey: string; source: string;
  reversesEntryId: string | null; contentHash: string; lines: PreparedLine[]; total: string; functionalCurrency: string;
  /** Set when the entry is numbered, under the organisation lock. */
  entryNumber?: number;
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
  try {
    return await inOrg(db, ctx, async (tx) => {
      // One round trip, sent before the inputs are validated so that PostgreSQL answers while Node
      // starts on them: the chain lock (every read below runs after it is granted), the entities
      // and accounts named, the periods of the dates, prior postings of these keys, the entry
      // counters and the audit chain's head.
      const wanted = lookupTargets(inputs);
      const [, entities, accounts, periods, prior, counters, head] = await Promise.all([
        lockOrgChain(tx, ctx.orgId),
        loadEntities(tx, ctx.orgId, wanted.entityIds),
        loadAccounts(tx, ctx.orgId, wanted.accountIds),
        loadPeriods(tx, ctx.orgId, wanted.periods),
        loadPriorPostings(tx, ctx.orgId, wanted.keys),
        executePrepared<{ entity_id: string; last_number: string }>(tx, sql`
          select entity_id, last_number from entry_sequences where org_id = ${ctx.orgId} and entity_id in (select unnest(${pgTextArray(wanted.entityIds)}::uuid[]))`),
        chainHead(tx, ctx.orgId),
      ]).catch((e) => {
        inputs.forEach((input, i) => validEntry(input, i, inputs.length)); // a value PostgreSQL could not read is refused as invalid input
        throw e;
      });
      const periodsOfDay = new Map<string, PeriodRow[]>();
      for (const r of periods) {
        const day = `${r.entity_id}|${r.d}`;
        periodsOfDay.set(day, [...(periodsOfDay.get(day) ?? []), r]);
      }
      const lookedUp = new Set(wanted.keys);

      // The entries go out in chunks, as a pipeline: while PostgreSQL writes one chunk, Node
      // validates, hashes and builds the next, so neither side waits for the other. Any refusal
      // below throws, and the whole transaction rolls back with whatever was already sent.
      const writes: Promise<unknown>[] = [];
      const send = <T>(q: PromiseLike<T>): Promise<T> => {
        const p = new Promise<T>((resolve, reject) => q.then(resolve, reject));
        p.catch(() => {}); // settled below, in order
        writes.push(p);
        return p;
      };
      const results = new Map<string, PostingResult>();
      const known = new Map(prior.map((e) => [e.idempotency_key, e]));
      const freshByKey = new Map<string, PreparedEntry>();
      // Gapless per-entity numbers continue the counters read under the lock; the counter update
      // at the end must return exactly the last number handed out, or the posting is abandoned.
      const last = new Map(counters.map((c) => [c.entity_id, Number(c.last_number)]));
      const used = new Map<string, number>();
      let chain = head;
      const at = new Date();
      const prepared: PreparedEntry[] = [];
      // Time-ordered entry ids: the entries' primary key and the lines' (entry_id, line_no) index
      // grow at their right edge instead of taking each new entry on a random page.
      const nextEntryId = timeOrderedIds();
      for (let start = 0, size = FIRST_CHUNK; start < inputs.length; start += size, size = PIPELINE_CHUNK) {
        // Validated chunk by chunk, so PostgreSQL writes the first while Node validates the rest. An
        // entry is refused as invalid, then for an unknown entity, then for its period: before the
        // periods, so an unknown entity is refused as not found rather than as having no period.
        const parsed = inputs.slice(start, start + size).map((input, i) => validEntry(input, start + i, inputs.length));
        for (const p of parsed) if (!entities.has(p.entityId)) throw new AppError("not_found", "The entity was not found.");
        assertPeriodsOpen(parsed.flatMap((p) => periodsOfDay.get(`${p.entityId}|${p.entryDate}`) ?? [{ entity_id: p.entityId, d: p.entryDate, name: null, status: null }]), entities);
        // Validation trims keys: one that changed was looked up in its raw form, so look it up again.
        const retrimmed = parsed.map((p) => p.idempotencyKey).filter((k) => !lookedUp.has(k));
        if (retrimmed.length) {
          for (const e of await loadPriorPostings(tx, ctx.orgId, retrimmed)) known.set(e.idempotency_key, e);
          for (const k of retrimmed) lookedUp.add(k);
        }
        const chunk = parsed.map((p) => prepareEntry(p, entities, accounts, nextEntryId()));
        prepared.push(...chunk);
        // Idempotency: replays return the stored entry; the same key with other content is refused.
        const fresh: PreparedEntry[] = [];
        for (const p of chunk) {
          const prior = known.get(p.idempotencyKey);
          const seenInBatch = freshByKey.get(p.idempotencyKey);
          const priorHash = prior?.content_hash ?? seenInBatch?.contentHash;
          if (priorHash !== undefined && priorHash !== p.contentHash) {
            throw new AppError("idempotency_conflict", `Idempotency key "${p.idempotencyKey}" was already used for an entry with different content. Use a new key for a new entry.`);
          }
          if (prior) results.set(p.idempotencyKey, { entryId: prior.id, entryNumber: Number(prior.entry_number), replayed: true });
          else if (!seenInBatch) {
            const n = (last.get(p.entityId) ?? 0) + 1;
            last.set(p.entityId, n);
            used.set(p.entityId, (used.get(p.entityId) ?? 0) + 1);
            p.entryNumber = n;
            fresh.push(p);
            freshByKey.set(p.idempotencyKey, p);
            results.set(p.idempotencyKey, { entryId: p.id, entryNumber: n, replayed: false });
          }
        }
        if (fresh.length === 0) continue;
        send(insertEntries(tx, ctx, fresh));
        send(insertLines(tx, ctx, fresh));
        // Audit data keys in canonical order, so the hash takes the native serialiser.
        const rows = auditRows(ctx, fresh.map((p) => ({
          action: p.reversesEntryId ? "journal_entry.reversed" : "journal_entry.posted",
          entityType: "journal_entry",
          entityId: p.id,
          data: {
            contentHash: p.contentHash, description: p.description, entityId: p.entityId, entryDate: p.entryDate, entryNumber: p.entryNumber,
            idempotencyKey: p.idempotencyKey, lineCount: p.lines.length, reversesEntryId: p.reversesEntryId, total: `${p.total} ${p.functionalCurrency}`,
          },
        })), chain, at);
        chain = rows[rows.length - 1];
        send(insertAuditRows(tx, ctx, rows));
        await yieldToIo(); // lets postgres.js put this chunk on the socket before Node builds the next
      }

      if (used.size > 0) {
        const entityIds = [...used.keys()];
        const counted = send(executePrepared<{ entity_id: string; last_number: string }>(tx, sql`
          insert into entry_sequences (org_id, entity_id, last_number)
          select ${ctx.orgId}::uuid, e, n from unnest(${pgTextArray(entityIds)}::uuid[], ${bare(entityIds.map((e) => used.get(e)!))}::bigint[]) as u(e, n)
          on conflict (entity_id) do update set last_number = entry_sequences.last_number + excluded.last_number
          returning entity_id, last_number`));
        // The first failure in sending order is the cause; later ones only report the aborted transaction.
        const settled = await Promise.allSettled(writes);
        const failed = settled.find((r) => r.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
        for (const c of await counted) {
          if (Number(c.last_number) !== last.get(c.entity_id)) throw new Error(`entry counter of entity ${c.entity_id} moved outside the organisation lock`);
        }
      }
      return prepared.map((p) => results.get(p.idempotencyKey)!);
    });
  } catch (e) {
    throw fromDbError(e) ?? e;
  }
}

/** The input as the schema reads it, or a refusal naming the entry and the field. */
function validEntry(input: PostingInput, i: number, count: number) {
  const r = journalEntryInput.safeParse(input);
  if (!r.success) {
    const where = count > 1 ? ` (entry ${i + 1})` : "";
    throw new AppError("validation", `The entry is not valid${where}: ${r.error.issues[0].path.join(".")} — ${r.error.issues[0].message}`, fieldErrorsOf(r.error));
  }
  return { ...r.data, reversesEntryId: input.reversesEntryId ?? null };
}

/**
 * Entries per pipelined chunk: big enough that a chunk's statements cost little, small enough to
 * overlap. The first is smaller, since PostgreSQL waits while Node prepares it.
 */
const FIRST_CHUNK = 50;
const PIPELINE_CHUNK = 250;

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

function insertEntries(tx: Db, ctx: Ctx, entries: PreparedEntry[]) {
  const rows = entries.map((p) => ({
    id: p.id, entity_id: p.entityId, entry_number: p.entryNumber, entry_date: p.entryDate, description: p.description,
    idempotency_key: p.idempotencyKey, content_hash: p.contentHash, reverses_entry_id: p.reversesEntryId, source: p.source,
  }));
  return executePrepared(tx, sql`
    insert into journal_entries (id, org_id, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, reverses_entry_id, source, posted_by, posted_by_label)
    select id, ${ctx.orgId}::uuid, entity_id, entry_number, entry_date, description, idempotency_key, content_hash, reverses_entry_id, source, ${ctx.userId}::uuid, ${ctx.actorLabel}::text
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
      id uuid, entity_id uuid, entry_number bigint, entry_date date, description text, idempotency_key text,
      content_hash text, reverses_entry_id uuid, source text)`);
}

function insertLines(tx: Db, ctx: Ctx, entries: PreparedEntry[]) {
  const lines = lineArrays(entries);
  return executePrepared(tx, sql`
    insert into journal_lines (org_id, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, memo, counterparty, reference, dimensions)
    select ${ctx.orgId}::uuid, entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, memo, counterparty, reference, coalesce(dimensions, '{}'::jsonb)
    from unnest(${lines.entryId}::uuid[], ${lines.lineNo}::int[], ${lines.entityId}::uuid[], ${lines.accountId}::uuid[], ${lines.entryDate}::date[],
      ${lines.amount}::numeric[], ${lines.currency}::text[], ${lines.rate}::numeric[], ${lines.functionalAmount}::numeric[],
      ${lines.memo}::text[], ${lines.counterparty}::text[], ${lines.reference}::text[], ${lines.dimensions}::jsonb[])
      as r(entry_id, line_no, entity_id, account_id, entry_date, amount, currency, rate, functional_amount, memo, counterparty, reference, dimensions)`);
}

/** Array literal of values that need no quoting (uuids, numbers, ISO dates, decimal strings). */
const bare = (values: (string | number)[]) => `{${values.join(",")}}`;
/** Array literal of optional text, each element quoted. */
const quoted = (values: (string | null)[]) => `{${values.map((v) => (v === null ? "NULL" : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;

/** The lines of the batch as one array literal per column, for a single INSERT … SELECT FROM unnest(…). */
function lineArrays(entries: PreparedEntry[]) {
  const entryId: string[] = [], lineNo: number[] = [], entityId: string[] = [], accountId: string[] = [], entryDate: string[] = [];
  const amount: string[] = [], currency: string[] = [], rate: string[] = [], functionalAmount: string[] = [];
  const memo: (string | null)[] = [], counterparty: (string | null)[] = [], reference: (string | null)[] = [], dimensions: (string | null)[] = [];
  for (const e of entries) {
    for (let i = 0; i < e.lines.length; i++) {
      const l = e.lines[i];
      entryId.push(e.id); lineNo.push(i + 1); entityId.push(e.entityId); accountId.push(l.accountId); entryDate.push(e.entryDate);
      amount.push(l.amount); currency.push(l.currency); rate.push(l.rate); functionalAmount.push(l.functionalAmount);
      memo.push(l.memo); counterparty.push(l.counterparty); reference.push(l.reference);
      dimensions.push(Object.keys(l.dimensions).length ? JSON.stringify(l.dimensions) : null);
    }
  }
  return {
    entryId: bare(entryId), lineNo: bare(lineNo), entityId: bare(entityId), accountId: bare(accountId), entryDate: bare(entryDate),
    amount: bare(amount), currency: quoted(currency), rate: bare(rate), functionalAmount: bare(functionalAmount),
    memo: quoted(memo), counterparty: quoted(counterparty), reference: quoted(reference), dimensions: quoted(dimensions),
  };
}

/** How a refusal names a line; built only when a line is refused, which most batches never are. */
const lineLabel = (i: number) => `Line ${i + 1}`;

function prepareEntry(
  p: ReturnType<typeof validEntry>,
  entities: Map<string, EntityRow>,
  accounts: Map<string, AccountRow>,
  id: string,
): PreparedEntry {
  const entity = entities.get(p.entityId);
  if (!entity) throw new AppError("not_found", "The entity was not found.");
  const functional = entity.functional_currency;
  const lines: PreparedLine[] = p.lines.map((l, i) => {
    const account = accounts.get(l.accountId);
    if (!account || account.entity_id !== p.entityId) throw new AppError("validation", `${lineLabel(i)}: the account was not found in ${entity.name}.`, { [`lines.${i}.accountId`]: ["Unknown account"] });
    if (!account.is_active) throw new AppError("validation", `${lineLabel(i)}: account ${account.code} is inactive.`, { [`lines.${i}.accountId`]: ["Inactive account"] });
    const currency = l.currency ?? account.currency;
    if (currency !== account.currency) throw new AppError("validation", `${lineLabel(i)}: account ${account.code} is kept in ${account.currency}, not ${currency}.`, { [`lines.${i}.currency`]: ["Currency differs from the account"] });
    if (decimalPlaces(l.amount) > minorUnits(currency)) throw new AppError("validation", `${lineLabel(i)}: ${currency} has ${minorUnits(currency)} decimal places; ${l.amount} has more.`, { [`lines.${i}.amount`]: ["Too many decimal places"] });
    let rate = l.rate ?? (currency === functional ? "1" : undefined);
    if (rate === undefined) throw new AppError("validation", `${lineLabel(i)}: a ${currency} line in a ${functional} entity needs an exchange rate.`, { [`lines.${i}.rate`]: ["Rate required"] });
    const amount = normaliseDecimal(l.amount);
    let functionalAmount = amount;
    // The common line: functional currency at rate 1, no functional amount given. Its functional
    // amount is its amount (the decimal places were checked against this very currency above).
    if (!(currency === functional && rate === "1" && l.functionalAmount === undefined)) {
      if (currency === functional && !money(rate).eq(1)) throw new AppError("validation", `${lineLabel(i)}: a line in the functional currency has rate 1.`, { [`lines.${i}.rate`]: ["Must be 1"] });
      const exact = l.functionalAmount !== undefined ? money(l.functionalAmount) : roundTo(money(l.amount).times(rate), functional);
      if (decimalPlaces(exact.toFixed()) > minorUnits(functional)) throw new AppError("validation", `${lineLabel(i)}: the functional amount has more decimals than ${functional} allows.`);
      if (exact.isZero() || exact.isNeg() !== money(l.amount).isNeg()) throw new AppError("validation", `${lineLabel(i)}: the functional amount must have the same sign as the amount and not be zero.`);
      rate = money(rate).toFixed();
      functionalAmount = exact.toFixed();
    }
    // Keys in canonical (sorted) order: the line is hashed as it is, with the native serialiser.
    return {
      accountId: l.accountId, amount, counterparty: l.counterparty ?? null, currency, dimensions: l.dimensions ?? {},
      functionalAmount, memo: l.memo ?? null, rate, reference: l.reference ?? null,
    };
  });
  // Exact sums in 1/10,000 units (every functional amount has at most 4 decimals).
  let debitUnits = 0n;
  let creditUnits = 0n;
  for (const l of lines) {
    const u = toUnits4(l.functionalAmount);
    if (u < 0n) creditUnits -= u;
    else debitUnits += u;
  }
  if (debitUnits !== creditUnits) {
    const debits = sum(lines.filter((l) => !l.functionalAmount.startsWith("-")).map((l) => l.functionalAmount));
    const credits = sum(lines.filter((l) => l.functionalAmount.startsWith("-")).map((l) => l.functionalAmount)).neg();
    throw new AppError("unbalanced", `The entry does not balance: debits ${formatMoney(debits, functional)} and credits ${formatMoney(credits, functional)} ${functional} differ by ${formatMoney(debits.minus(credits).abs(), functional)}.`);
  }
  const source = p.source ?? (p.reversesEntryId ? "reversal" : "manual");
  // Keys in canonical (sorted) order, so canonicalJson can use the native serialiser.
  const content = { description: p.description, entityId: p.entityId, entryDate: p.entryDate, lines, reversesEntryId: p.reversesEntryId, source };
  return {
    id, entityId: p.entityId, entryDate: p.entryDate, description: p.description, idempotencyKey: p.idempotencyKey,
    source, reversesEntryId: p.reversesEntryId, contentHash: hash("sha256", canonicalJson(content)),
    lines, total: fromUnits4(debitUnits, minorUnits(functional)), functionalCurrency: functional,
  };
}

/**
 * What the first round trip looks up, read from inputs not yet validated; each list distinct.
 * Only strings are taken. A value PostgreSQL cannot cast fails the lookups, but only for an input
 * that validation refuses (the caller then reports that); a valid input reads here exactly as
 * validation returns it, except for keys, which validation trims (the caller looks a changed one
 * up again).
 */
function lookupTargets(inputs: PostingInput[]) {
  const text = (v: unknown): v is string => typeof v === "string";
  const keys = new Set<string>(), entityIds = new Set<string>(), accountIds = new Set<string>(), days = new Map<string, { entityId: string; entryDate: string }>();
  for (const input of inputs) {
    if (typeof input !== "object" || input === null) continue;
    if (text(input.idempotencyKey)) keys.add(input.idempotencyKey);
    if (!text(input.entityId)) continue;
    entityIds.add(input.entityId);
    if (text(input.entryDate)) days.set(`${input.entityId}|${input.entryDate}`, { entityId: input.entityId, entryDate: input.entryDate });
    if (Array.isArray(input.lines)) for (const l of input.lines) if (text(l?.accountId)) accountIds.add(l.accountId);
  }
  return { keys: [...keys], entityIds: [...entityIds], accountIds: [...accountIds], periods: [...days.values()] };
}

/** Entries already posted under any of these idempotency keys: one index scan for all of them. */
function loadPriorPostings(tx: Db, orgId: string, keys: string[]) {
  return executePrepared<{ id: string; idempotency_key: string; content_hash: string; entry_number: string }>(tx, sql`
    select id, idempotency_key, content_hash, entry_number from journal_entries
    where org_id = ${orgId} and idempotency_key = any(${pgTextArray(keys)}::text[])`);
}

async function loadEntities(tx: Db, orgId: string, ids: string[]) {
  const rows = await executePrepared<EntityRow>(tx, sql`
    select id, name, functional_currency from entities where org_id = ${orgId} and id in (select unnest(${pgTextArray(ids)}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r]));
}

async function loadAccounts(tx: Db, orgId: string, ids: string[]) {
  const rows = await executePrepared<AccountRow>(tx, sql`
    select id, entity_id, code, currency, is_active from accounts where org_id = ${orgId} and id in (select unnest(${pgTextArray(ids)}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r]));
}

type PeriodRow = { entity_id: string; d: string; name: string | null; status: string | null };

/** The periods covering each distinct (entity, date) of the batch, for readable refusals; the database re-checks. */
function loadPeriods(tx: Db, orgId: string, days: { entityId: string; entryDate: string }[]) {
  return executePrepared<PeriodRow>(tx, sql`
    select q.entity_id, q.d::text as d, p.name, p.status
    from json_to_recordset(${JSON.stringify(days.map((e) => ({ entity_id: e.entityId, d: e.entryDate })))}::json) as q(entity_id uuid, d date)
    left join fiscal_periods p on p.org_id = ${orgId} and p.entity_id = q.entity_id and q.d between p.starts_on and p.ends_on`);
}

/** Refuses dates in closed (or missing) periods with the period's name. */
function assertPeriodsOpen(rows: PeriodRow[], entities: Map<string, EntityRow>) {
  for (const r of rows) {
    const entity = entities.get(r.entity_id)?.name ?? "the entity";
    if (r.status === null) throw new AppError("no_period", `No fiscal period covers ${r.d} for ${entity}.`);
    if (r.status === "closed") throw new AppError("period_closed", `Period ${r.name} of ${entity} is closed; nothing can be posted on ${r.d}.`);
  }
}

/** A PostgreSQL array literal passed as one parameter (drizzle would spread a JS array into a list). */
export function pgTextArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}
