import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { isUuid } from "@/server/ids";
import { decimalString } from "@/server/ledger/schemas";
import { DECIMAL_PATTERN, money } from "@/server/money";
import type { Ctx } from "@/server/tenancy/context";
import { POLICY_SEVERITY_KINDS } from "./raise-exceptions";

/**
 * The organisation's exception policy (table exception_policies): the amounts and ages that set
 * severity, the SLA per severity that sets due dates, when a source counts as stale, and the
 * account write-offs go to. It changes only through an approved controls change
 * (server/approvals/executors/controls-change.ts), which calls applyExceptionPolicy.
 */
export type ExceptionPolicy = {
  /** Decimal strings: |amount| at or above amountMedium is medium, at or above amountHigh high. */
  amountMedium: string;
  amountHigh: string;
  /** Each step passed (days since the record's date) raises severity one level. */
  ageStepDays: number[];
  slaDaysCritical: number;
  slaDaysHigh: number;
  slaDaysMedium: number;
  slaDaysLow: number;
  staleSourceDays: number;
  writeOffAccountId: string | null;
};

export type CurrentExceptionPolicy = ExceptionPolicy & {
  version: number;
  updatedAt: string;
  updatedBy: string | null;
  /** "6800 Bank fees (Tieout Demo GmbH)", or null when none is set. */
  writeOffAccount: string | null;
};

/** How each field reads in a diff and on the settings page. */
export const EXCEPTION_POLICY_LABELS: Record<keyof ExceptionPolicy, string> = {
  amountMedium: "Medium from amount",
  amountHigh: "High from amount",
  ageStepDays: "Age steps (days)",
  slaDaysCritical: "SLA days, critical",
  slaDaysHigh: "SLA days, high",
  slaDaysMedium: "SLA days, medium",
  slaDaysLow: "SLA days, low",
  staleSourceDays: "Stale source after (days)",
  writeOffAccountId: "Write-off account",
};

const threshold = decimalString.refine((s) => !s.startsWith("-"), "Not negative").transform((s) => money(s).toFixed());
// Upper bounds catch typos: an SLA of 3000 days would quietly park every deadline years away.
const days = (min: number, max: number) =>
  z.number({ error: "Whole days, like 5" }).int("Whole days, like 5").min(min, min === 0 ? "Not negative" : `At least ${min} day`).max(max, `At most ${max} days`);

/** A proposed policy, as a controls change carries it: amounts as decimal strings, never floats. */
export const exceptionPolicyInput = z
  .object({
    amountMedium: threshold,
    amountHigh: threshold,
    // Severity has three levels to climb above low, so a fourth step could never count.
    ageStepDays: z.array(days(1, 3650)).max(3, "At most three age steps"),
    slaDaysCritical: days(0, 365),
    slaDaysHigh: days(0, 365),
    slaDaysMedium: days(0, 365),
    slaDaysLow: days(0, 365),
    staleSourceDays: days(1, 365),
    writeOffAccountId: z.string().uuid("Choose an account").nullable(),
  })
  .superRefine((p, ctx) => {
    // zod runs this even when a field failed; compare only what parsed.
    if (DECIMAL_PATTERN.test(p.amountMedium) && DECIMAL_PATTERN.test(p.amountHigh) && money(p.amountMedium).gt(p.amountHigh)) {
      ctx.addIssue({ code: "custom", path: ["amountHigh"], message: "The high threshold cannot be below the medium one" });
    }
    p.ageStepDays.forEach((d, i) => {
      if (i > 0 && d <= p.ageStepDays[i - 1]) ctx.addIssue({ code: "custom", path: ["ageStepDays", i], message: "Each age step must be later than the one before" });
    });
  });

/**
 * The policy a proposal was made against, as the row held it. Lenient where the input is strict
 * (the row may predate these rules: steps set in SQL), since it is a record of what was, not a wish.
 */
const policyAsStored = z.object({
  amountMedium: decimalString.transform((s) => money(s).toFixed()),
  amountHigh: decimalString.transform((s) => money(s).toFixed()),
  ageStepDays: z.array(z.number().int()),
  slaDaysCritical: z.number().int(),
  slaDaysHigh: z.number().int(),
  slaDaysMedium: z.number().int(),
  slaDaysLow: z.number().int(),
  staleSourceDays: z.number().int(),
  writeOffAccountId: z.string().uuid().nullable(),
});

/**
 * A change of the policy as a controls change carries it: the policy it was proposed against and
 * the one proposed. Both are in the request's content, so its hash covers the before as well as
 * the after, the approver signs off exactly "from this to that", and the request still shows what
 * changed after it ran. It applies only while the policy is still `before`.
 */
export const exceptionPolicyChange = z.object({ before: policyAsStored, after: exceptionPolicyInput });
export type ExceptionPolicyChange = z.output<typeof exceptionPolicyChange>;

/** The policy's own fields, without its version and history. */
export function policyValues(p: ExceptionPolicy): ExceptionPolicy {
  const { amountMedium, amountHigh, ageStepDays, slaDaysCritical, slaDaysHigh, slaDaysMedium, slaDaysLow, staleSourceDays, writeOffAccountId } = p;
  return { amountMedium, amountHigh, ageStepDays, slaDaysCritical, slaDaysHigh, slaDaysMedium, slaDaysLow, staleSourceDays, writeOffAccountId };
}

type PolicyRow = {
  amount_medium: string; amount_high: string; age_step_days: number[]; sla_days_critical: number; sla_days_high: number; sla_days_medium: number;
  sla_days_low: number; stale_source_days: number; write_off_account_id: string | null; version: number; updated_at: string; updated_by: string | null;
  write_off_account: string | null;
};

/** The policy as it stands, amounts normalised ("1000", not "1000.0000") so a diff compares like with like. */
export async function loadExceptionPolicy(tx: Db, orgId: string): Promise<CurrentExceptionPolicy> {
  const [r] = await tx.execute<PolicyRow>(sql`
    select p.amount_medium::text, p.amount_high::text, p.age_step_days, p.sla_days_critical, p.sla_days_high, p.sla_days_medium, p.sla_days_low,
           p.stale_source_days, p.write_off_account_id, p.version, p.updated_at::text, u.name as updated_by,
           a.code || ' ' || a.name || ' (' || en.name || ')' as write_off_account
    from exception_policies p
    left join users u on u.id = p.updated_by
    left join accounts a on a.org_id = p.org_id and a.id = p.write_off_account_id
    left join entities en on en.id = a.entity_id
    where p.org_id = ${orgId}`);
  // Every organisation gets its row from a trigger when it is created (0011_exceptions_workspace).
  if (!r) throw new AppError("not_found", "This organisation has no exception policy.");
  return {
    amountMedium: money(r.amount_medium).toFixed(),
    amountHigh: money(r.amount_high).toFixed(),
    ageStepDays: [...r.age_step_days].map(Number),
    slaDaysCritical: r.sla_days_critical,
    slaDaysHigh: r.sla_days_high,
    slaDaysMedium: r.sla_days_medium,
    slaDaysLow: r.sla_days_low,
    staleSourceDays: r.stale_source_days,
    writeOffAccountId: r.write_off_account_id,
    version: r.version,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
    writeOffAccount: r.write_off_account,
  };
}

/** The fields a proposal changes, in the policy's order. */
export function changedPolicyFields(before: ExceptionPolicy, after: ExceptionPolicy): (keyof ExceptionPolicy)[] {
  return (Object.keys(EXCEPTION_POLICY_LABELS) as (keyof ExceptionPolicy)[]).filter((k) => policyValueText(before, k) !== policyValueText(after, k));
}

/** One field as text; the write-off account by id (present() names it). */
export function policyValueText(p: ExceptionPolicy, k: keyof ExceptionPolicy): string {
  const v = p[k];
  if (k === "ageStepDays") return (v as number[]).length ? (v as number[]).join(", ") : "none";
  if (k === "amountMedium" || k === "amountHigh") return money(v as string).toFixed();
  return v === null ? "none" : String(v);
}

/**
 * Accounts a write-off may go to: active income or expense accounts that are not control accounts.
 * A write-off takes the difference to profit and loss; on a balance-sheet account it would only
 * move it somewhere else, and a control account's balance belongs to its sub-ledger.
 */
export type WriteOffAccount = { id: string; label: string };

export async function listWriteOffAccounts(tx: Db, orgId: string): Promise<WriteOffAccount[]> {
  const rows = await tx.execute<WriteOffAccount>(sql`
    select a.id, a.code || ' ' || a.name || ' (' || en.name || ')' as label
    from accounts a join entities en on en.id = a.entity_id
    where a.org_id = ${orgId} and a.is_active and not a.is_control and a.type in ('income', 'expense')
    order by en.name, a.code`);
  return [...rows];
}

/** "6800 Bank fees (Tieout Demo GmbH)" per id, for the accounts of this organisation among `ids`. */
export async function accountLabels(tx: Db, orgId: string, ids: (string | null)[]): Promise<Map<string, string>> {
  const valid = ids.filter((id): id is string => !!id && isUuid(id));
  if (!valid.length) return new Map();
  const rows = await tx.execute<{ id: string; label: string }>(sql`
    select a.id, a.code || ' ' || a.name || ' (' || en.name || ')' as label from accounts a join entities en on en.id = a.entity_id
    where a.org_id = ${orgId} and a.id in (select unnest(${`{${valid.join(",")}}`}::uuid[]))`);
  return new Map(rows.map((r) => [r.id, r.label]));
}

/**
 * Refuses a write-off account that is not an active income or expense posting account of this organisation. Another
 * tenant's id reads exactly like an unknown one (row-level security and the org filter hide it),
 * so neither says whether the id exists elsewhere.
 */
export async function assertWriteOffAccount(tx: Db, orgId: string, accountId: string | null): Promise<void> {
  if (accountId === null) return;
  const refuse = (message: string) => new AppError("validation", message, { "exceptionPolicy.writeOffAccountId": [message] });
  const [a] = isUuid(accountId)
    ? await tx.execute<{ code: string; type: string; is_active: boolean; is_control: boolean }>(sql`select code, type, is_active, is_control from accounts where org_id = ${orgId} and id = ${accountId}`)
    : [];
  if (!a) throw refuse("The write-off account is not an account of this organisation.");
  if (!a.is_active) throw refuse(`Account ${a.code} is inactive; write-offs need an active account.`);
  if (a.is_control) throw refuse(`Account ${a.code} is a control account kept by its sub-ledger; write-offs go to an ordinary posting account.`);
  if (a.type !== "income" && a.type !== "expense") throw refuse(`Account ${a.code} is ${a.type === "liability" ? "a" : "an"} ${a.type} account; write-offs go to an income or expense account.`);
}

export type PolicyApplied = { version: number; severityChanged: number; dueChanged: number };

/**
 * Writes the approved policy (version + 1, updated_by the maker) and brings the organisation's
 * unresolved exceptions under it at once, rather than at the next nightly sweep: whoever approved
 * a lower threshold expects the queue to show it.
 */
export async function applyExceptionPolicy(tx: Db, ctx: Ctx, p: ExceptionPolicy, makerId: string): Promise<PolicyApplied> {
  const orgId = ctx.orgId;
  // Checked again here: the account may have been deactivated while the request waited.
  await assertWriteOffAccount(tx, orgId, p.writeOffAccountId);
  const [row] = await tx.execute<{ version: number }>(sql`
    update exception_policies set amount_medium = ${p.amountMedium}, amount_high = ${p.amountHigh}, age_step_days = ${`{${p.ageStepDays.join(",")}}`}::integer[],
      sla_days_critical = ${p.slaDaysCritical}, sla_days_high = ${p.slaDaysHigh}, sla_days_medium = ${p.slaDaysMedium}, sla_days_low = ${p.slaDaysLow},
      stale_source_days = ${p.staleSourceDays}, write_off_account_id = ${p.writeOffAccountId}, version = version + 1, updated_by = ${makerId}, updated_at = now()
    where org_id = ${orgId}
    returning version`);
  if (!row) throw new AppError("not_found", "This organisation has no exception policy.");
  // The history the triggers write names this actor (for an approval: the approver and the
  // request), so a severity that moved reads as the policy change, not as a person's edit of it.
  const [{ actor }] = await tx.execute<{ actor: string }>(sql`select coalesce(current_setting('app.actor', true), '') as actor`);
  await tx.execute(sql`select set_config('app.actor', ${ctx.actorLabel}, true)`);
  const rerated = await rerateUnresolvedExceptions(tx, orgId);
  await tx.execute(sql`select set_config('app.actor', ${actor}, true)`);
  return { version: row.version, ...rerated };
}

/**
 * Re-rates the organisation's open and snoozed exceptions under its current policy, in one
 * statement. Severity is recomputed by exception_severity for the kinds the policy rates (as the
 * nightly sweep does; a statement that does not add up stays 'high' on purpose). Due dates are
 * re-derived for every unresolved exception: due_at is raised_at plus the SLA days of its
 * severity and nothing else sets it, so a changed SLA moves the deadlines of what is still open.
 * Only rows that change are written; the triggers then record each new severity in
 * exception_events ('severity_changed', with the transaction's actor) and keep exception_counts.
 * A due date that moves alone writes no event, as when the due trigger re-derives it.
 * A changed stale-source limit takes effect at the next stale-source sweep (nightly, or after an import).
 */
export async function rerateUnresolvedExceptions(tx: Db, orgId: string): Promise<{ severityChanged: number; dueChanged: number }> {
  const kinds = sql.join(POLICY_SEVERITY_KINDS.map((k) => sql`${k}`), sql`, `);
  const [r] = await tx.execute<{ severity_changed: number; due_changed: number }>(sql`
    with target as (
      select e.id, e.severity as old_severity, e.due_at as old_due, s.severity,
             e.raised_at + make_interval(days => case s.severity when 'critical' then p.sla_days_critical when 'high' then p.sla_days_high
                                                                 when 'medium' then p.sla_days_medium else p.sla_days_low end) as due_at
      from exceptions e
      cross join exception_policies p
      cross join lateral (
        select case when e.kind in (${kinds}) then exception_severity(e.amount, e.occurred_on, (now() at time zone 'UTC')::date, p) else e.severity end as severity
      ) s
      where p.org_id = ${orgId} and e.org_id = ${orgId} and e.status <> 'resolved'
    ),
    changed as (
      update exceptions e set severity = t.severity, due_at = t.due_at
      from target t
      where e.org_id = ${orgId} and e.id = t.id and (t.severity <> t.old_severity or t.due_at is distinct from t.old_due)
      returning t.severity <> t.old_severity as severity_changed, t.due_at is distinct from t.old_due as due_changed
    )
    select (count(*) filter (where severity_changed))::int as severity_changed, (count(*) filter (where due_changed))::int as due_changed from changed`);
  return { severityChanged: r.severity_changed, dueChanged: r.due_changed };
}
