import { randomUUID } from "node:crypto";
import { InngestTestEngine, mockCtx } from "@inngest/test";
import { describe, expect, test, vi } from "vitest";
import type { Db } from "@/server/db/client";
import type { JobDeps } from "../deps";
import { createMatchingBacklogRun, createMatchingRun, createNightlyMatching, NIGHTLY_MATCHING_CRON } from "./matching";

/**
 * Engine tests of the two matching functions: steps, ids, arguments and the fan-out. The services
 * they call are tested against PostgreSQL in server/matching/*.db.test.ts.
 */
const FAKE_DB = { fake: "db" } as unknown as Db;
const stepIds = (ctx: { step: { run: { mock: { calls: unknown[][] } } } }) => ctx.step.run.mock.calls.map((c) => c[0]);

function fakeDeps(plan: { orgId: string; sourceIds: string[] }[] = []) {
  const unused = () => Promise.reject(new Error("not used"));
  return {
    db: vi.fn(() => FAKE_DB),
    listOrganisationIds: vi.fn(unused),
    runTrialBalanceJob: vi.fn(unused),
    runMatchingJob: vi.fn<JobDeps["runMatchingJob"]>(async (_db, job) => ({ orgId: job.orgId, sourceId: job.sourceId, runId: "run-1", status: "succeeded", from: job.from ?? null, to: job.to ?? null, error: null })),
    runMatchingBacklog: vi.fn<JobDeps["runMatchingBacklog"]>(async (_db, orgId, sourceId) => ({ orgId, sourceId, runId: "run-2", status: "succeeded", from: "2026-03-02", to: "2026-03-09", error: null })),
    planNightlyMatching: vi.fn(async () => plan),
  } satisfies JobDeps;
}

describe("matching-run function", () => {
  test("runs one reconcile step for the requested source, ledger by default, with the requester", async () => {
    const deps = fakeDeps();
    const [orgId, sourceId, user] = [randomUUID(), randomUUID(), randomUUID()];
    const t = new InngestTestEngine({ function: createMatchingRun(deps) });
    const { result, error, ctx } = await t.execute({
      events: [{ name: "tieout/matching.run.requested", data: { orgId, sourceId, from: "2026-03-01", to: "2026-03-31", trigger: "manual", requestedBy: user }, ts: Date.UTC(2026, 3, 10, 8) }],
    });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["today", "reconcile"]);
    expect(deps.runMatchingJob).toHaveBeenCalledTimes(1);
    expect(deps.runMatchingJob.mock.calls[0][0]).toBe(FAKE_DB);
    expect(deps.runMatchingJob.mock.calls[0][1]).toEqual({ orgId, sourceId, against: { kind: "ledger" }, from: "2026-03-01", to: "2026-03-31", trigger: "manual", requestedBy: user });
    expect(deps.runMatchingJob.mock.calls[0][2]?.toISOString().slice(0, 10)).toBe("2026-04-10");
    expect(result).toMatchObject({ runId: "run-1", status: "succeeded" });
  });

  test("is limited to one run per organisation at a time", () => {
    const fn = createMatchingRun(fakeDeps());
    expect((fn as unknown as { opts: { concurrency: unknown } }).opts.concurrency).toEqual({ limit: 1, key: "event.data.orgId" });
  });

  test("a failing run surfaces as the function's error", async () => {
    const deps = fakeDeps();
    deps.runMatchingJob.mockRejectedValueOnce(new Error("database unavailable"));
    const t = new InngestTestEngine({ function: createMatchingRun(deps) });
    const { error } = await t.execute({ events: [{ name: "tieout/matching.run.requested", data: { orgId: randomUUID(), sourceId: randomUUID(), trigger: "cli" } }] });
    expect((error as { message?: string }).message).toBe("database unavailable");
  });
});

describe("matching-backlog function", () => {
  test("reconciles the source's backlog in one step, with no dates of its own", async () => {
    const deps = fakeDeps();
    const [orgId, sourceId] = [randomUUID(), randomUUID()];
    const t = new InngestTestEngine({ function: createMatchingBacklogRun(deps) });
    const { result, error, ctx } = await t.execute({ events: [{ name: "tieout/matching.backlog.added", data: { orgId, sourceId } }] });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["reconcile-backlog"]);
    expect(deps.runMatchingBacklog).toHaveBeenCalledTimes(1);
    expect(deps.runMatchingBacklog.mock.calls[0].slice(0, 3)).toEqual([FAKE_DB, orgId, sourceId]);
    expect(result).toMatchObject({ runId: "run-2", from: "2026-03-02", to: "2026-03-09" });
  });

  test("an empty backlog (another run took it) is not an error", async () => {
    const deps = fakeDeps();
    deps.runMatchingBacklog.mockResolvedValueOnce(null);
    const t = new InngestTestEngine({ function: createMatchingBacklogRun(deps) });
    const { result, error } = await t.execute({ events: [{ name: "tieout/matching.backlog.added", data: { orgId: randomUUID(), sourceId: randomUUID() } }] });
    expect(error).toBeUndefined();
    expect(result).toBeNull();
  });

  test("a failed run is the step's error, so Inngest retries it (the service has put the range back)", async () => {
    const deps = fakeDeps();
    deps.runMatchingBacklog.mockResolvedValueOnce({ orgId: "o", sourceId: "s", runId: "run-3", status: "failed", from: "2026-03-02", to: "2026-03-02", error: "lock timeout" });
    const t = new InngestTestEngine({ function: createMatchingBacklogRun(deps) });
    const { error } = await t.execute({ events: [{ name: "tieout/matching.backlog.added", data: { orgId: randomUUID(), sourceId: randomUUID() } }] });
    expect((error as { message?: string }).message).toBe("reconciliation run run-3 failed: lock timeout");
  });

  test("waits for a source's deliveries to pause (debounce per source, bounded) and runs one per organisation at a time", () => {
    const opts = (createMatchingBacklogRun(fakeDeps()) as unknown as { opts: { debounce: unknown; concurrency: unknown } }).opts;
    expect(opts.debounce).toEqual({ key: "event.data.sourceId", period: "10s", timeout: "2m" });
    expect(opts.concurrency).toEqual({ limit: 1, key: "event.data.orgId" });
  });
});

describe("nightly-matching function", () => {
  test("requests one run per source as events with a per-day id, and changes no settings", async () => {
    const [o1, o2, s1, s2, s3] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const deps = fakeDeps([{ orgId: o1, sourceIds: [s1, s2] }, { orgId: o2, sourceIds: [s3] }]);
    const sendEvent = vi.fn(async (_id: string, events: unknown[]) => ({ ids: events.map((_, i) => `e${i}`) }));
    const t = new InngestTestEngine({
      function: createNightlyMatching(deps),
      // step.sendEvent would reach the network in @inngest/test (inngest-js#1271): stubbed.
      transformCtx: (ctx) => {
        const c = mockCtx(ctx) as typeof ctx;
        (c.step as unknown as { sendEvent: typeof sendEvent }).sendEvent = sendEvent;
        return c;
      },
    });
    const { result, error, ctx } = await t.execute({ events: [{ name: "inngest/scheduled.timer", data: { cron: NIGHTLY_MATCHING_CRON }, ts: Date.UTC(2026, 5, 1, 2, 30) }] });
    expect(error).toBeUndefined();
    // Only the plan: learning waits for an admin's proposal and its approval.
    expect(stepIds(ctx)).toEqual(["plan"]);
    expect(sendEvent).toHaveBeenCalledTimes(1);
    const [id, events] = sendEvent.mock.calls[0];
    expect(id).toBe("request-runs");
    expect(events).toEqual([s1, s2, s3].map((sourceId, i) => ({
      name: "tieout/matching.run.requested", id: `nightly-matching:2026-06-01:${sourceId}`,
      data: { orgId: i < 2 ? o1 : o2, sourceId, against: { kind: "ledger" }, to: "2026-06-01", trigger: "schedule" },
    })));
    expect(deps.runMatchingJob).not.toHaveBeenCalled();
    expect(result).toMatchObject({ today: "2026-06-01", requested: 3 });
  });
});
