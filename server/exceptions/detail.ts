import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { addDays, loadLedgerLines, loadSourceRow, loadTransactions, type SourceRow } from "@/server/matching/records";
import { listMatches, type MatchView } from "@/server/matching/queries";
import type { MatchRecord, NearMiss } from "@/server/matching/types";
import { EXCEPTION_KINDS, REASON_CODES, RESOLUTIONS } from "./kinds";
import { holdsException } from "./waiting";

/**
 * One exception with everything needed to decide in one screen: its record, the nearest
 * candidates with their signal breakdown and the criterion each failed (as the run saw them,
 * re-read live so a candidate taken since says so), the proposed match for a mismatch, the
 * comment thread and the history.
 */

export type RecordView = { key: string; date: string; amount: string; currency: string; counterparty: string | null; reference: string | null; description: string | null };

export type Candidate = NearMiss & { record: RecordView | null; free: boolean };

export type ExceptionDetail = {
  id: string; kind: string; kindLabel: string; status: string; severity: string; title: string;
  sourceId: string | null; sourceName: string | null; amount: string | null; currency: string | null;
  occurredOn: string; raisedAt: string; dueAt: string | null; assigneeId: string | null; assignee: string | null;
  snoozedUntil: string | null; resolution: string | null; resolutionLabel: string | null; reasonCode: string | null; reasonLabel: string | null;
  resolutionNote: string | null; resolvedBy: string | null; resolvedAt: string | null; details: Record<string, unknown>;
  /** Which reconciliation the record belongs to, when it is a record that can be matched. */
  reconciliation: { sourceId: string; pairing: "ledger" | "source"; counterpartSourceId: string | null; counterpartName: string; side: "left" | "right" } | null;
  subject: RecordView | null;
  candidates: Candidate[];
  match: MatchView | null;
  pendingApproval: { id: string; summary: string } | null;
  comments: { id: number; author: string; body: string; at: string }[];
  events: { id: number; action: string; actor: string; data: Record<string, unknown>; at: string }[];
};

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

type ExceptionRow = {
  id: string; kind: string; status: string; severity: string; title: string; source_id: string | null; source_name: string | null; amount: string | null;
  currency: string | null; occurred_on: string; raised_at: Date; due_at: Date | null; assignee_id: string | null; assignee: string | null; snoozed_until: Date | null;
  resolution: string | null; reason_code: string | null; resolution_note: string | null; resolved_by: string | null; resolved_at: Date | null;
  details: Record<string, unknown>; subject_key: string | null; match_id: string | null; counterpart_source_id: string | null; counterpart_name: string | null;
};

async function loadExceptionRow(tx: Db, ctx: Ctx, id: string): Promise<ExceptionRow> {
  if (!isUuid(id)) throw notFound("The exception");
  const [e] = await tx.execute<ExceptionRow>(sql`
    select e.id, e.kind, e.status, e.severity, e.title, e.source_id, s.name as source_name, e.amount::text, e.currency, e.occurred_on::text, e.raised_at, e.due_at,
           e.assignee_id, u.email as assignee, e.snoozed_until, e.resolution, e.reason_code, e.resolution_note, r.email as resolved_by, e.resolved_at,
           e.details, e.subject_key, e.match_id, run.counterpart_source_id, cs.name as counterpart_name
    from exceptions e left join sources s on s.id = e.source_id left join users u on u.id = e.assignee_id left join users r on r.id = e.resolved_by
    left join match_runs run on run.org_id = e.org_id and run.id::text = e.details->>'runId'
    left join sources cs on cs.id = run.counterpart_source_id
    where e.org_id = ${ctx.orgId} and e.id = ${id}`);
  if (!e) throw notFound("The exception");
  return e;
}

type RecordContext = { reconciliation: ExceptionDetail["reconciliation"]; subject: RecordView | null; candidates: Candidate[] };

/** For an unmatched record: which reconciliation it belongs to, the record itself and its nearest candidates, re-read live. */
async function recordContext(tx: Db, ctx: Ctx, e: ExceptionRow): Promise<RecordContext> {
  const sk = e.subject_key ?? "";
  if (!e.source_id || !(sk.startsWith("ct:") || sk.startsWith("jl:")) || (e.kind !== "unmatched_transaction" && e.kind !== "unmatched_ledger_line")) {
    return { reconciliation: null, subject: null, candidates: [] };
  }
  const pairing = e.details.pairing === "source" ? "source" : "ledger";
  const source = (await loadSourceRow(tx, ctx.orgId, e.source_id))!;
  const side = sk.startsWith("jl:") || (pairing === "source" && e.details.side === "right") ? "right" : "left";
  const [acct] = await tx.execute<{ label: string }>(sql`select code || ' ' || name as label from accounts where id = ${source.gl_account_id}`);
  const nearest = (e.details.nearest as NearMiss[] | undefined) ?? [];
  const records = await recordsByKey(tx, ctx.orgId, [sk, ...nearest.map((n) => n.id)], pairing);
  return {
    reconciliation: {
      sourceId: source.id, pairing, counterpartSourceId: e.counterpart_source_id, side,
      counterpartName: pairing === "source" ? (e.counterpart_name ?? "the counterpart source") : `Ledger ${acct?.label ?? ""}`.trim(),
    },
    subject: records.get(sk)?.view ?? null,
    candidates: nearest.map((n) => ({ ...n, record: records.get(n.id)?.view ?? null, free: records.get(n.id)?.free ?? false })),
  };
}

export async function getException(db: Db, ctx: Ctx, id: string): Promise<ExceptionDetail> {
  requirePermission(ctx, "ledger.read");
  const base = await inOrg(db, ctx, async (tx) => {
    const e = await loadExceptionRow(tx, ctx, id);
    const comments = await tx.execute<{ id: number; author: string; body: string; at: Date }>(sql`
      select id, author_label as author, body, at from exception_comments where org_id = ${ctx.orgId} and exception_id = ${id} order by id`);
    const events = await tx.execute<{ id: number; action: string; actor: string; data: Record<string, unknown>; at: Date }>(sql`
      select id, action, actor_label as actor, data, at from exception_events where org_id = ${ctx.orgId} and exception_id = ${id} order by id`);
    // What waits for approval about this exception (waiting.ts): its write-off or adjustment, or a forced match holding its record.
    const [pending] = await tx.execute<{ id: string; summary: string }>(sql`
      select q.id, q.summary from approval_requests q where q.org_id = ${ctx.orgId} and ${holdsException(sql`${id}::uuid`, sql`${e.subject_key}`)}
      order by q.created_at desc limit 1`);
    return { e, comments, events, pending: pending ?? null, ...(await recordContext(tx, ctx, e)) };
  });
  const { e } = base;
  const match = e.match_id ? (await listMatches(db, ctx, { statuses: ["suggested", "auto_matched", "confirmed", "rejected", "undone", "superseded"], ids: [e.match_id] })).rows[0] ?? null : null;
  return {
    id: e.id, kind: e.kind, kindLabel: EXCEPTION_KINDS[e.kind as keyof typeof EXCEPTION_KINDS] ?? e.kind, status: e.status, severity: e.severity, title: e.title,
    sourceId: e.source_id, sourceName: e.source_name, amount: e.amount, currency: e.currency, occurredOn: e.occurred_on, raisedAt: iso(e.raised_at)!, dueAt: iso(e.due_at),
    assigneeId: e.assignee_id, assignee: e.assignee, snoozedUntil: iso(e.snoozed_until), resolution: e.resolution,
    resolutionLabel: e.resolution ? RESOLUTIONS[e.resolution as keyof typeof RESOLUTIONS] ?? e.resolution : null,
    reasonCode: e.reason_code, reasonLabel: e.reason_code ? REASON_CODES[e.reason_code as keyof typeof REASON_CODES] ?? e.reason_code : null,
    resolutionNote: e.resolution_note, resolvedBy: e.resolved_by, resolvedAt: iso(e.resolved_at), details: e.details,
    reconciliation: base.reconciliation, subject: base.subject, candidates: base.candidates, match, pendingApproval: base.pending,
    comments: base.comments.map((c) => ({ ...c, id: Number(c.id), at: iso(c.at)! })),
    events: base.events.map((v) => ({ ...v, id: Number(v.id), at: iso(v.at)! })),
  };
}

/** Records by key ("ct:1", "jl:2") as a person reads them, and whether each is still free in this pairing. */
async function recordsByKey(tx: Db, orgId: string, keys: string[], pairing: "ledger" | "source") {
  const ids = (kind: string) => `{${keys.filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(3)).join(",")}}`;
  const rows = await tx.execute<RecordView & { free: boolean }>(sql`
    select 'ct:' || t.id as key, t.booked_date::text as date, t.amount::text, t.currency, t.counterparty_name as counterparty, t.reference, t.description,
           not exists (select 1 from match_members m where m.canonical_transaction_id = t.id and m.pairing = ${pairing} and m.active) as free
    from canonical_transactions t where t.org_id = ${orgId} and t.id = any(${ids("ct")}::bigint[])
    union all
    select 'jl:' || l.id, l.entry_date::text, l.amount::text, l.currency, l.counterparty, l.reference, coalesce(l.memo, j.description),
           not exists (select 1 from match_members m where m.journal_line_id = l.id and m.active)
    from journal_lines l join journal_entries j on j.id = l.entry_id where l.org_id = ${orgId} and l.id = any(${ids("jl")}::bigint[])`);
  return new Map(rows.map(({ free, ...view }) => [view.key, { view, free }]));
}

export const freeRecordsInput = z.object({
  exceptionId: z.string(),
  /** "same": more records on the exception's own side (many-to-one); "other": the counterpart side. */
  side: z.enum(["same", "other"]),
  /** Days either side of the exception's date. */
  days: z.coerce.number().int().min(1).max(120).default(50),
  q: z.string().trim().max(100).optional(),
});

/**
 * Records a person can add to a manual match for this exception: free (in no active match of the
 * pairing) and dated near it, on the exception's side or the other. At most 200, nearest amount first.
 */
export async function listFreeRecords(db: Db, ctx: Ctx, input: z.input<typeof freeRecordsInput>): Promise<{ records: RecordView[]; truncated: boolean }> {
  requirePermission(ctx, "ledger.read");
  const inp = freeRecordsInput.parse(input);
  // Called as a person types in the builder's search: the exception row and its record only, in
  // the same transaction as the search (not the whole detail with thread, history and match).
  return inOrg(db, ctx, async (tx) => {
    const { reconciliation: rec, subject } = await recordContext(tx, ctx, await loadExceptionRow(tx, ctx, inp.exceptionId));
    if (!rec || !subject) throw new AppError("validation", "This kind of exception is not resolved by matching records.");
    const range = { from: addDays(subject.date, -inp.days), to: addDays(subject.date, inp.days) };
    const source = (await loadSourceRow(tx, ctx.orgId, rec.sourceId))!;
    const counterpart: SourceRow | null = rec.counterpartSourceId ? (await loadSourceRow(tx, ctx.orgId, rec.counterpartSourceId)) ?? null : null;
    const leftSide = (inp.side === "same") === (rec.side === "left");
    const limit = 2000;
    const records: MatchRecord[] = leftSide
      ? await loadTransactions(tx, ctx.orgId, source, range, { pairing: rec.pairing, limit })
      : rec.pairing === "source" && counterpart
        ? await loadTransactions(tx, ctx.orgId, counterpart, range, { pairing: rec.pairing, limit })
        : await loadLedgerLines(tx, ctx.orgId, source.gl_account_id, range, { free: true, limit });
    const needle = inp.q?.toLowerCase();
    const target = money(subject.amount);
    const gap = (r: MatchRecord) => money(r.amount).minus(target).abs();
    const views = records
      .filter((r) => r.id !== subject.key)
      .filter((r) => !needle || [r.counterparty, r.reference, r.description, r.amount].some((v) => (v ?? "").toLowerCase().includes(needle)))
      .sort((a, b) => gap(a).comparedTo(gap(b)) || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
      .map((r) => ({ key: r.id, date: r.date, amount: r.amount, currency: r.currency, counterparty: r.counterparty ?? null, reference: r.reference ?? null, description: r.description ?? null }));
    return { records: views.slice(0, 200), truncated: views.length > 200 || records.length === limit };
  });
}
