/**
 * Time for the informer, injected so tests step it by hand. Unlike core's Clock, timers here can be
 * cancelled: stop() must leave no timer behind, and a sleeping promise cannot be taken back.
 */
export interface WatchClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; the returned function cancels it. */
  setTimer(ms: number, callback: () => void): () => void;
}

export const systemWatchClock: WatchClock = {
  now: () => Date.now(),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return () => {
      clearTimeout(timer);
    };
  },
};
