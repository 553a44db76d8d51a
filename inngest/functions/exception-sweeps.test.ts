import { randomUUID } from "node:crypto";
import { InngestTestEngine } from "@inngest/test";
import { describe, expect, test, vi } from "vitest";
import type { Db } from "@/server/db/client";
import { createExceptionSweeps, createSnoozeWake, EXCEPTION_SWEEPS_CRON, SNOOZE_WAKE_CRON, sweepStepId, type ExceptionSweepDeps } from "./exception-sweeps";

/**
 * Engine tests of the daily sweep: one step per organisation with a stable id, the day fixed by
 * the cron event, a failure naming its organisation. The sweeps themselves are tested against
 * PostgreSQL in server/exceptions/*.db.test.ts.
 */
const FAKE_DB = { fake: "db" } as unknown as Db;
const cronEvent = { name: "inngest/scheduled.timer", data: { cron: EXCEPTION_SWEEPS_CRON }, ts: Date.UTC(2026, 5, 1, 3, 0) };
const stepIds = (ctx: { step: { run: { mock: { calls: unknown[][] } } } }) => ctx.step.run.mock.calls.map((c) => c[0]);

function fakeDeps(orgIds: string[], failFor: string[] = []) {
  return {
    db: vi.fn(() => FAKE_DB),
    listOrganisationIds: vi.fn(async (_db: Db) => orgIds),
    runExceptionSweepsJob: vi.fn<ExceptionSweepDeps["runExceptionSweepsJob"]>(async (_db, job) => {
      if (failFor.includes(job.orgId)) throw new Error(`database unavailable for ${job.orgId}`);
      return { orgId: job.orgId, today: job.today, staleRaised: 1, staleCleared: 0, woke: 2, severityChanged: 3, requestsExpired: 1 };
    }),
    wakeSnoozesEverywhere: vi.fn<ExceptionSweepDeps["wakeSnoozesEverywhere"]>(async () =>
      ({ woke: 4, organisations: orgIds.length - failFor.length, failures: failFor.map((orgId) => ({ orgId, error: "database unavailable" })) })),
  } satisfies ExceptionSweepDeps;
}

describe("exception-sweeps function", () => {
  test("plans once, then sweeps each organisation in its own step, dated from the cron event", async () => {
    const orgs = [randomUUID(), randomUUID()];
    const deps = fakeDeps(orgs);
    const t = new InngestTestEngine({ function: createExceptionSweeps(deps) });
    const { result, error, ctx } = await t.execute({ events: [cronEvent] });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["plan", ...orgs.map(sweepStepId)]);
    expect(deps.listOrganisationIds).toHaveBeenCalledWith(FAKE_DB);
    expect(deps.runExceptionSweepsJob.mock.calls.map((c) => [c[0], c[1]])).toEqual(orgs.map((orgId) => [FAKE_DB, { orgId, today: "2026-06-01" }]));
    expect(result).toEqual({ today: "2026-06-01", runs: orgs.map((orgId) => ({ orgId, today: "2026-06-01", staleRaised: 1, staleCleared: 0, woke: 2, severityChanged: 3, requestsExpired: 1 })) });
    expect(ctx.step.sleep).not.toHaveBeenCalled();
  });

  test("a failing organisation surfaces as the run's error, after the earlier ones swept", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const deps = fakeDeps([a, b], [b]);
    const t = new InngestTestEngine({ function: createExceptionSweeps(deps) });
    const { error, ctx } = await t.execute({ events: [cronEvent] });
    expect((error as { message?: string }).message).toBe(`database unavailable for ${b}`);
    expect(stepIds(ctx).slice(0, 3)).toEqual(["plan", sweepStepId(a), sweepStepId(b)]);
  });

  test("with no organisations it runs the plan step only", async () => {
    const deps = fakeDeps([]);
    const t = new InngestTestEngine({ function: createExceptionSweeps(deps) });
    const { result, ctx } = await t.execute({ events: [cronEvent] });
    expect(stepIds(ctx)).toEqual(["plan"]);
    expect(result).toEqual({ today: "2026-06-01", runs: [] });
    expect(deps.runExceptionSweepsJob).not.toHaveBeenCalled();
  });

  test("is registered to serve, on its daily cron, one run at a time", async () => {
    const { functions } = await import("./index");
    const fn = functions.find((f) => (f as unknown as { opts: { id: string } }).opts.id === "exception-sweeps") as unknown as { opts: { triggers: { cron?: string }[]; concurrency: unknown } };
    expect(fn).toBeDefined();
    expect(fn.opts.triggers).toEqual([{ cron: EXCEPTION_SWEEPS_CRON }]);
    expect(fn.opts.concurrency).toEqual({ limit: 1 });
  });
});

describe("snooze-wake function", () => {
  const hourly = { name: "inngest/scheduled.timer", data: { cron: SNOOZE_WAKE_CRON }, ts: Date.UTC(2026, 5, 1, 0, 0) };

  test("runs on the hour (UTC) and wakes every organisation's ended snoozes in one step", async () => {
    expect(SNOOZE_WAKE_CRON).toBe("TZ=UTC 0 * * * *");
    const deps = fakeDeps([randomUUID(), randomUUID()]);
    const t = new InngestTestEngine({ function: createSnoozeWake(deps) });
    const { result, error, ctx } = await t.execute({ events: [hourly] });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["wake"]);
    expect(deps.wakeSnoozesEverywhere).toHaveBeenCalledWith(FAKE_DB);
    expect(result).toEqual({ woke: 4, organisations: 2, failures: [] });
  });

  test("an organisation that failed makes the step fail (and Inngest retry it), naming the organisation", async () => {
    const bad = randomUUID();
    const t = new InngestTestEngine({ function: createSnoozeWake(fakeDeps([randomUUID(), bad], [bad])) });
    const { error } = await t.execute({ events: [hourly] });
    expect((error as { message?: string }).message).toBe(`Waking snoozes failed for 1 organisation(s): ${bad} (database unavailable)`);
  });
});
