import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { checkRuns } from "@/drizzle/schema";
import { appendAudit } from "@/server/audit/append-audit";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import { AppError } from "@/server/errors";
import { money } from "@/server/money";
import { requirePermission, type Ctx } from "@/server/tenancy/context";
import { isoDate } from "@/server/ledger/schemas";

export const CHECK_TRIGGERS = ["schedule", "manual"] as const;
export type CheckTrigger = (typeof CHECK_TRIGGERS)[number];

export const trialBalanceCheckInput = z.object({
  asOf: isoDate,
  trigger: z.enum(CHECK_TRIGGERS),
  /** The user who asked for a manual run, when a system actor runs it on their behalf. */
  requestedBy: z.guid().optional(),
});
export type TrialBalanceCheckInput = z.input<typeof trialBalanceCheckInput>;

/** One entity's figures. Amounts are decimal strings in the entity's functional currency. */
export type EntityTrialBalanceFigures = {
  entityId: string;
  entityName: string;
  functionalCurrency: string;
  /** Sum of the positive functional amounts of every posted line dated on or before asOf. */
  debits: string;
  /** Sum of the negative functional amounts, as a positive number. */
  credits: string;
  /** debits − credits: a ledger that ties out has zero here. */
  difference: string;
  lineCount: number;
  entryCount: number;
  /** Entries whose own lines do not sum to zero, or that have fewer than two lines. */
  unbalancedEntries: number;
  passed: boolean;
};

export type TrialBalanceCheckResult = { asOf: string; requestedBy: string | null; entities: EntityTrialBalanceFigures[] };

export type CheckRun<R = Record<string, unknown>> = {
  id: string;
  orgId: string;
  kind: string;
  status: "passed" | "failed";
  trigger: CheckTrigger;
  startedAt: string;
  finishedAt: string | null;
  result: R;
};

type FigureRow = {
  entityId: string; entityName: string; functionalCurrency: string;
  debits: string; credits: string; lineCount: string; entryCount: string; unbalancedEntries: string;
};

/**
 * The nightly ledger-consistency check. For every entity of the organisation it proves, from
 * the posted rows alone, that (a) functional debits equal functional credits up to asOf and
 * (b) no entry is unbalanced on its own. The deferred trigger journal_entry_balanced already
 * refuses unbalanced entries; (b) re-derives that independently, so a disabled trigger, a
 * restore from a bad dump or a write that went around the app shows up here and not at audit.
 *
 * Reading the figures, writing the check_runs row and the audit event happen in one
 * transaction: a run is recorded exactly when its audit event is. The figures come from one
 * statement, so they describe one snapshot of the ledger.
 */
export async function runTrialBalanceCheck(db: Db, ctx: Ctx, input: TrialBalanceCheckInput): Promise<CheckRun<TrialBalanceCheckResult>> {
  requirePermission(ctx, "checks.run");
  const parsed = trialBalanceCheckInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation", "The check request is not valid.", z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const { asOf, trigger, requestedBy } = parsed.data;
  const startedAt = new Date();

  return inOrg(db, ctx, async (tx) => {
    const rows = await tx.execute<FigureRow>(sql`
      with lines as (
        select entity_id,
               coalesce(sum(functional_amount) filter (where functional_amount > 0), 0) as debits,
               coalesce(-sum(functional_amount) filter (where functional_amount < 0), 0) as credits,
               count(*) as line_count
        from journal_lines
        where org_id = ${ctx.orgId} and entry_date <= ${asOf}
        group by entity_id
      ),
      per_entry as (
        select e.entity_id, e.id,
               coalesce(sum(l.functional_amount), 0) as total,
               count(l.id) as n
        from journal_entries e
        left join journal_lines l on l.org_id = e.org_id and l.entry_id = e.id
        where e.org_id = ${ctx.orgId} and e.entry_date <= ${asOf}
        group by e.entity_id, e.id
      ),
      entries as (
        select entity_id, count(*) as entry_count,
               count(*) filter (where total <> 0 or n < 2) as unbalanced
        from per_entry group by entity_id
      )
      select en.id as "entityId", en.name as "entityName", en.functional_currency as "functionalCurrency",
             coalesce(l.debits, 0)::text as debits, coalesce(l.credits, 0)::text as credits,
             coalesce(l.line_count, 0)::text as "lineCount",
             coalesce(x.entry_count, 0)::text as "entryCount", coalesce(x.unbalanced, 0)::text as "unbalancedEntries"
      from entities en
      left join lines l on l.entity_id = en.id
      left join entries x on x.entity_id = en.id
      where en.org_id = ${ctx.orgId}
      order by en.name, en.id`);

    const entities: EntityTrialBalanceFigures[] = rows.map((r) => {
      const debits = money(r.debits);
      const credits = money(r.credits);
      const difference = debits.minus(credits);
      const unbalancedEntries = Number(r.unbalancedEntries);
      return {
        entityId: r.entityId,
        entityName: r.entityName,
        functionalCurrency: r.functionalCurrency,
        debits: debits.toFixed(),
        credits: credits.toFixed(),
        difference: difference.toFixed(),
        lineCount: Number(r.lineCount),
        entryCount: Number(r.entryCount),
        unbalancedEntries,
        passed: difference.isZero() && unbalancedEntries === 0,
      };
    });
    const status = entities.every((e) => e.passed) ? "passed" : "failed";
    const result: TrialBalanceCheckResult = { asOf, requestedBy: requestedBy ?? null, entities };

    const [run] = await tx
      .insert(checkRuns)
      .values({ orgId: ctx.orgId, kind: "trial_balance", status, trigger, startedAt, finishedAt: new Date(), result })
      .returning();

    await appendAudit(tx, ctx, [
      {
        action: "check.trial_balance.completed",
        entityType: "check_run",
        entityId: run.id,
        data: {
          status,
          trigger,
          asOf,
          requestedBy: requestedBy ?? null,
          failedEntities: entities.filter((e) => !e.passed).map((e) => ({ entityId: e.entityId, difference: e.difference, unbalancedEntries: e.unbalancedEntries })),
        },
      },
    ]);
    return toCheckRun<TrialBalanceCheckResult>(run);
  });
}

/** The organisation's recent check runs of one kind, newest first. */
export async function listCheckRuns(db: Db, ctx: Ctx, q: { kind: string; limit?: number }): Promise<CheckRun[]> {
  requirePermission(ctx, "ledger.read");
  const limit = Math.min(Math.max(q.limit ?? 20, 1), 200);
  return inOrg(db, ctx, async (tx) => {
    const rows = await tx
      .select()
      .from(checkRuns)
      .where(and(eq(checkRuns.orgId, ctx.orgId), eq(checkRuns.kind, q.kind)))
      .orderBy(desc(checkRuns.startedAt), desc(checkRuns.id))
      .limit(limit);
    return rows.map((r) => toCheckRun(r));
  });
}

function toCheckRun<R>(r: typeof checkRuns.$inferSelect): CheckRun<R> {
  return {
    id: r.id,
    orgId: r.orgId,
    kind: r.kind,
    status: r.status as CheckRun["status"],
    trigger: r.trigger as CheckTrigger,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null,
    result: r.result as R,
  };
}
