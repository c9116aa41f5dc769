/**
 * Time, injected: the one clock abstraction of Broadside. Domain code asks a Clock instead of calling
 * Date.now() or setTimeout, so tests step time by hand (core/fake-clock.ts) and never sleep for real. The
 * entry point wires systemClock; lint allows Date.now() nowhere else.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves once `ms` milliseconds have passed on this clock, or at once when `signal` aborts (so a
   * sleep cut short by something else leaves no timer holding the process open). Never rejects.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer one fires after 1 ms, with a warning. */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * A wait of `ms` as timer lengths Node can hold: whole maxTimerMs slices, then the rest, drawn one at a
 * time (an infinite wait is slices until its signal aborts). Every duration Broadside accepts is far
 * shorter, but a sleep must be right for any number it is given.
 */
export function* timerSlices(ms: number, max = maxTimerMs): Generator<number, void, undefined> {
  let remaining = ms > 0 ? ms : 0;
  while (remaining > max) {
    yield max;
    remaining -= max;
  }
  yield remaining;
}

/** The real clock, for entry points to pass down. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    for (const slice of timerSlices(ms)) {
      if (signal?.aborted === true) return;
      await sleepOnce(slice, signal);
    }
  },
};

function sleepOnce(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    // The listener goes with the sleep: a long-lived signal must not collect one per sleep.
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Calls `callback` once, `ms` milliseconds from now on `clock`, unless the returned function is called
 * first. Built on sleep's signal, so every Clock has cancellable timers: an informer's stop() leaves none
 * behind, on the real clock as on a fake one.
 */
export function setTimer(clock: Clock, ms: number, callback: () => void): () => void {
  const cancelled = new AbortController();
  void clock.sleep(ms, cancelled.signal).then(() => {
    if (!cancelled.signal.aborted) callback();
  });
  return () => {
    cancelled.abort();
  };
}
