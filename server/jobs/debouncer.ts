/**
 * Inline mode's counterpart of Inngest's `debounce`: work asked for under one key runs once the
 * requests have paused for `quietMs`, and at the latest `maxWaitMs` after the first of them, so a
 * steady stream of deliveries cannot postpone it for ever. The latest request's work is the one
 * that runs (as Inngest runs with the last event). One run per key at a time: a request that
 * arrives while its key runs is served by another run afterwards, never dropped. Timers are
 * unref'd, so waiting work never keeps a process alive on its own.
 */
export type Debouncer = {
  request: (key: string, work: () => Promise<void>) => void;
  /** Resolves once nothing is waiting or running. */
  settled: () => Promise<void>;
};

type Slot = { firstAt: number; work: () => Promise<void>; timer?: NodeJS.Timeout; running: boolean; again: boolean };

export function createDebouncer(opts: { quietMs: number; maxWaitMs: number }): Debouncer {
  const now = Date.now;
  const slots = new Map<string, Slot>();
  let waiters: (() => void)[] = [];

  const arm = (key: string, slot: Slot) => {
    if (slot.timer) clearTimeout(slot.timer);
    const delay = Math.max(0, Math.min(opts.quietMs, slot.firstAt + opts.maxWaitMs - now()));
    slot.timer = setTimeout(() => void fire(key, slot), delay);
    slot.timer.unref();
  };

  const fire = async (key: string, slot: Slot) => {
    slot.timer = undefined;
    slot.running = true;
    try {
      await slot.work();
    } catch {
      // The work logs its own failures; a throw must not stop the slot from being served again.
    } finally {
      slot.running = false;
      if (slot.again) {
        slot.again = false;
        slot.firstAt = now();
        arm(key, slot);
      } else {
        slots.delete(key);
        if (slots.size === 0) {
          const done = waiters;
          waiters = [];
          for (const w of done) w();
        }
      }
    }
  };

  return {
    request(key, work) {
      const slot = slots.get(key);
      if (!slot) {
        const fresh: Slot = { firstAt: now(), work, running: false, again: false };
        slots.set(key, fresh);
        arm(key, fresh);
        return;
      }
      slot.work = work;
      if (slot.running) slot.again = true;
      else arm(key, slot);
    },
    settled: () => (slots.size === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}
