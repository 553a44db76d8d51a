import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { XeroError } from "./xero-errors";

/**
 * The client's share of Xero's limits: per Xero organisation at most 5 calls in flight, 60 in any
 * minute (a sliding window plus a small guard for latency), the tier's daily cap (configurable),
 * and 10,000 a minute for the app as a whole. A 429's Retry-After pauses every call to that
 * organisation; a spent day parks it (XeroError "parked" with the instant it may resume).
 *
 * The budget lives in PostgreSQL (xero_take_call, migration 0018), because the limits are the
 * app's and the organisation's, not a process's: the Next server, npm start's runner and every
 * Inngest worker draw from one allowance, and so do two Tieout organisations connected to the same
 * Xero organisation. Each call costs two short round trips (take, give back) against a Xero call
 * that takes a hundred milliseconds or more. In-process, callers for one organisation queue for
 * its concurrent slots before asking the database, so a burst of 300 calls does not poll it.
 *
 * Time is the database's clock; `timeScale` compresses Xero's minute and day so a test can run
 * "60 a minute" with a 600 ms minute (timeScale 100).
 */
export type BudgetOptions = {
  /** The app's client id: Xero counts per app, so the budget does too. */
  clientId: string;
  perMinute: number;
  concurrent: number;
  perDay: number;
  appPerMinute: number;
  timeScale?: number;
  /** Wall-clock ms added to the minute window against latency and clock skew. Not scaled: latency does not shrink when a test compresses Xero's minute. */
  guardMs?: number;
  /** How long an unreturned slot stays taken (a process died mid-call): the client's request timeout and then some. */
  leaseMs?: number;
};

type Take = { outcome: "granted" | "wait" | "busy" | "parked"; lease_id: string | null; wait_ms: number | null; until_at: string | null; day_began: string; day_count: number };

/** How often a caller re-asks when the organisation's concurrent slots are taken by another process. */
const BUSY_POLL_MS = 25;

export class RateBudget {
  readonly minuteMs: number;
  readonly dayMs: number;
  private local = new Map<string, { inFlight: number; waiting: (() => void)[] }>();
  private days = new Map<string, { dayStart: number; dayCount: number }>();

  constructor(
    private db: Db,
    readonly opts: BudgetOptions,
  ) {
    const scale = opts.timeScale ?? 1;
    this.minuteMs = Math.round(60_000 / scale + (opts.guardMs ?? 1000));
    this.dayMs = Math.round(86_400_000 / scale);
  }

  /** Seconds of Xero time → wall-clock ms here. */
  scaled(ms: number): number {
    return ms / (this.opts.timeScale ?? 1);
  }

  /** The organisation's day as this process last saw it (the sync shows it on the connection), if it has called today. */
  dayUsage(tenantId: string): { dayStart: number; dayCount: number } | undefined {
    return this.days.get(tenantId);
  }

  /** Waits for a slot; returns the function that gives it back. */
  async acquire(tenantId: string): Promise<() => Promise<void>> {
    const releaseLocal = await this.localSlot(tenantId);
    try {
      for (;;) {
        const [take] = await this.db.execute<Take>(sql`
          select * from xero_take_call(${this.opts.clientId}, ${tenantId}, ${this.minuteMs}, ${this.opts.perMinute}, ${this.opts.appPerMinute},
            ${this.opts.concurrent}, ${this.dayMs}, ${this.opts.perDay}, ${this.opts.leaseMs ?? 90_000})`);
        this.days.set(tenantId, { dayStart: new Date(take.day_began).getTime(), dayCount: take.day_count });
        if (take.outcome === "parked") {
          throw new XeroError("parked", `The daily Xero budget for this organisation (${this.opts.perDay} calls) is spent.`, new Date(take.until_at!));
        }
        if (take.outcome === "granted") {
          const lease = take.lease_id!;
          let released = false;
          return async () => {
            if (released) return;
            released = true;
            try {
              await this.db.execute(sql`select xero_release_call(${lease}::uuid)`);
            } finally {
              releaseLocal();
            }
          };
        }
        await sleep(take.outcome === "busy" ? BUSY_POLL_MS : take.wait_ms!);
      }
    } catch (e) {
      releaseLocal();
      throw e;
    }
  }

  /** Honours a Retry-After (seconds of Xero time): no call to this organisation, from any process, before it has passed. */
  async pause(tenantId: string, retryAfterS: number): Promise<void> {
    await this.db.execute(sql`select xero_pause_tenant(${this.opts.clientId}, ${tenantId}, ${Math.ceil(this.scaled(retryAfterS * 1000))})`);
  }

  /** One of the organisation's concurrent slots within this process; waiters wake when a call here ends. */
  private async localSlot(tenantId: string): Promise<() => void> {
    let s = this.local.get(tenantId);
    if (!s) this.local.set(tenantId, (s = { inFlight: 0, waiting: [] }));
    while (s.inFlight >= this.opts.concurrent) await new Promise<void>((resolve) => s.waiting.push(resolve));
    s.inFlight++;
    return () => {
      s.inFlight--;
      s.waiting.shift()?.();
    };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The budget for a configuration: its client id, Xero's limits and the time scale. */
export function rateBudgetFor(db: Db, config: { clientId: string; limits: Omit<BudgetOptions, "clientId">; timeScale: number }, overrides: Partial<BudgetOptions> = {}): RateBudget {
  return new RateBudget(db, { clientId: config.clientId, ...config.limits, timeScale: config.timeScale, ...overrides });
}
