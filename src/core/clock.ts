/**
 * Time, injected: domain code asks a Clock instead of calling Date.now() or setTimeout, so tests can step
 * time by hand and never sleep for real. The entry point wires a real clock; tests use a fake one.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves once `ms` milliseconds have passed on this clock, or at once when `signal` aborts (so a
   * sleep cut short by something else leaves no timer holding the process open).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock, for entry points to pass down. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
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
    }),
};
