import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createDispatcher, jobsModeFromEnv } from "./dispatch";
import { nextNightlyRun } from "./inline-scheduler";

describe("jobs seam", () => {
  it("chooses Inngest only when it is configured", () => {
    expect(jobsModeFromEnv({})).toBe("inline");
    expect(jobsModeFromEnv({ INNGEST_EVENT_KEY: "k" })).toBe("inngest");
    expect(jobsModeFromEnv({ INNGEST_DEV: "1" })).toBe("inngest");
  });

  it("in inngest mode sends the validated event and returns the event ids; a bad event is never sent", async () => {
    const send = vi.fn(async () => ({ ids: ["evt-1"] }));
    const jobs = createDispatcher({ mode: "inngest", send, log: { info: () => {}, error: () => {} } });
    const orgId = randomUUID();
    expect(await jobs.dispatch({ name: "tieout/checks.trial-balance.requested", data: { orgId, asOf: "2026-03-31" } })).toEqual({
      mode: "inngest", event: "tieout/checks.trial-balance.requested", eventIds: ["evt-1"],
    });
    expect(send).toHaveBeenCalledWith({ name: "tieout/checks.trial-balance.requested", data: { orgId, asOf: "2026-03-31" } });
    await expect(jobs.dispatch({ name: "tieout/checks.trial-balance.requested", data: { orgId, asOf: "31/03/2026" } })).rejects.toMatchObject({ code: "validation" });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("schedules the nightly run at the next 02:00 UTC, strictly after the given instant", () => {
    expect(nextNightlyRun(new Date("2026-06-01T01:59:59Z")).toISOString()).toBe("2026-06-01T02:00:00.000Z");
    expect(nextNightlyRun(new Date("2026-06-01T02:00:00Z")).toISOString()).toBe("2026-06-02T02:00:00.000Z");
    expect(nextNightlyRun(new Date("2026-12-31T23:00:00Z")).toISOString()).toBe("2027-01-01T02:00:00.000Z");
  });
});
