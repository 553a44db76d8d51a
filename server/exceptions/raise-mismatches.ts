import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { formatMoney, money } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import type { MatchRecord, Proposal } from "@/server/matching/types";
import type { ExceptionCandidate } from "./raise-exceptions";

/**
 * A suggested match whose sides do not agree exactly (a fee, an FX difference, two currencies)
 * is an amount_mismatch until someone decides it: the accountant confirming it accepts the
 * difference (resolution matched); rejecting it, or a re-run superseding it, clears it. Auto
 * matches are within what the organisation already accepts and raise nothing.
 */

export function mismatchCandidates(
  scope: { runId: string; sourceId: string; pairing: "ledger" | "source" },
  proposals: readonly { matchId: string; proposal: Proposal }[],
  records: ReadonlyMap<string, MatchRecord>,
): ExceptionCandidate[] {
  const out: ExceptionCandidate[] = [];
  for (const { matchId, proposal: p } of proposals) {
    if (p.decision !== "suggest") continue;
    const members = [...p.left, ...p.right].map((k) => {
      const r = records.get(k);
      if (!r) throw new Error(`proposal member ${k} was not loaded`);
      return r;
    });
    const currencies = [...new Set(members.map((r) => r.currency))].sort();
    const difference = money(p.difference);
    if (difference.isZero() && currencies.length === 1) continue;
    const first = records.get(p.left[0])!;
    const who = first.counterparty || first.description || first.reference || "no counterparty";
    const latest = members.reduce((d, r) => (r.date > d ? r.date : d), members[0].date);
    out.push({
      kind: "amount_mismatch",
      subjectKey: `match:${matchId}`,
      sourceId: scope.sourceId,
      amount: difference.toFixed(),
      currency: p.currency,
      occurredOn: latest,
      title: currencies.length > 1
        ? `Suggested match mixes ${currencies.join(" and ")} (${who})`
        : `Suggested match differs by ${formatMoney(difference, p.currency)} ${p.currency} (${who})`,
      details: {
        pairing: scope.pairing, runId: scope.runId, matchId, level: p.level, confidence: p.confidence, difference: difference.toFixed(), currency: p.currency,
        currencies, left: p.left, right: p.right, date: latest,
        counterparty: first.counterparty ?? null, reference: first.reference ?? null, description: first.description ?? null, reason: p.reason,
      },
      matchId,
    });
  }
  return out;
}

/**
 * Closes the amount_mismatch of every match that has left 'suggested': confirmed → matched,
 * rejected or superseded → cleared. With a matchId (a person's decision) it touches that match's
 * exception only, probing the unique index by subject; without one (a run, after superseding)
 * every unresolved mismatch of the organisation is checked against its match — few rows, each a
 * primary-key probe.
 */
export async function closeSettledMismatches(tx: Db, ctx: Ctx, opts: { matchId?: string; resolvedBy: string | null }): Promise<number> {
  const r = await tx.execute(sql`
    update exceptions e set status = 'resolved', resolved_at = now(), snoozed_until = null, resolved_by = ${opts.resolvedBy},
      resolution = case when m.status = 'confirmed' then 'matched' else 'cleared' end,
      details = e.details || jsonb_build_object('matchStatus', m.status)
    from matches m
    where e.org_id = ${ctx.orgId} and e.kind = 'amount_mismatch' and e.status <> 'resolved' and m.id = e.match_id and m.status <> 'suggested'
      ${opts.matchId ? sql`and e.subject_key = ${`match:${opts.matchId}`}` : sql``}`);
  return r.count;
}
