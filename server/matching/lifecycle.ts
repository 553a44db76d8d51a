import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { closeSettledMismatches } from "@/server/exceptions/raise-mismatches";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { formatMoney, money, sum } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { counterpartSchema } from "./run-matching";
import { loadSourceRow } from "./records";
import { effectiveSettings } from "./settings-store";

export type MatchStatus = "suggested" | "auto_matched" | "confirmed" | "rejected" | "undone" | "superseded";

/** The lifecycle, as the trigger matches_transition enforces it too. */
export const TRANSITIONS: Record<MatchStatus, MatchStatus[]> = {
  suggested: ["confirmed", "rejected", "superseded"],
  auto_matched: ["confirmed", "undone", "superseded"],
  confirmed: ["undone"],
  rejected: [],
  undone: [],
  superseded: [],
};

const STATUS_WORDS: Record<MatchStatus, string> = {
  suggested: "a suggested", auto_matched: "an auto-matched", confirmed: "a confirmed", rejected: "a rejected", undone: "an undone", superseded: "a superseded",
};

type LockedMatch = { id: string; status: MatchStatus; decision: string; signals: Record<string, unknown>; confidence: string; source_id: string };

async function lockMatch(tx: Db, ctx: Ctx, matchId: string): Promise<LockedMatch> {
  if (!isUuid(matchId)) throw notFound("The match");
  const [m] = await tx.execute<LockedMatch>(sql`
    select id, status, decision, signals, confidence::text, source_id from matches where org_id = ${ctx.orgId} and id = ${matchId} for update`);
  if (!m) throw notFound("The match");
  return m;
}

function assertTransition(m: LockedMatch, to: MatchStatus, verb: string) {
  if (!TRANSITIONS[m.status].includes(to)) throw new AppError("conflict", `This is ${STATUS_WORDS[m.status]} match: it cannot be ${verb}.`);
}

async function transition(tx: Db, ctx: Ctx, m: LockedMatch, to: MatchStatus, extra: { undoReason?: string } = {}) {
  await tx.execute(sql`
    update matches set status = ${to}, decided_by = ${ctx.userId}, decided_at = now() ${extra.undoReason ? sql`, undo_reason = ${extra.undoReason}` : sql``}
    where org_id = ${ctx.orgId} and id = ${m.id}`);
}

/** Feedback for learning: only for what the engine proposed (a manual match has no signals to learn from). */
async function recordFeedback(tx: Db, ctx: Ctx, m: LockedMatch, decision: "accept" | "reject" | "unmatch") {
  if (m.decision === "manual") return;
  await tx.execute(sql`insert into match_feedback (org_id, match_id, decision, signals, confidence, actor_user_id)
                       values (${ctx.orgId}, ${m.id}, ${decision}, ${JSON.stringify(m.signals)}::jsonb, ${m.confidence}, ${ctx.userId})`);
}

/** Every (left, right) pair of the match, never proposed together again. */
async function rejectPairs(tx: Db, ctx: Ctx, matchId: string): Promise<number> {
  const rows = await tx.execute(sql`
    insert into rejected_pairs (org_id, left_key, right_key, match_id, rejected_by)
    select ${ctx.orgId}, l.key, r.key, ${matchId}, ${ctx.userId}
    from (select coalesce('ct:' || canonical_transaction_id, 'jl:' || journal_line_id) as key from match_members where match_id = ${matchId} and side = 'left') l
    cross join (select coalesce('ct:' || canonical_transaction_id, 'jl:' || journal_line_id) as key from match_members where match_id = ${matchId} and side = 'right') r
    on conflict (org_id, left_key, right_key) do nothing`);
  return rows.count;
}

export const decideInput = z.object({
  matchIds: z.array(z.string()).min(1, "Select at least one suggestion").max(200, "At most 200 at a time"),
  reason: z.string().trim().max(500).optional(),
});

/**
 * Confirms suggestions (or auto matches), one or many, in one transaction: all or nothing. Each
 * decision is fed to learning and audited.
 */
export async function confirmMatches(db: Db, ctx: Ctx, input: z.input<typeof decideInput>): Promise<{ confirmed: number }> {
  requirePermission(ctx, "matching.decide");
  const { matchIds } = decideInput.parse(input);
  return inOrg(db, ctx, async (tx) => {
    for (const id of [...new Set(matchIds)].sort()) {
      const m = await lockMatch(tx, ctx, id);
      assertTransition(m, "confirmed", "confirmed");
      await transition(tx, ctx, m, "confirmed");
      // Confirming accepts the suggestion's difference: its amount mismatch is settled with it.
      await closeSettledMismatches(tx, ctx, { matchId: m.id, resolvedBy: ctx.userId });
      await recordFeedback(tx, ctx, m, "accept");
      await appendAudit(tx, ctx, [{ action: "matching.match.confirmed", entityType: "match", entityId: m.id, data: { from: m.status, confidence: m.confidence } }]);
    }
    return { confirmed: new Set(matchIds).size };
  });
}

export async function confirmMatch(db: Db, ctx: Ctx, input: { matchId: string }): Promise<{ status: MatchStatus }> {
  await confirmMatches(db, ctx, { matchIds: [input.matchId] });
  return { status: "confirmed" };
}

/** Suggestions the accountant says are wrong, one or many: their pairs are remembered and never proposed again. */
export async function rejectMatches(db: Db, ctx: Ctx, input: z.input<typeof decideInput>): Promise<{ rejected: number; rejectedPairs: number }> {
  requirePermission(ctx, "matching.decide");
  const { matchIds, reason } = decideInput.parse(input);
  return inOrg(db, ctx, async (tx) => {
    let pairs = 0;
    for (const id of [...new Set(matchIds)].sort()) {
      const m = await lockMatch(tx, ctx, id);
      assertTransition(m, "rejected", "rejected (undo it instead)");
      await transition(tx, ctx, m, "rejected");
      await closeSettledMismatches(tx, ctx, { matchId: m.id, resolvedBy: ctx.userId });
      const n = await rejectPairs(tx, ctx, m.id);
      pairs += n;
      await recordFeedback(tx, ctx, m, "reject");
      await appendAudit(tx, ctx, [{ action: "matching.match.rejected", entityType: "match", entityId: m.id, data: { confidence: m.confidence, reason: reason ?? null, rejectedPairs: n } }]);
    }
    return { rejected: new Set(matchIds).size, rejectedPairs: pairs };
  });
}

export const rejectInput = z.object({ matchId: z.string(), reason: z.string().trim().max(500).optional() });

export async function rejectMatch(db: Db, ctx: Ctx, input: z.input<typeof rejectInput>): Promise<{ status: MatchStatus; rejectedPairs: number }> {
  const { matchId, reason } = rejectInput.parse(input);
  const r = await rejectMatches(db, ctx, { matchIds: [matchId], reason });
  return { status: "rejected", rejectedPairs: r.rejectedPairs };
}

export const undoInput = z.object({ matchId: z.string(), reason: z.string().trim().min(3, "Say why the match is wrong").max(500) });

/**
 * Takes an auto or confirmed match apart. Its pairs are also remembered as rejected: an undone
 * match would otherwise be proposed (and auto-matched) again by the next run.
 */
export async function undoMatch(db: Db, ctx: Ctx, input: z.input<typeof undoInput>): Promise<{ status: MatchStatus }> {
  requirePermission(ctx, "matching.decide");
  const parsed = undoInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(parsed.error));
  const { matchId, reason } = parsed.data;
  return inOrg(db, ctx, async (tx) => {
    const m = await lockMatch(tx, ctx, matchId);
    assertTransition(m, "undone", "undone");
    await transition(tx, ctx, m, "undone", { undoReason: reason });
    const pairs = await rejectPairs(tx, ctx, m.id);
    await recordFeedback(tx, ctx, m, "unmatch");
    await appendAudit(tx, ctx, [{ action: "matching.match.undone", entityType: "match", entityId: m.id, data: { from: m.status, reason, rejectedPairs: pairs } }]);
    return { status: "undone" };
  });
}

const recordId = z.union([z.number().int().positive(), z.string().regex(/^\d{1,18}$/)]).transform(String);

export const manualMatchInput = z.object({
  sourceId: z.string().uuid(),
  against: counterpartSchema,
  /** Canonical transaction ids of the source. */
  left: z.array(recordId).min(1, "Pick at least one record on each side").max(50),
  /** Ledger line ids (against the ledger) or the other source's canonical transaction ids. */
  right: z.array(recordId).min(1, "Pick at least one record on each side").max(50),
  /** Needed when the sums do not tie within the tolerance. */
  reason: z.string().trim().max(500).optional(),
});

/**
 * An accountant's own match. The sums must tie within the organisation's amount tolerance, or the
 * accountant says why they accept the difference. Starts confirmed; every record must be free.
 */
export async function manualMatch(db: Db, ctx: Ctx, input: z.input<typeof manualMatchInput>): Promise<{ matchId: string; difference: string }> {
  requirePermission(ctx, "matching.decide");
  const parsed = manualMatchInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(parsed.error));
  const inp = parsed.data;
  const pairing = inp.against.kind;
  return inOrg(db, ctx, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.matching:' || ${ctx.orgId}, 0))`);
    const source = await loadSourceRow(tx, ctx.orgId, inp.sourceId);
    if (!source) throw notFound("The source");
    const other = inp.against.kind === "source" ? await loadSourceRow(tx, ctx.orgId, inp.against.sourceId) : null;
    if (inp.against.kind === "source" && !other) throw notFound("The counterpart source");
    const ids = (xs: string[]) => `{${xs.join(",")}}`;
    const flip = (s: { kind: string }) => (other && s.kind === "psp" ? sql`-t.amount` : sql`t.amount`);

    const left = await tx.execute<{ id: string; amount: string; date: string; active: boolean }>(sql`
      select t.id::text, (${flip(source)})::text as amount, t.booked_date::text as date,
             exists (select 1 from match_members m where m.canonical_transaction_id = t.id and m.pairing = ${pairing} and m.active) as active
      from canonical_transactions t where t.org_id = ${ctx.orgId} and t.source_id = ${source.id} and t.id = any(${ids(inp.left)}::bigint[])`);
    const right = other
      ? await tx.execute<{ id: string; amount: string; date: string; active: boolean }>(sql`
          select t.id::text, (${flip(other)})::text as amount, t.booked_date::text as date,
                 exists (select 1 from match_members m where m.canonical_transaction_id = t.id and m.pairing = ${pairing} and m.active) as active
          from canonical_transactions t where t.org_id = ${ctx.orgId} and t.source_id = ${other.id} and t.id = any(${ids(inp.right)}::bigint[])`)
      : await tx.execute<{ id: string; amount: string; date: string; active: boolean }>(sql`
          select l.id::text, l.amount::text, l.entry_date::text as date,
                 exists (select 1 from match_members m where m.journal_line_id = l.id and m.active) as active
          from journal_lines l where l.org_id = ${ctx.orgId} and l.account_id = ${source.gl_account_id} and l.id = any(${ids(inp.right)}::bigint[])`);
    if (left.length !== new Set(inp.left).size || right.length !== new Set(inp.right).size) throw notFound("One of the records");
    const taken = [...left, ...right].filter((r) => r.active);
    if (taken.length) throw new AppError("conflict", `${taken.length} of the records are already in an active match. Undo that match first.`);

    const { settings } = await effectiveSettings(tx, ctx.orgId, source.id);
    const sumLeft = sum(left.map((r) => r.amount));
    const sumRight = sum(right.map((r) => r.amount));
    const difference = sumRight.minus(sumLeft);
    // The engine's tolerance: the larger of an absolute amount and a percent of the larger side.
    const larger = sumLeft.abs().gt(sumRight.abs()) ? sumLeft.abs() : sumRight.abs();
    const pct = money(settings.amountTolerance.percent).dividedBy(100).times(larger);
    const absolute = money(settings.amountTolerance.absolute);
    const allowed = pct.gt(absolute) ? pct : absolute;
    if (difference.abs().gt(allowed) && !inp.reason) {
      throw new AppError("validation", `The sides differ by ${formatMoney(difference, source.currency)} ${source.currency}, more than the tolerance of ${formatMoney(allowed, source.currency)}. Say why you match them anyway.`, {
        reason: ["Needed when the sums do not tie"],
      });
    }
    const [{ id }] = await tx.execute<{ id: string }>(sql`
      insert into matches (org_id, source_id, pairing, level, confidence, decision, status, signals, difference, currency, reason, decided_by, decided_at)
      values (${ctx.orgId}, ${source.id}, ${pairing}, 'manual', 1, 'manual', 'confirmed', '{}'::jsonb, ${difference.toFixed()}, ${source.currency},
              ${inp.reason ? `Matched by hand: ${inp.reason}` : `Matched by hand by ${ctx.actorLabel}`}, ${ctx.userId}, now())
      returning id`);
    const members = [
      ...left.map((r) => ({ side: "left", ct: r.id, jl: null, amount: r.amount, date: r.date })),
      ...right.map((r) => ({ side: "right", ct: other ? r.id : null, jl: other ? null : r.id, amount: r.amount, date: r.date })),
    ];
    try {
      await tx.execute(sql`
        insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, journal_line_id, amount, record_date)
        select ${ctx.orgId}, ${id}, ${pairing}, side, ct, jl, amount, date
        from json_to_recordset(${JSON.stringify(members)}::json) as r(side text, ct bigint, jl bigint, amount numeric, date date)`);
    } catch (e) {
      const err = e as { code?: string; cause?: { code?: string } };
      if ((err.code ?? err.cause?.code) === "23505") throw new AppError("conflict", "One of the records was just matched by someone else.");
      throw e;
    }
    await tx.execute(sql`
      update exceptions set status = 'resolved', resolved_at = now(), snoozed_until = null, resolution = 'matched_manually', resolved_by = ${ctx.userId},
             details = details || jsonb_build_object('matchId', ${id}::text)
      where org_id = ${ctx.orgId} and status <> 'resolved' and subject_key = any(${`{${[...left.map((r) => `ct:${r.id}`), ...right.map((r) => (other ? `ct:${r.id}` : `jl:${r.id}`))].join(",")}}`}::text[])
        and kind in ('unmatched_transaction', 'unmatched_ledger_line')`);
    await appendAudit(tx, ctx, [{ action: "matching.match.manual", entityType: "match", entityId: id, data: { sourceId: source.id, against: inp.against, left: inp.left, right: inp.right, difference: difference.toFixed(), reason: inp.reason ?? null } }]);
    return { matchId: id, difference: difference.toFixed() };
  });
}
