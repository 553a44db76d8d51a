import { appDb, type Db } from "@/server/db/client";
import { serverEnv } from "@/server/env";
import { listOrganisationIds } from "@/server/jobs/organisations";
import { runTrialBalanceJob } from "@/server/jobs/trial-balance-job";
import { planNightlyMatching, runMatchingBacklog, runMatchingJob } from "@/server/jobs/matching-job";

/**
 * What the functions need from the outside world, in one place so tests can pass their own.
 * The database handle is a getter: importing a function (e.g. during `next build`) must not
 * read the environment or open a pool.
 */
export type JobDeps = {
  db: () => Db;
  listOrganisationIds: (db: Db) => Promise<string[]>;
  runTrialBalanceJob: typeof runTrialBalanceJob;
  runMatchingJob: typeof runMatchingJob;
  runMatchingBacklog: typeof runMatchingBacklog;
  planNightlyMatching: typeof planNightlyMatching;
};

export const defaultJobDeps: JobDeps = {
  db: () => appDb(serverEnv().DATABASE_URL),
  listOrganisationIds,
  runTrialBalanceJob,
  runMatchingJob,
  runMatchingBacklog,
  planNightlyMatching,
};
