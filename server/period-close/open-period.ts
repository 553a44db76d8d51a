import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { loadControlSettings } from "@/server/approvals/policy";

export type PeriodRef = { id: string; entityId: string; name: string; startsOn: string; endsOn: string; status: "open" | "closed" };

const periodColumns = sql`id, entity_id as "entityId", name, starts_on::text as "startsOn", ends_on::text as "endsOn", status`;

/** The fiscal period of an entity covering a date, or null. */
export async function periodOf(tx: Db, orgId: string, entityId: string, date: string): Promise<PeriodRef | null> {
  const [p] = await tx.execute<PeriodRef>(sql`
    select ${periodColumns} from fiscal_periods where org_id = ${orgId} and entity_id = ${entityId} and ${date}::date between starts_on and ends_on`);
  return p ?? null;
}

/**
 * Refuses a write dated in a closed (or missing) period with the period's name. Every write path
 * that records something dated calls this (or openPeriodFor) before writing; the posting trigger
 * re-checks journal entries whatever the caller did. Runs inside the caller's transaction.
 */
export async function assertPeriodOpen(tx: Db, orgId: string, entityId: string, date: string, what = "nothing can be posted"): Promise<PeriodRef> {
  const p = await periodOf(tx, orgId, entityId, date);
  if (!p) throw new AppError("no_period", `No fiscal period covers ${date} for this entity.`);
  if (p.status === "closed") throw new AppError("period_closed", `Period ${p.name} is closed; ${what} on ${date}.`);
  return p;
}

export type OpenPeriodDecision = { date: string; period: PeriodRef; moved: boolean; requestedDate: string };

/**
 * Where an automated posting dated `date` lands, by the organisation's choice for closed periods:
 * `refuse` throws period_closed (the caller keeps it and retries after a reopening, i.e. it waits);
 * `next_open_period` moves it to the first day of the next open period of the entity (and the
 * caller records the original date in the entry). Xero sync and every future automated poster
 * call this; manual entries never move (their maker chose the date), they use assertPeriodOpen.
 */
export async function openPeriodFor(tx: Db, orgId: string, entityId: string, date: string): Promise<OpenPeriodDecision> {
  const p = await periodOf(tx, orgId, entityId, date);
  if (!p) throw new AppError("no_period", `No fiscal period covers ${date} for this entity.`);
  if (p.status === "open") return { date, period: p, moved: false, requestedDate: date };
  const settings = await loadControlSettings(tx, orgId);
  if (settings.closedPeriodPostings === "refuse") {
    throw new AppError("period_closed", `Period ${p.name} is closed; nothing can be posted on ${date}. It waits until the period is reopened.`);
  }
  const [next] = await tx.execute<PeriodRef>(sql`
    select ${periodColumns} from fiscal_periods
    where org_id = ${orgId} and entity_id = ${entityId} and status = 'open' and starts_on > ${p.endsOn}
    order by starts_on limit 1`);
  if (!next) throw new AppError("period_closed", `Period ${p.name} is closed and no later open period exists for ${date}.`);
  return { date: next.startsOn, period: next, moved: true, requestedDate: date };
}
