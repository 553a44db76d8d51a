import type { Db } from "@/server/db/client";
import { appDb } from "@/server/db/client";
import { serverEnv } from "@/server/env";
import { AppError } from "@/server/errors";
import { JOB_EVENT_SCHEMAS, todayUtc, type JobEvent } from "./events";
import { runTrialBalanceJob, type TrialBalanceRunSummary } from "./trial-balance-job";
import { runMatchingBacklog, runMatchingJob, type MatchingRunSummary } from "./matching-job";
import { createDebouncer, type Debouncer } from "./debouncer";

/**
 * The dispatch seam: the only place where the rest of server/ (and app/) hands work to the
 * background. Two modes, chosen once from explicit configuration:
 *
 * - `inngest` (Inngest Cloud or a self-hosted `inngest start`): the event is sent to Inngest,
 *   which runs the durable function in inngest/functions. The Inngest SDK is imported lazily,
 *   so a deployment without Inngest never loads it.
 * - `inline` (a single machine, dev, e2e): the same server/ service runs in this process and
 *   the call is AWAITED. Why awaited rather than fire-and-forget: the work is one aggregate
 *   query and two inserts (well under a second for real ledgers); the caller (a "Run now"
 *   action) can then show the run and its status at once; typed errors (forbidden, validation)
 *   reach the caller instead of vanishing into a log; and nothing is left running after a
 *   response, which Next.js does not guarantee to keep alive outside `after()`. Failures are
 *   still logged here before they are re-thrown, so scheduled callers lose nothing. Work that
 *   takes minutes (imports, reconciliation runs) will get its own progress table and a
 *   detached mode when it arrives.
 */
export type JobLogger = { info: (msg: string, meta?: Record<string, unknown>) => void; error: (msg: string, meta?: Record<string, unknown>) => void };

export const consoleJobLogger: JobLogger = {
  info: (msg, meta) => console.info(`[jobs] ${msg}`, meta ?? ""),
  error: (msg, meta) => console.error(`[jobs] ${msg}`, meta ?? ""),
};

export type JobsMode = "inline" | "inngest";

export type JobsConfig =
  | {
      mode: "inline";
      db: () => Db;
      log?: JobLogger;
      now?: () => Date;
      /** How long deliveries to one source must pause before their backlog is reconciled, and the longest wait (default 2 s and 30 s). */
      backlogDebounce?: { quietMs: number; maxWaitMs: number };
    }
  | { mode: "inngest"; log?: JobLogger; /** Replaces the lazily imported Inngest client's send (tests). */ send?: (event: JobEvent) => Promise<{ ids: string[] }> };

export type DispatchResult =
  | { mode: "inline"; event: JobEvent["name"]; runs: (TrialBalanceRunSummary | MatchingRunSummary)[]; /** Started and not awaited (scheduled matching, and the debounced run after deliveries). */ detached?: boolean }
  | { mode: "inngest"; event: JobEvent["name"]; eventIds: string[] };

export type Dispatcher = {
  mode: JobsMode;
  dispatch: (event: JobEvent) => Promise<DispatchResult>;
  /** Inline mode: resolves once no debounced work is waiting or running (tests wait on it). */
  settled?: () => Promise<void>;
};

/** Inngest when it is configured (an event key for Cloud/self-hosted, or INNGEST_DEV), inline otherwise. */
export function jobsModeFromEnv(env: { INNGEST_EVENT_KEY?: string; INNGEST_DEV?: string }): JobsMode {
  return env.INNGEST_EVENT_KEY || env.INNGEST_DEV ? "inngest" : "inline";
}

export function createDispatcher(config: JobsConfig): Dispatcher {
  const log = config.log ?? consoleJobLogger;

  const validate = (event: JobEvent): JobEvent => {
    const schema = JOB_EVENT_SCHEMAS[event.name];
    if (!schema) throw new AppError("validation", `Unknown background event ${String(event.name)}.`);
    const parsed = schema.safeParse(event.data);
    if (!parsed.success) throw new AppError("validation", `The ${event.name} event is not valid.`);
    return { ...event, data: parsed.data } as JobEvent;
  };

  if (config.mode === "inngest") {
    const send = config.send ?? (async (event: JobEvent) => {
      const { inngest } = await import("@/inngest/client");
      return inngest.send(event);
    });
    return {
      mode: "inngest",
      async dispatch(raw) {
        const event = validate(raw);
        try {
          const { ids } = await send(event);
          return { mode: "inngest", event: event.name, eventIds: ids };
        } catch (e) {
          log.error("could not send event to Inngest", { event: event.name, error: String(e) });
          throw e;
        }
      },
    };
  }

  const now = config.now ?? (() => new Date());
  const backlogRuns: Debouncer = createDebouncer(config.backlogDebounce ?? { quietMs: 2_000, maxWaitMs: 30_000 });
  return {
    mode: "inline",
    settled: backlogRuns.settled,
    async dispatch(raw) {
      const event = validate(raw);
      try {
        switch (event.name) {
          case "tieout/checks.trial-balance.requested": {
            const { orgId, asOf, requestedBy } = event.data;
            const run = await runTrialBalanceJob(config.db(), { orgId, asOf: asOf ?? todayUtc(now()), trigger: "manual", requestedBy });
            return { mode: "inline", event: event.name, runs: [run] };
          }
          case "tieout/xero.sync.requested": {
            // A sync takes minutes: it runs detached, its rows are the progress the page polls.
            const { runSyncJobDetached } = await import("@/server/xero/sync-runner");
            const { syncDeps } = await import("@/server/xero/runtime");
            const db = config.db();
            void runSyncJobDetached(db, event.data.orgId, event.data.jobId, syncDeps(db));
            return { mode: "inline", event: event.name, runs: [] };
          }
          case "tieout/matching.run.requested": {
            const job = { ...event.data, against: event.data.against ?? { kind: "ledger" as const } };
            // A person waiting on "Run now" (or the CLI) gets the run's outcome; a scheduled run is
            // started and left running. The match_runs row is the progress record either way.
            if (job.trigger === "schedule") {
              void runMatchingJob(config.db(), job, now()).catch((e) =>
                log.error("detached matching run failed", { orgId: job.orgId, sourceId: job.sourceId, error: e instanceof AppError ? `${e.code}: ${e.message}` : String(e) }),
              );
              return { mode: "inline", event: event.name, runs: [], detached: true };
            }
            return { mode: "inline", event: event.name, runs: [await runMatchingJob(config.db(), job, now())] };
          }
          case "tieout/matching.backlog.added": {
            const { orgId, sourceId } = event.data;
            backlogRuns.request(sourceId, () =>
              runMatchingBacklog(config.db(), orgId, sourceId, now()).then(
                () => undefined,
                (e) => log.error("matching after deliveries failed", { orgId, sourceId, error: e instanceof AppError ? `${e.code}: ${e.message}` : String(e) }),
              ),
            );
            return { mode: "inline", event: event.name, runs: [], detached: true };
          }
        }
      } catch (e) {
        log.error("inline job failed", { event: event.name, orgId: event.data.orgId, error: e instanceof AppError ? `${e.code}: ${e.message}` : String(e) });
        throw e;
      }
    },
  };
}

const holder = globalThis as unknown as { tieoutDispatcher?: Dispatcher };

/** Sets the process's dispatcher from explicit configuration (scripts/start.ts, tests). */
export function initJobs(config: JobsConfig): Dispatcher {
  holder.tieoutDispatcher = createDispatcher(config);
  return holder.tieoutDispatcher;
}

/** The configuration the server's environment implies: Inngest if configured, else inline on the app pool. */
export function jobsConfigFromServerEnv(): JobsConfig {
  const env = serverEnv();
  return jobsModeFromEnv(env) === "inngest" ? { mode: "inngest" } : { mode: "inline", db: () => appDb(env.DATABASE_URL) };
}

/**
 * Hands an event to the background. Callers authorise first: a server action checks the user's
 * `checks.run` permission before dispatching, because the job itself runs as a system actor.
 * If no dispatcher was initialised (a Next.js server process), one is built from the server env.
 */
export async function dispatch(event: JobEvent): Promise<DispatchResult> {
  holder.tieoutDispatcher ??= createDispatcher(jobsConfigFromServerEnv());
  return holder.tieoutDispatcher.dispatch(event);
}
