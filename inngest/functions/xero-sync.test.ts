import { randomUUID } from "node:crypto";
import { InngestTestEngine } from "@inngest/test";
import { describe, expect, test, vi } from "vitest";
import type { Db } from "@/server/db/client";
import type { StepOutcome } from "@/server/xero/sync-job";
import { createXeroHourlySync, createXeroSync, XERO_HOURLY_CRON, type XeroJobDeps } from "./xero-sync";

/**
 * Engine tests of the Xero functions: one step per page with stable ids, a parked tenant sleeps
 * until its window, onFailure marks the job failed, the hourly cron queues and starts only new jobs.
 * The services are injected; they are tested against PostgreSQL and the simulator in server/xero.
 */
const FAKE_DB = { fake: "db" } as unknown as Db;
const ids = { orgId: randomUUID(), jobId: randomUUID(), connectionId: randomUUID() };
const requested = { name: "tieout/xero.sync.requested", data: ids };

function deps(outcomes: StepOutcome[], extra: Partial<XeroJobDeps> = {}) {
  let i = 0;
  const base = {
    db: vi.fn(() => FAKE_DB),
    runSyncStep: vi.fn<XeroJobDeps["runSyncStep"]>(async () => outcomes[Math.min(i++, outcomes.length - 1)]),
    failSyncJob: vi.fn<XeroJobDeps["failSyncJob"]>(async () => {}),
    queueScheduledSyncs: vi.fn<XeroJobDeps["queueScheduledSyncs"]>(async () => []),
    dispatchXeroSync: vi.fn<XeroJobDeps["dispatchXeroSync"]>(async () => {}),
  };
  return Object.assign(base, extra) as typeof base;
}
const stepIds = (ctx: { step: { run: { mock: { calls: unknown[][] } } } }) => ctx.step.run.mock.calls.map((c) => c[0]);
const page = (resource: "invoices" | "payments", n: number): StepOutcome => ({ done: false, status: "running", resource, page: n });

describe("xero-sync function", () => {
  test("runs one memoised step per page until the job is done, with the job's ids", async () => {
    const d = deps([page("invoices", 1), page("invoices", 2), page("payments", 1), { done: true, status: "succeeded" }]);
    const t = new InngestTestEngine({ function: createXeroSync(d) });
    const { result, error, ctx } = await t.execute({ events: [requested] });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["page-0", "page-1", "page-2", "page-3"]);
    expect(d.runSyncStep).toHaveBeenCalledTimes(4);
    expect(d.runSyncStep.mock.calls[0]).toEqual([FAKE_DB, ids.orgId, ids.jobId]);
    expect(result).toEqual({ jobId: ids.jobId, status: "succeeded", steps: 4 });
    expect(ctx.step.sleepUntil).not.toHaveBeenCalled();
  });

  test("a parked tenant sleeps until its daily window reopens, then continues", async () => {
    const until = "2026-06-02T00:00:00.000Z";
    const d = deps([page("invoices", 1), { done: false, status: "parked", parkedUntil: until }, { done: true, status: "succeeded" }]);
    const t = new InngestTestEngine({ function: createXeroSync(d), steps: [{ id: "parked-1", handler: () => undefined }] });
    const { result, ctx } = await t.execute({ events: [requested] });
    expect(ctx.step.sleepUntil).toHaveBeenCalledWith("parked-1", until);
    expect(stepIds(ctx)).toEqual(["page-0", "page-1", "page-2"]);
    expect(result).toMatchObject({ status: "succeeded" });
  });

  test("a failing page surfaces as the run's error (Inngest retries it, then onFailure marks the job failed)", async () => {
    const d = deps([page("invoices", 1)], {});
    d.runSyncStep.mockImplementationOnce(async () => page("invoices", 1)).mockImplementationOnce(async () => {
      throw new Error("Xero did not answer /Invoices usably after 6 attempts");
    });
    const fn = createXeroSync(d);
    const t = new InngestTestEngine({ function: fn });
    const { error, ctx } = await t.execute({ events: [requested] });
    expect((error as Error).message).toMatch(/after 6 attempts/);
    expect(stepIds(ctx)).toEqual(["page-0", "page-1"]);
    // @inngest/test does not run onFailure; call the handler the function registered, with Inngest's failure event shape.
    const onFailure = (fn as unknown as { onFailureFn: (a: unknown) => Promise<void> }).onFailureFn;
    await onFailure({ event: { name: "inngest/function.failed", data: { event: requested, error: { message: "x" } } }, error: new Error("Xero did not answer"), step: {} });
    expect(d.failSyncJob).toHaveBeenCalledWith(FAKE_DB, ids.orgId, ids.jobId, "Xero did not answer");
  });

  test("the function is keyed one-at-a-time per connection", () => {
    const fn = createXeroSync(deps([]));
    expect((fn as unknown as { opts: { concurrency: unknown } }).opts.concurrency).toEqual({ limit: 1, key: "event.data.connectionId" });
  });
});

describe("xero-hourly-sync cron", () => {
  test("queues an incremental sync per active connection and starts only the new ones", async () => {
    const a = { orgId: randomUUID(), connectionId: randomUUID(), jobId: randomUUID(), existing: false };
    const b = { orgId: randomUUID(), connectionId: randomUUID(), jobId: randomUUID(), existing: true };
    const d = deps([], { queueScheduledSyncs: vi.fn(async () => [a, b]) });
    const t = new InngestTestEngine({ function: createXeroHourlySync(d) });
    const { result, error, ctx } = await t.execute({ events: [{ name: "inngest/scheduled.timer", data: { cron: XERO_HOURLY_CRON } }] });
    expect(error).toBeUndefined();
    expect(stepIds(ctx)).toEqual(["queue-incremental-syncs", "start-syncs"]);
    expect(d.dispatchXeroSync).toHaveBeenCalledTimes(1);
    expect(d.dispatchXeroSync).toHaveBeenCalledWith(a.orgId, a.jobId, a.connectionId);
    expect(result).toEqual({ queued: 1, alreadyOpen: 1 });
  });

  test("with nothing to queue it starts nothing", async () => {
    const d = deps([]);
    const t = new InngestTestEngine({ function: createXeroHourlySync(d) });
    const { result, ctx } = await t.execute({ events: [{ name: "inngest/scheduled.timer", data: { cron: XERO_HOURLY_CRON } }] });
    expect(stepIds(ctx)).toEqual(["queue-incremental-syncs"]);
    expect(result).toEqual({ queued: 0, alreadyOpen: 0 });
  });
});
