import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { copyRows } from "@/server/db/copy";
import { timeOrderedIds } from "@/server/db/time-ordered-ids";
import { inOrg } from "@/server/db/tenant";
import { appendAudit } from "@/server/audit/append-audit";
import { AppError, fieldErrorsOf, notFound } from "@/server/errors";
import { isoDate } from "@/server/ledger/schemas";
import { raiseExceptions } from "@/server/exceptions/raise-exceptions";
import { closeSettledMismatches, mismatchCandidates } from "@/server/exceptions/raise-mismatches";
import { raisePossibleDuplicates } from "@/server/exceptions/raise-duplicates";
import { resolveTiedOut, unmatchedCandidates } from "@/server/exceptions/raise-unmatched";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { matchRecords } from "./engine";
import { addDays, loadLedgerLines, loadSourceRow, loadTransactions, parseKey, type SourceRow } from "./records";
import { applyRuleOutcomes, loadRulesForRun } from "./rules-store";
import { effectiveSettings } from "./settings-store";
import type { MatchRecord, MatchSettings, Proposal } from "./types";

export const MATCH_TRIGGERS = ["manual", "import", "schedule", "cli"] as const;
export type MatchTrigger = (typeof MATCH_TRIGGERS)[number];

export const counterpartSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ledger") }),
  z.object({ kind: z.literal("source"), sourceId: z.string().uuid("Choose the counterpart source") }),
]);
export type Counterpart = z.infer<typeof counterpartSchema>;

/** The longest range one run covers: a year and a bit (a run holds both sides in memory). */
export const MAX_RUN_DAYS = 400;

export const runMatchingInput = z
  .object({
    sourceId: z.string().uuid("Choose a source"),
    against: counterpartSchema,
    from: isoDate,
    to: isoDate,
    trigger: z.enum(MATCH_TRIGGERS),
    /** The user who asked, when a system actor runs it on their behalf. */
    requestedBy: z.string().uuid().optional(),
  })
  .refine((r) => r.from <= r.to, { path: ["to"], message: "The range ends before it starts" })
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) <= MAX_RUN_DAYS * 86_400_000, { path: ["from"], message: `At most ${MAX_RUN_DAYS} days per run` })
  .refine((r) => r.against.kind !== "source" || r.against.sourceId !== r.sourceId, { path: ["against"], message: "Choose a different source to match against" });
export type RunMatchingInput = z.input<typeof runMatchingInput>;

export type RunCounts = {
  left: number;
  right: number;
  auto: number;
  suggested: number;
  unmatched: number;
  exceptionsRaised: number;
  exceptionsUpdated: number;
  exceptionsResolved: number;
  superseded: number;
  ignored: number;
  categorised: number;
  draftsCreated: number;
};

export type MatchRunSummary = { runId: string; orgId: string; status: "succeeded" | "failed"; counts: RunCounts | null; error: string | null };

/** Calendar days either side of the range to look for the counterpart: the business-day window, weekends, and the expected lag. */
export function counterpartPadding(s: MatchSettings): number {
  return Math.ceil((s.dateWindowBusinessDays * 7) / 5) + 2 + Math.abs(s.lagDays);
}

const orgLock = (tx: Db, orgId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('tieout.matching:' || ${orgId}, 0))`);

/**
 * One reconciliation run: the source's transactions in [from, to] against the ledger lines on its
 * GL account (or another source's transactions), the counterpart's range widened by the date
 * window and lag. Tenant rules run first; the engine proposes; proposals, members, rule outcomes
 * and exceptions are written set-based (COPY into staging, one INSERT … SELECT each).
 *
 * Re-runnable: the previous suggested and auto matches of this source, pairing and range are
 * superseded and proposed afresh; confirmed matches (and their records) are never touched.
 * One run per organisation at a time (advisory lock), so two runs cannot claim the same record —
 * and if they tried, the partial unique index on active members would refuse the second.
 */
export async function runMatching(db: Db, ctx: Ctx, raw: RunMatchingInput, opts: { today?: string; /** Filled with ms per phase (benchmarks). */ timings?: Record<string, number> } = {}): Promise<MatchRunSummary> {
  requirePermission(ctx, "matching.run");
  const parsed = runMatchingInput.safeParse(raw);
  if (!parsed.success) throw new AppError("validation", "The run request is not valid.", fieldErrorsOf(parsed.error));
  const input = parsed.data;
  const today = opts.today ?? new Date().toISOString().slice(0, 10);
  const pairing = input.against.kind;
  const counterpartSourceId = input.against.kind === "source" ? input.against.sourceId : null;

  const runId = await inOrg(db, ctx, async (tx) => {
    const source = await loadSourceRow(tx, ctx.orgId, input.sourceId);
    if (!source) throw notFound("The source");
    if (counterpartSourceId) {
      const other = await loadSourceRow(tx, ctx.orgId, counterpartSourceId);
      if (!other) throw notFound("The counterpart source");
      if (other.currency !== source.currency) throw new AppError("validation", `${source.name} is in ${source.currency}, ${other.name} in ${other.currency}.`);
    }
    const [run] = await tx.execute<{ id: string }>(sql`
      insert into match_runs (org_id, source_id, counterpart_kind, counterpart_source_id, date_from, date_to, trigger, status, requested_by, started_at)
      values (${ctx.orgId}, ${input.sourceId}, ${pairing}, ${counterpartSourceId}, ${input.from}, ${input.to}, ${input.trigger}, 'running', ${input.requestedBy ?? ctx.userId}, now())
      returning id`);
    return run.id;
  });

  try {
    const counts = await inOrg(db, ctx, async (tx) => {
      await orgLock(tx, ctx.orgId);
      const source = (await loadSourceRow(tx, ctx.orgId, input.sourceId))!;
      const other = counterpartSourceId ? (await loadSourceRow(tx, ctx.orgId, counterpartSourceId))! : null;
      return reconcile(tx, ctx, { runId, source, other, from: input.from, to: input.to, today, trigger: input.trigger }, opts.timings);
    });
    return { runId, orgId: ctx.orgId, status: "succeeded", counts, error: null };
  } catch (e) {
    const known = e instanceof AppError;
    const reference = randomUUID().slice(0, 8);
    const error = known ? e.message : `The run failed on our side (reference ${reference}).`;
    if (!known) console.error(JSON.stringify({ level: "error", job: "matching.run", runId, reference, error: e instanceof Error ? e.stack : String(e) }));
    await inOrg(db, ctx, async (tx) => {
      await tx.execute(sql`update match_runs set status = 'failed', error = ${error}, finished_at = now() where org_id = ${ctx.orgId} and id = ${runId}`);
      await appendAudit(tx, ctx, [{ action: "matching.run.failed", entityType: "match_run", entityId: runId, data: { sourceId: input.sourceId, against: input.against, from: input.from, to: input.to, trigger: input.trigger, error } }]);
    });
    if (known) throw e;
    return { runId, orgId: ctx.orgId, status: "failed", counts: null, error };
  }
}

type RunScope = { runId: string; source: SourceRow; other: SourceRow | null; from: string; to: string; today: string; trigger: MatchTrigger };

async function reconcile(tx: Db, ctx: Ctx, run: RunScope, timings: Record<string, number> = {}): Promise<RunCounts> {
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    timings[name] = (timings[name] ?? 0) + (now - mark);
    mark = now;
  };
  const pairing = run.other ? "source" : "ledger";
  const { settings, version } = await effectiveSettings(tx, ctx.orgId, run.source.id);

  // Previous proposals for this source, pairing and range give way to this run's.
  const superseded = await tx.execute(sql`
    update matches m set status = 'superseded', decided_at = now()
    where m.org_id = ${ctx.orgId} and m.source_id = ${run.source.id} and m.pairing = ${pairing} and m.status in ('suggested', 'auto_matched')
      and exists (select 1 from match_runs r where r.id = m.run_id and r.counterpart_source_id is not distinct from ${run.other?.id ?? null}::uuid)
      and exists (select 1 from match_members mm where mm.match_id = m.id and mm.side = 'left' and mm.record_date between ${run.from} and ${run.to})`);
  // Their amount mismatches are moot now (cleared); this run raises its own for what it suggests again.
  await closeSettledMismatches(tx, ctx, { resolvedBy: null });

  const pad = counterpartPadding(settings);
  const wide = { from: addDays(run.from, -pad), to: addDays(run.to, pad) };
  // A provider's payouts are matched to the bank deposits they became (see records.ts).
  const left = await loadTransactions(tx, ctx.orgId, run.source, run, { pairing, payoutsOnly: !!run.other && run.source.kind === "psp" });
  const right = run.other
    ? await loadTransactions(tx, ctx.orgId, run.other, wide, { pairing, payoutsOnly: run.other.kind === "psp" })
    : await loadLedgerLines(tx, ctx.orgId, run.source.gl_account_id, wide, { free: true });

  phase("load");
  const rules = await loadRulesForRun(tx, ctx.orgId);
  const rejected = await tx.execute<{ left: string; right: string }>(sql`select left_key as left, right_key as right from rejected_pairs where org_id = ${ctx.orgId}`);
  const result = matchRecords({ left, right, settings, rules, rejected: [...rejected] });
  phase("engine");

  const records = new Map<string, MatchRecord>();
  for (const r of left) records.set(r.id, r);
  for (const r of right) records.set(r.id, r);

  const ruled = await applyRuleOutcomes(tx, ctx, { runId: run.runId, source: run.source, outcomes: result.ruleOutcomes, records });

  // Matches and members: staged with COPY (row-level security forbids COPY into the tables
  // themselves), then one INSERT … SELECT each.
  await tx.execute(sql.raw(`create temp table match_stage (id uuid, level text, confidence numeric, decision text, status text, signals_no int,
    difference numeric, currency text, reason text, rule_id uuid) on commit drop`));
  await tx.execute(sql.raw(`create temp table signals_stage (no int, signals jsonb) on commit drop`));
  await tx.execute(sql.raw(`create temp table member_stage (match_id uuid, side text, ct_id bigint, jl_id bigint, amount numeric, record_date date) on commit drop`));
  let auto = 0;
  let suggested = 0;
  const proposed: { matchId: string; proposal: Proposal }[] = [];
  const matchRows: (string | null)[][] = [];
  const memberRows: (string | null)[][] = [];
  // The engine shares one breakdown object among proposals with the same scores (a few thousand
  // in a run of a million): each is staged once, by number, so PostgreSQL parses its JSON once.
  const signalsNo = new Map<Proposal["signals"], number>();
  const signalsRows: string[][] = [];
  // Time-ordered ids: a run's matches, and their members by match, go in at the end of their indexes.
  const nextMatchId = timeOrderedIds();
  for (const p of result.proposals) {
    const id = nextMatchId();
    proposed.push({ matchId: id, proposal: p });
    if (p.decision === "auto") auto++;
    else suggested++;
    let signals = signalsNo.get(p.signals);
    if (signals === undefined) {
      signalsNo.set(p.signals, (signals = signalsRows.length));
      signalsRows.push([String(signals), JSON.stringify(p.signals)]);
    }
    matchRows.push([id, p.level, String(p.confidence), p.decision, p.decision === "auto" ? "auto_matched" : "suggested", String(signals), p.difference, p.currency, p.reason, isUuidish(p.ruleId) ? p.ruleId! : null]);
    for (const [side, ids] of [["left", p.left], ["right", p.right]] as const) {
      for (const key of ids) {
        const rec = records.get(key);
        if (!rec) throw new Error(`engine proposed an unknown record ${key}`);
        const k = parseKey(key);
        memberRows.push([id, side, k.kind === "ct" ? k.id : null, k.kind === "jl" ? k.id : null, rec.amount, rec.date]);
      }
    }
  }
  await copyRows(tx, "signals_stage", ["no", "signals"], signalsRows);
  // With the breakdowns' statistics the planner hashes them and reads the matches in the order
  // they were staged (their ids' order); without, it sorted both sides for a merge join.
  await tx.execute(sql.raw(`analyze signals_stage`));
  await copyRows(tx, "match_stage", ["id", "level", "confidence", "decision", "status", "signals_no", "difference", "currency", "reason", "rule_id"], matchRows);
  await copyRows(tx, "member_stage", ["match_id", "side", "ct_id", "jl_id", "amount", "record_date"], memberRows);
  await tx.execute(sql`
    insert into matches (org_id, id, run_id, source_id, pairing, level, confidence, decision, status, signals, difference, currency, reason, rule_id)
    select ${ctx.orgId}, m.id, ${run.runId}, ${run.source.id}, ${pairing}, m.level, round(m.confidence, 5), m.decision, m.status, s.signals, m.difference, m.currency, m.reason, m.rule_id
    from match_stage m join signals_stage s on s.no = m.signals_no`);
  await tx.execute(sql`
    insert into match_members (org_id, match_id, pairing, side, canonical_transaction_id, journal_line_id, amount, record_date)
    select ${ctx.orgId}, match_id, ${pairing}, side, ct_id, jl_id, amount, record_date from member_stage`);
  await tx.execute(sql.raw(`drop table match_stage; drop table signals_stage; drop table member_stage`));

  phase("write_matches");
  const scope = { runId: run.runId, sourceId: run.source.id, pairing, from: run.from, to: run.to } as const;
  const candidates = [
    ...unmatchedCandidates(scope, result.unmatched, records, { excluded: ruled.excluded, assignees: ruled.assignees }),
    ...mismatchCandidates(scope, proposed, records),
  ];
  phase("write_exceptions.candidates");
  const raised = await raiseExceptions(tx, ctx, run.today, candidates);
  phase("write_exceptions.raise");
  const duplicates = await raisePossibleDuplicates(tx, ctx, { ...scope, today: run.today });
  phase("write_exceptions.duplicates");
  const resolved = await resolveTiedOut(tx, ctx, { ...scope, glAccountId: run.source.gl_account_id });
  const unmatchedCount = candidates.filter((c) => c.kind === "unmatched_transaction" || c.kind === "unmatched_ledger_line").length;

  phase("write_exceptions.resolve");
  const counts: RunCounts = {
    left: left.length, right: right.length, auto, suggested, unmatched: unmatchedCount,
    exceptionsRaised: raised.raised + duplicates.raised, exceptionsUpdated: raised.refreshed + duplicates.refreshed, exceptionsResolved: resolved,
    superseded: superseded.count, ignored: ruled.ignored, categorised: ruled.categorised, draftsCreated: ruled.draftsCreated,
  };
  await tx.execute(sql`update match_runs set status = 'succeeded', settings_version = ${version}, counts = ${JSON.stringify(counts)}::jsonb, finished_at = now()
                       where org_id = ${ctx.orgId} and id = ${run.runId}`);
  await appendAudit(tx, ctx, [{
    action: "matching.run.completed", entityType: "match_run", entityId: run.runId,
    data: { sourceId: run.source.id, against: run.other ? { kind: "source", sourceId: run.other.id } : { kind: "ledger" }, from: run.from, to: run.to, trigger: run.trigger, settingsVersion: version, counts },
  }]);
  return counts;
}

const isUuidish = (s: string | null | undefined) => !!s && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
