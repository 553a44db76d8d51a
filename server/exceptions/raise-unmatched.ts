import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { formatMoney } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { parseKey } from "@/server/matching/records";
import type { MatchRecord, Unmatched } from "@/server/matching/types";
import type { ExceptionCandidate } from "./raise-exceptions";

/**
 * "No match" on either side of a run. The source's records (left) raise unmatched_transaction;
 * against the ledger, the lines on the source's GL account (right) raise unmatched_ledger_line —
 * but only those dated inside the run's range: the padded window is there to find counterparts,
 * and a line just outside the range belongs to the neighbouring run.
 */

export type UnmatchedScope = {
  runId: string;
  sourceId: string;
  pairing: "ledger" | "source";
  from: string;
  to: string;
};

export function unmatchedCandidates(
  scope: UnmatchedScope,
  unmatched: readonly Unmatched[],
  records: ReadonlyMap<string, MatchRecord>,
  opts: { excluded: ReadonlySet<string>; assignees: ReadonlyMap<string, string> },
): ExceptionCandidate[] {
  const out: ExceptionCandidate[] = [];
  for (const u of unmatched) {
    if (opts.excluded.has(u.id)) continue;
    const rec = records.get(u.id);
    if (!rec) throw new Error(`unmatched record ${u.id} was not loaded`);
    const key = parseKey(u.id);
    if (u.side === "right") {
      // Another source's records are that source's own run's business; only ledger lines are raised here.
      if (scope.pairing !== "ledger" || key.kind !== "jl") continue;
      if (rec.date < scope.from || rec.date > scope.to) continue;
    }
    const who = rec.counterparty || rec.description || rec.reference || "no counterparty";
    const nearest = u.nearest.map((n) => {
      const c = records.get(n.id);
      return { ...n, record: c ? { date: c.date, amount: c.amount, counterparty: c.counterparty ?? null, reference: c.reference ?? null, description: c.description ?? null } : null };
    });
    const ledger = key.kind === "jl";
    out.push({
      kind: ledger ? "unmatched_ledger_line" : "unmatched_transaction",
      subjectKey: u.id,
      sourceId: scope.sourceId,
      amount: rec.amount,
      currency: rec.currency,
      occurredOn: rec.date,
      title: `${ledger ? "No match in the source" : "No match"}: ${formatMoney(rec.amount, rec.currency)} ${rec.currency} on ${rec.date} (${who})`,
      details: {
        pairing: scope.pairing, runId: scope.runId, recordKey: u.id, date: rec.date,
        counterparty: rec.counterparty ?? null, reference: rec.reference ?? null, description: rec.description ?? null, nearest,
      },
      canonicalTransactionId: ledger ? null : key.id,
      journalLineId: ledger ? key.id : null,
      assigneeId: opts.assignees.get(u.id) ?? null,
    });
  }
  return out;
}

/**
 * Records of the run's scope that tie out now, or that a rule of this run ignored or
 * categorised, have their unresolved "no match" exception resolved (matched / excluded). One
 * statement for both sides; each exception is an index probe on the active members (the partial
 * unique index), never a join over all members — right after a large run the planner has no
 * statistics for them.
 */
export async function resolveTiedOut(tx: Db, ctx: Ctx, scope: UnmatchedScope & { glAccountId: string }): Promise<number> {
  const ledger = scope.pairing === "ledger";
  const resolved = await tx.execute(sql`
    update exceptions e set status = 'resolved', resolved_at = now(), snoozed_until = null,
      resolution = case when exists (select 1 from match_members m where m.canonical_transaction_id = e.canonical_transaction_id and m.pairing = ${scope.pairing} and m.active)
                          or exists (select 1 from match_members m where m.journal_line_id = e.journal_line_id and m.active)
                        then 'matched' else 'excluded' end,
      details = e.details || jsonb_build_object('resolvedByRun', ${scope.runId}::text)
    where e.org_id = ${ctx.orgId} and e.status <> 'resolved' and (
      (e.kind = 'unmatched_transaction' and e.source_id = ${scope.sourceId}
        and (exists (select 1 from match_members m where m.canonical_transaction_id = e.canonical_transaction_id and m.pairing = ${scope.pairing} and m.active)
             or exists (select 1 from match_rule_outcomes o where o.run_id = ${scope.runId} and o.side = 'left' and o.record_key = 'ct:' || e.canonical_transaction_id
                        and o.action->>'type' in ('ignore', 'categorise'))))
      or (${ledger} and e.kind = 'unmatched_ledger_line'
        and exists (select 1 from journal_lines l where l.id = e.journal_line_id and l.org_id = ${ctx.orgId} and l.account_id = ${scope.glAccountId}
                    and l.entry_date between ${scope.from} and ${scope.to})
        and (exists (select 1 from match_members m where m.journal_line_id = e.journal_line_id and m.active)
             or exists (select 1 from match_rule_outcomes o where o.run_id = ${scope.runId} and o.side = 'right' and o.record_key = 'jl:' || e.journal_line_id
                        and o.action->>'type' in ('ignore', 'categorise')))))`);
  return resolved.count;
}
