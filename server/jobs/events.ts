import { z } from "zod";
import { isoDate } from "@/server/ledger/schemas";

/**
 * The background events Tieout knows, each with the zod schema of its data. One definition
 * serves both front doors: the Inngest event types (inngest/events.ts) wrap these schemas, and
 * inline dispatch validates with them, so an event is checked the same way in either mode.
 */

export const JOB_EVENT_SCHEMAS = {
  /** Run the trial-balance check for one organisation now (a "Run now" button, the CLI). */
  "tieout/checks.trial-balance.requested": z.object({
    orgId: z.guid(),
    /** Defaults to today (UTC) when the run starts. */
    asOf: isoDate.optional(),
    /** The signed-in user who asked, recorded in the run and its audit event. */
    requestedBy: z.guid().optional(),
  }),
  /** Run (or continue) one queued Xero sync job; connectionId keys the one-at-a-time concurrency. */
  "tieout/xero.sync.requested": z.object({ orgId: z.guid(), jobId: z.guid(), connectionId: z.guid() }),
  /**
   * Reconcile one source for a date range (a "Run now", the CLI, the nightly sweep). Without
   * from/to: the last 35 days.
   */
  "tieout/matching.run.requested": z.object({
    orgId: z.guid(),
    sourceId: z.guid(),
    against: z.discriminatedUnion("kind", [z.object({ kind: z.literal("ledger") }), z.object({ kind: z.literal("source"), sourceId: z.guid() })]).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    trigger: z.enum(["manual", "schedule", "cli"]),
    requestedBy: z.guid().optional(),
  }),
  /**
   * Lines landed in a source (a file import, a webhook delivery) and widened its matching backlog:
   * reconcile what the backlog holds once the deliveries pause. Carries no dates on purpose — the
   * backlog row has them all, however many events a burst sent.
   */
  "tieout/matching.backlog.added": z.object({ orgId: z.guid(), sourceId: z.guid() }),
} as const;

export type JobEventName = keyof typeof JOB_EVENT_SCHEMAS;
export type JobEventData<N extends JobEventName> = z.infer<(typeof JOB_EVENT_SCHEMAS)[N]>;
export type JobEvent = { [N in JobEventName]: { name: N; data: JobEventData<N>; /** dedupe key (Inngest: 24 h) */ id?: string } }[JobEventName];

export const TRIAL_BALANCE_REQUESTED = "tieout/checks.trial-balance.requested" satisfies JobEventName;
export const XERO_SYNC_REQUESTED = "tieout/xero.sync.requested" satisfies JobEventName;
export const MATCHING_RUN_REQUESTED = "tieout/matching.run.requested" satisfies JobEventName;
export const MATCHING_BACKLOG_ADDED = "tieout/matching.backlog.added" satisfies JobEventName;

/** Today's date in UTC, the default asOf of scheduled and unqualified runs. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
