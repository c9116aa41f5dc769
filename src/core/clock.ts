/**
 * Time, injected: domain code asks a Clock instead of calling Date.now() or setTimeout, so tests can step
 * time by hand and never sleep for real. The entry point wires a real clock; tests use a fake one.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves once `ms` milliseconds have passed on this clock. */
  sleep(ms: number): Promise<void>;
}

/** The real clock, for entry points to pass down. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
};
