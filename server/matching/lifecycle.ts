import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { closeSettledMismatches } from "@/server/exceptions/raise-mismatches";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { formatMoney, roundTo } from "@/server/money";
import { requestApproval } from "@/server/approvals/requests";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { refuseHeldRecords } from "@/server/exceptions/waiting";
import { forcedMatch, forcedMatchTarget, type ForcedMatchContent } from "./forced-match-executor";
import { allowedDifference, assertFree, differenceOf, loadManualMatchRecords, lockMatching, manualMatchInput, recordManualMatch, type MatchedRecord } from "./manual-match";
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

export type ManualMatchResult =
  | { status: "matched"; matchId: string; difference: string }
  | { status: "pending"; requestId: string; difference: string };

/**
 * An accountant's own match; every record must be free. Sides that tie within the organisation's
 * amount tolerance are matched at once (confirmed). Outside it the accountant says why, and the
 * match becomes a request for approval (forced_match) holding exactly these records: nothing is
 * matched until someone else approves it (see forced-match-executor.ts).
 */
export async function manualMatch(db: Db, ctx: Ctx, input: z.input<typeof manualMatchInput>): Promise<ManualMatchResult> {
  requirePermission(ctx, "matching.decide");
  const parsed = manualMatchInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "Some fields need attention.", fieldErrorsOf(parsed.error));
  const inp = parsed.data;
  const outcome = await inOrg(db, ctx, async (tx) => {
    await lockMatching(tx, ctx);
    const records = await loadManualMatchRecords(tx, ctx, inp);
    assertFree(records);
    await refuseHeldRecords(tx, ctx, [...records.left, ...records.right].map((r) => r.key));
    const { source } = records;
    const { settings } = await effectiveSettings(tx, ctx.orgId, source.id);
    const difference = differenceOf(records);
    const allowed = allowedDifference(records, settings);
    if (difference.abs().lte(allowed)) {
      const { matchId } = await recordManualMatch(tx, ctx, {
        ...records,
        difference: difference.toFixed(),
        note: inp.reason ? `Matched by hand: ${inp.reason}` : `Matched by hand by ${ctx.actorLabel}`,
        decidedBy: ctx.userId,
        reason: inp.reason ?? null,
      });
      return { status: "matched" as const, matchId, difference: difference.toFixed() };
    }
    if (!inp.reason || inp.reason.length < 3) {
      throw new AppError("validation", `The sides differ by ${formatMoney(difference, source.currency)} ${source.currency}, more than the tolerance of ${formatMoney(allowed, source.currency)}. Say why you match them anyway; a second person approves it.`, {
        reason: ["Needed when the sums do not tie"],
      });
    }
    const plain = (r: MatchedRecord): MatchedRecord => ({ key: r.key, amount: r.amount, date: r.date });
    const content: ForcedMatchContent = {
      sourceId: source.id, against: records.against, currency: source.currency, left: records.left.map(plain), right: records.right.map(plain),
      difference: difference.toFixed(), tolerance: roundTo(allowed, source.currency).toFixed(), reason: inp.reason,
    };
    return { status: "forced" as const, content };
  });
  if (outcome.status === "matched") return outcome;
  // Filed in its own transaction; the executor's check reads the records again under the lock.
  const r = await requestApproval(db, ctx, { kind: forcedMatch.kind, targetKey: forcedMatchTarget(outcome.content), content: outcome.content, reason: outcome.content.reason });
  if (r.status === "executed") return { status: "matched", matchId: String(r.result.matchId), difference: outcome.content.difference };
  return { status: "pending", requestId: r.requestId, difference: outcome.content.difference };
}
