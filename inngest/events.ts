import { eventType } from "inngest";
import { JOB_EVENT_SCHEMAS, MATCHING_BACKLOG_ADDED, MATCHING_RUN_REQUESTED, TRIAL_BALANCE_REQUESTED, XERO_SYNC_REQUESTED } from "@/server/jobs/events";

/**
 * Typed Inngest events (v4 `eventType` + zod, validated at runtime by the SDK). The schemas
 * live in server/jobs/events.ts so inline dispatch validates exactly the same way.
 */
export const trialBalanceRequested = eventType(TRIAL_BALANCE_REQUESTED, { schema: JOB_EVENT_SCHEMAS[TRIAL_BALANCE_REQUESTED] });
export const xeroSyncRequested = eventType(XERO_SYNC_REQUESTED, { schema: JOB_EVENT_SCHEMAS[XERO_SYNC_REQUESTED] });
export const matchingRunRequested = eventType(MATCHING_RUN_REQUESTED, { schema: JOB_EVENT_SCHEMAS[MATCHING_RUN_REQUESTED] });
export const matchingBacklogAdded = eventType(MATCHING_BACKLOG_ADDED, { schema: JOB_EVENT_SCHEMAS[MATCHING_BACKLOG_ADDED] });
