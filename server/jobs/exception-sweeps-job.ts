import type { Db } from "@/server/db/client";
import { sweepStaleSources } from "@/server/exceptions/stale-sources";
import { sweepExceptionClock, wakeEndedSnoozes } from "@/server/exceptions/sweeps";
import { expireOverdueRequests } from "@/server/approvals/requests";
import { systemCtx } from "@/server/tenancy/context";
import { consoleJobLogger, type JobLogger } from "./dispatch";
import { asOrgItems, eachInTurn } from "./each-in-turn";
import { listOrganisationIds } from "./organisations";

/** What a job step keeps of one organisation's sweep: small and JSON-safe (Inngest memoises step output). */
export type ExceptionSweepSummary = { orgId: string; today: string; staleRaised: number; staleCleared: number; woke: number; severityChanged: number; requestsExpired: number };

/**
 * One organisation's daily exception sweeps, as a named system actor (the history says
 * "system:exception-sweeps"): stale sources raised and cleared, snoozes that have ended woken,
 * severities aged; and approval requests past their lifetime expired. Lists expire them when
 * read too, but an organisation nobody opens would otherwise keep a stale request "pending": its
 * exception marked as waiting, its period's close checklist blocked. Shared by the in-process
 * scheduler and the Inngest function's steps.
 */
export async function runExceptionSweepsJob(db: Db, job: { orgId: string; today: string }): Promise<ExceptionSweepSummary> {
  const ctx = systemCtx(job.orgId, "exception-sweeps");
  const stale = await sweepStaleSources(db, ctx, job.today);
  const clock = await sweepExceptionClock(db, ctx, job.today);
  const requestsExpired = await expireOverdueRequests(db, systemCtx(job.orgId, "approval-expiry"));
  return { orgId: job.orgId, today: job.today, staleRaised: stale.raised, staleCleared: stale.cleared, woke: clock.woke, severityChanged: clock.severityChanged, requestsExpired };
}

export type NightlySweepOutcome = { today: string; runs: ExceptionSweepSummary[]; failures: { orgId: string; error: string }[] };

/** Every organisation in turn; one organisation's failure is logged and does not stop the others. */
export async function runNightlyExceptionSweeps(db: Db, opts: { today: string; log?: JobLogger }): Promise<NightlySweepOutcome> {
  const log = opts.log ?? consoleJobLogger;
  const { results: runs, failures } = await eachInTurn(
    asOrgItems(await listOrganisationIds(db)),
    ({ orgId }) => runExceptionSweepsJob(db, { orgId, today: opts.today }),
    ({ orgId }, error) => log.error("exception sweeps failed", { orgId, today: opts.today, error }),
  );
  const outcome: NightlySweepOutcome = { today: opts.today, runs, failures };
  log.info("exception sweeps finished", { today: opts.today, organisations: outcome.runs.length, errors: outcome.failures.length });
  return outcome;
}

export type SnoozeWakeOutcome = { woke: number; organisations: number; failures: { orgId: string; error: string }[] };

/**
 * Every hour, on the hour: every organisation's ended snoozes woken. A snooze ends at 00:00 UTC
 * of its day, so the midnight wake brings the exception back when the day begins rather than at
 * the nightly sweep hours later. One organisation's failure is logged and does not stop the others.
 */
export async function wakeSnoozesEverywhere(db: Db, opts: { log?: JobLogger } = {}): Promise<SnoozeWakeOutcome> {
  const log = opts.log ?? consoleJobLogger;
  const { results, failures } = await eachInTurn(
    asOrgItems(await listOrganisationIds(db)),
    ({ orgId }) => wakeEndedSnoozes(db, systemCtx(orgId, "snooze-wake")),
    ({ orgId }, error) => log.error("waking snoozed exceptions failed", { orgId, error }),
  );
  const outcome: SnoozeWakeOutcome = { woke: results.reduce((n, woke) => n + woke, 0), organisations: results.length, failures };
  if (outcome.woke || outcome.failures.length) log.info("snoozed exceptions woken", { woke: outcome.woke, errors: outcome.failures.length });
  return outcome;
}
