import { XeroError } from "./xero-errors";

/**
 * The client's own share of Xero's limits, per tenant: at most 5 calls in flight, 60 in any
 * minute (a sliding window, which keeps any fixed window Xero uses under 60 as well, plus a small
 * guard for latency), the daily cap of the tier (configurable), and the app-wide 10,000 a minute.
 * A 429's Retry-After pauses every call for that tenant; a spent day parks the tenant (XeroError
 * "parked" with the instant it may resume). Time is wall-clock ms compressed by `timeScale`, so a
 * test can run "60 a minute" with a 600 ms minute (timeScale 100).
 *
 * The state lives in this process. The sync runs one job per connection at a time (Inngest
 * concurrency key, or the inline runner's lock), so one process talks to a tenant at a time; the
 * daily count is persisted on the connection so a restart does not forget it.
 */
export type BudgetOptions = {
  perMinute: number;
  concurrent: number;
  perDay: number;
  appPerMinute: number;
  timeScale?: number;
  /** Wall-clock ms added to the minute window against latency and clock skew. Not scaled: latency does not shrink when a test compresses Xero's minute. */
  guardMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

type TenantState = { calls: number[]; inFlight: number; peakInFlight: number; pausedUntil: number; dayStart: number; dayCount: number; waits: number };

export class RateBudget {
  private tenants = new Map<string, TenantState>();
  private appCalls: number[] = [];
  private wakers = new Set<() => void>();
  readonly minuteMs: number;
  readonly dayMs: number;
  private now: () => number;
  private sleep: (ms: number) => Promise<void>;

  constructor(readonly opts: BudgetOptions) {
    const scale = opts.timeScale ?? 1;
    this.minuteMs = 60_000 / scale + (opts.guardMs ?? 1000);
    this.dayMs = 86_400_000 / scale;
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Seconds of Xero time → wall-clock ms here. */
  scaled(ms: number): number {
    return ms / (this.opts.timeScale ?? 1);
  }

  private state(tenantId: string): TenantState {
    let s = this.tenants.get(tenantId);
    if (!s) {
      s = { calls: [], inFlight: 0, peakInFlight: 0, pausedUntil: 0, dayStart: this.now(), dayCount: 0, waits: 0 };
      this.tenants.set(tenantId, s);
    }
    return s;
  }

  /** Restores the persisted daily count (connection row) when a job starts in a fresh process. */
  restoreDay(tenantId: string, dayStart: number, dayCount: number): void {
    const s = this.state(tenantId);
    if (dayStart > s.dayStart || dayCount > s.dayCount) {
      s.dayStart = dayStart;
      s.dayCount = Math.max(dayCount, s.dayCount);
    }
  }

  dayUsage(tenantId: string): { dayStart: number; dayCount: number } {
    const s = this.state(tenantId);
    return { dayStart: s.dayStart, dayCount: s.dayCount };
  }

  /** Waits for a slot; returns the function that gives it back. */
  async acquire(tenantId: string): Promise<() => void> {
    const s = this.state(tenantId);
    for (;;) {
      const now = this.now();
      if (now - s.dayStart >= this.dayMs) {
        s.dayStart = now;
        s.dayCount = 0;
      }
      if (s.dayCount >= this.opts.perDay) {
        throw new XeroError("parked", `The daily Xero budget for this organisation (${this.opts.perDay} calls) is spent.`, new Date(Date.now() + (s.dayStart + this.dayMs - now)));
      }
      while (s.calls.length && s.calls[0] <= now - this.minuteMs) s.calls.shift();
      while (this.appCalls.length && this.appCalls[0] <= now - this.minuteMs) this.appCalls.shift();
      let wait = 0;
      if (s.pausedUntil > now) wait = s.pausedUntil - now;
      else if (s.calls.length >= this.opts.perMinute) wait = s.calls[0] + this.minuteMs - now;
      else if (this.appCalls.length >= this.opts.appPerMinute) wait = this.appCalls[0] + this.minuteMs - now;
      if (wait > 0) {
        s.waits++;
        await this.sleep(Math.ceil(wait));
        continue;
      }
      if (s.inFlight >= this.opts.concurrent) {
        await new Promise<void>((resolve) => this.wakers.add(resolve));
        continue;
      }
      s.calls.push(now);
      this.appCalls.push(now);
      s.dayCount++;
      s.inFlight++;
      s.peakInFlight = Math.max(s.peakInFlight, s.inFlight);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        s.inFlight--;
        const w = [...this.wakers];
        this.wakers.clear();
        for (const wake of w) wake();
      };
    }
  }

  /** Honours a Retry-After (seconds of Xero time): no call for this tenant before it has passed. */
  pause(tenantId: string, retryAfterS: number): void {
    const s = this.state(tenantId);
    s.pausedUntil = Math.max(s.pausedUntil, this.now() + this.scaled(retryAfterS * 1000));
  }

  stats(tenantId: string) {
    const s = this.state(tenantId);
    return { peakInFlight: s.peakInFlight, dayCount: s.dayCount, waits: s.waits };
  }
}
