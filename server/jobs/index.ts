export { createDispatcher, dispatch, initJobs, jobsConfigFromServerEnv, jobsModeFromEnv, consoleJobLogger } from "./dispatch";
export type { DispatchResult, Dispatcher, JobLogger, JobsConfig, JobsMode } from "./dispatch";
export { JOB_EVENT_SCHEMAS, TRIAL_BALANCE_REQUESTED, XERO_SYNC_REQUESTED, todayUtc } from "./events";
export type { JobEvent, JobEventData, JobEventName } from "./events";
export { nextNightlyRun, runNightlyTrialBalance, startInlineScheduler } from "./inline-scheduler";
export { listOrganisationIds } from "./organisations";
export { runTrialBalanceJob } from "./trial-balance-job";
export type { TrialBalanceRunSummary } from "./trial-balance-job";
