import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { inOrg } from "@/server/db/tenant";
import type { Ctx } from "@/server/tenancy/context";
import { POLICY_SEVERITY_KINDS } from "./raise-exceptions";

export type ExceptionClockSweep = { woke: number; severityChanged: number };

/** Snoozes whose time has come end: the exceptions are back in the open queue (history 'woke'). */
export async function wakeEndedSnoozes(db: Db, ctx: Ctx): Promise<number> {
  return inOrg(db, ctx, (tx) => wakeIn(tx, ctx.orgId));
}

const wakeIn = async (tx: Db, orgId: string) =>
  (await tx.execute(sql`update exceptions set status = 'open', snoozed_until = null where org_id = ${orgId} and status = 'snoozed' and snoozed_until <= now()`)).count;

/**
 * What time alone changes. A snooze whose time has come ends (the hourly wake does this on the
 * hour; the nightly sweep does it too, so a missed hour is caught up). And severity follows age:
 * an exception's record gets older every day, so each policy age step it passes raises its
 * severity (and, by trigger, its deadline) — only where the result differs, so a quiet night
 * writes nothing and the history stays readable.
 *
 * Only the kinds whose severity the policy decides are recomputed: a statement that does not add
 * up or lines in a closed period are raised 'high' on purpose, whatever their amount.
 */
export async function sweepExceptionClock(db: Db, ctx: Ctx, today: string): Promise<ExceptionClockSweep> {
  return inOrg(db, ctx, async (tx) => {
    const woke = await wakeIn(tx, ctx.orgId);
    const kinds = sql.join(POLICY_SEVERITY_KINDS.map((k) => sql`${k}`), sql`, `);
    const aged = await tx.execute(sql`
      update exceptions e set severity = exception_severity(e.amount, e.occurred_on, ${today}::date, p)
      from exception_policies p
      where p.org_id = ${ctx.orgId} and e.org_id = ${ctx.orgId} and e.status <> 'resolved' and e.kind in (${kinds})
        and e.severity <> exception_severity(e.amount, e.occurred_on, ${today}::date, p)`);
    return { woke, severityChanged: aged.count };
  });
}
