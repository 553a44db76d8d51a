/**
 * Simulated time. Rate-limit windows, token lifetimes and Retry-After are all measured on this
 * clock, so a test can run "60 calls a minute" with a minute that lasts 600 ms of wall time
 * (timeScale 100) and expire a 30-minute access token by advancing the clock. The client under
 * test takes the same time scale (server/xero/rate-budget.ts) and nothing else from here.
 */
export type SimClock = {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Jumps simulated time forward (token expiry, idle refresh tokens, the next day's quota). */
  advance(ms: number): void;
  /** How many simulated milliseconds pass per wall-clock millisecond. */
  readonly timeScale: number;
};

export function simClock(opts: { timeScale?: number; start?: number } = {}): SimClock {
  const timeScale = opts.timeScale ?? 1;
  const baseReal = performance.now();
  const baseSim = opts.start ?? Date.now();
  let offset = 0;
  return {
    timeScale,
    now: () => Math.floor(baseSim + (performance.now() - baseReal) * timeScale + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** A UUID v4 drawn from the seeded generator (stable ids across runs with the same seed). */
export function seededUuid(rnd: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${"89ab"[Math.floor(rnd() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
