import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { isUuid } from "@/server/ids";
import { notFound } from "@/server/errors";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import type { MatchStatus } from "./lifecycle";
import type { RunCounts } from "./run-matching";

export type MatchRunRow = {
  id: string; sourceId: string; sourceName: string; counterpartKind: "ledger" | "source"; counterpartName: string;
  dateFrom: string; dateTo: string; trigger: string; status: string; counts: Partial<RunCounts>; error: string | null;
  requestedBy: string | null; queuedAt: string; finishedAt: string | null;
};

export async function listMatchRuns(db: Db, ctx: Ctx, q: { limit?: number } = {}): Promise<MatchRunRow[]> {
  requirePermission(ctx, "ledger.read");
  return inOrg(db, ctx, async (tx) => {
    const rows = await tx.execute<MatchRunRow & { queuedAt: Date; finishedAt: Date | null }>(sql`
      select r.id, r.source_id as "sourceId", s.name as "sourceName", r.counterpart_kind as "counterpartKind",
             coalesce(c.name, a.code || ' ' || a.name) as "counterpartName", r.date_from::text as "dateFrom", r.date_to::text as "dateTo",
             r.trigger, r.status, r.counts, r.error, u.email as "requestedBy", r.queued_at as "queuedAt", r.finished_at as "finishedAt"
      from match_runs r join sources s on s.id = r.source_id left join sources c on c.id = r.counterpart_source_id
      left join accounts a on a.id = s.gl_account_id left join users u on u.id = r.requested_by
      where r.org_id = ${ctx.orgId} order by r.queued_at desc limit ${Math.min(q.limit ?? 20, 200)}`);
    return rows.map((r) => ({ ...r, queuedAt: new Date(r.queuedAt).toISOString(), finishedAt: r.finishedAt ? new Date(r.finishedAt).toISOString() : null }));
  });
}

export type MatchMemberView = {
  side: "left" | "right"; key: string; date: string; amount: string; currency: string;
  counterparty: string | null; reference: string | null; description: string | null;
};

export type MatchView = {
  id: string; sourceId: string; sourceName: string; pairing: "ledger" | "source"; level: string; confidence: string; decision: string; status: MatchStatus;
  signals: Record<string, { score: number; weight: number; contribution: number }>; difference: string; currency: string; reason: string;
  decidedBy: string | null; decidedAt: string | null; undoReason: string | null; createdAt: string; members: MatchMemberView[];
};

/** Matches in the given statuses, newest first, with both sides' records as a person reads them. */
/**
 * Matches by status. `order`: "confidence" (the review queue: surest first) or "recent" (what was
 * matched or decided lately first, so a decision just taken is on the first page).
 */
export async function listMatches(db: Db, ctx: Ctx, q: { statuses: MatchStatus[]; sourceId?: string; ids?: string[]; limit?: number; offset?: number; order?: "confidence" | "recent" }): Promise<{ rows: MatchView[]; total: number }> {
  requirePermission(ctx, "ledger.read");
  if (q.sourceId !== undefined && !isUuid(q.sourceId)) throw notFound("The source");
  if (q.ids?.some((id) => !isUuid(id))) throw notFound("The match");
  const statuses = `{${q.statuses.join(",")}}`;
  const where = sql`m.org_id = ${ctx.orgId} and m.status = any(${statuses}::text[]) ${q.sourceId ? sql`and m.source_id = ${q.sourceId}` : sql``}
    ${q.ids ? sql`and m.id = any(${`{${q.ids.join(",")}}`}::uuid[])` : sql``}`;
  return inOrg(db, ctx, async (tx) => {
    const [{ total }] = await tx.execute<{ total: number }>(sql`select count(*)::int as total from matches m where ${where}`);
    const rows = await tx.execute<Omit<MatchView, "members"> & { createdAt: Date; decidedAt: Date | null }>(sql`
      select m.id, m.source_id as "sourceId", s.name as "sourceName", m.pairing, m.level, m.confidence::text, m.decision, m.status, m.signals,
             m.difference::text, m.currency, m.reason, u.email as "decidedBy", m.decided_at as "decidedAt", m.undo_reason as "undoReason", m.created_at as "createdAt"
      from matches m join sources s on s.id = m.source_id left join users u on u.id = m.decided_by
      where ${where}
      order by ${q.order === "recent" ? sql`coalesce(m.decided_at, m.created_at) desc, m.confidence desc` : sql`m.confidence desc, m.created_at desc`}, m.id limit ${Math.min(q.limit ?? 50, 200)} offset ${q.offset ?? 0}`);
    const ids = `{${rows.map((r) => r.id).join(",")}}`;
    const members = rows.length
      ? await tx.execute<MatchMemberView & { matchId: string }>(sql`
          select mm.match_id as "matchId", mm.side, coalesce('ct:' || mm.canonical_transaction_id, 'jl:' || mm.journal_line_id) as key,
                 mm.record_date::text as date, mm.amount::text, coalesce(t.currency, l.currency) as currency,
                 coalesce(t.counterparty_name, l.counterparty) as counterparty, coalesce(t.reference, l.reference) as reference,
                 coalesce(t.description, l.memo, e.description) as description
          from match_members mm
          left join canonical_transactions t on t.id = mm.canonical_transaction_id
          left join journal_lines l on l.id = mm.journal_line_id left join journal_entries e on e.id = l.entry_id
          where mm.org_id = ${ctx.orgId} and mm.match_id = any(${ids}::uuid[]) order by mm.side, mm.record_date, mm.id`)
      : [];
    const byMatch = new Map<string, MatchMemberView[]>();
    for (const m of members) {
      const { matchId, ...rest } = m;
      (byMatch.get(matchId) ?? byMatch.set(matchId, []).get(matchId)!).push(rest);
    }
    return {
      total,
      rows: rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString(), decidedAt: r.decidedAt ? new Date(r.decidedAt).toISOString() : null, members: byMatch.get(r.id) ?? [] })),
    };
  });
}

export type UnmatchedRow = {
  id: string; sourceId: string | null; sourceName: string | null; severity: string; title: string; amount: string | null; currency: string | null;
  assignee: string | null; raisedAt: string;
  details: { recordKey?: string; date?: string; counterparty?: string | null; reference?: string | null; description?: string | null;
    nearest?: { id: string; confidence: number; failed: string[]; detail: string; record: { date: string; amount: string; counterparty: string | null; reference: string | null } | null }[] };
};

/** Open "no match" exceptions, worst first. */
export async function listUnmatched(db: Db, ctx: Ctx, q: { sourceId?: string; limit?: number } = {}): Promise<{ rows: UnmatchedRow[]; total: number }> {
  requirePermission(ctx, "ledger.read");
  if (q.sourceId !== undefined && !isUuid(q.sourceId)) throw notFound("The source");
  const where = sql`e.org_id = ${ctx.orgId} and e.kind = 'unmatched_transaction' and e.status = 'open' ${q.sourceId ? sql`and e.source_id = ${q.sourceId}` : sql``}`;
  return inOrg(db, ctx, async (tx) => {
    const [{ total }] = await tx.execute<{ total: number }>(sql`select count(*)::int as total from exceptions e where ${where}`);
    const rows = await tx.execute<UnmatchedRow & { raisedAt: Date }>(sql`
      select e.id, e.source_id as "sourceId", s.name as "sourceName", e.severity, e.title, e.amount::text, e.currency, u.email as assignee, e.raised_at as "raisedAt", e.details
      from exceptions e left join sources s on s.id = e.source_id left join users u on u.id = e.assignee_id
      where ${where}
      order by array_position(array['critical','high','medium','low'], e.severity), abs(e.amount) desc nulls last, e.id
      limit ${Math.min(q.limit ?? 50, 200)}`);
    return { total, rows: rows.map((r) => ({ ...r, raisedAt: new Date(r.raisedAt).toISOString() })) };
  });
}
