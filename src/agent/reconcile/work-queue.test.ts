import { describe, expect, it } from "vitest";
import { FakeClock } from "../../core/fake-clock.js";
import { backoffDelay, createWorkQueue, defaultBackoff } from "./work-queue.js";
import { startWorkers, type ReconcileResult } from "./workers.js";

/** Resolves with the key if get() has one by now, or "nothing" if it is still waiting. */
async function nextOrNothing(get: Promise<string | undefined>): Promise<string | undefined> {
  return Promise.race([
    get,
    new Promise<string>((resolve) => {
      setImmediate(() => {
        resolve("nothing");
      });
    }),
  ]);
}

describe("a key waits at most once, however often the informer adds it", () => {
  it("collapses repeated adds of a waiting key into one", async () => {
    const queue = createWorkQueue(new FakeClock());
    queue.add("shop/web");
    queue.add("shop/web");
    queue.add("shop/api");
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe("shop/web");
    expect(await queue.get()).toBe("shop/api");
    expect(await nextOrNothing(queue.get())).toBe("nothing");
  });

  it("never hands a key to a second worker while the first reconciles it, and queues it again after", async () => {
    const queue = createWorkQueue(new FakeClock());
    queue.add("shop/web");
    expect(await queue.get()).toBe("shop/web");
    // The object changes while it is being reconciled.
    queue.add("shop/web");
    const second = queue.get();
    expect(await nextOrNothing(second)).toBe("nothing");
    queue.done("shop/web");
    // The newest state is reconciled once more.
    expect(await second).toBe("shop/web");
  });

  it("lets a key go once it is done and was not added meanwhile", async () => {
    const queue = createWorkQueue(new FakeClock());
    queue.add("shop/web");
    expect(await queue.get()).toBe("shop/web");
    queue.done("shop/web");
    expect(queue.length).toBe(0);
  });
});

describe("delays: deadlines and backoff come back through the same queue", () => {
  it("adds a key after its delay, the earliest of several delays winning", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    queue.addAfter("shop/drift", 30_000);
    queue.addAfter("shop/drift", 10_000);
    queue.addAfter("shop/drift", 20_000);
    await clock.advance(9_999);
    expect(queue.length).toBe(0);
    await clock.advance(1);
    expect(queue.length).toBe(1);
    await clock.advance(30_000);
    // The later delays were dropped, not queued again.
    expect(await queue.get()).toBe("shop/drift");
    expect(queue.length).toBe(0);
  });

  it("doubles a failing key's backoff from 5 ms, and starts over once it succeeds", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    const delays = [0, 1, 2, 3].map((failures) => backoffDelay(defaultBackoff, failures));
    expect(delays).toEqual([5, 10, 20, 40]);
    for (const delay of [5, 10]) {
      queue.addRateLimited("shop/web");
      await clock.advance(delay - 1);
      expect(queue.length).toBe(0);
      await clock.advance(1);
      expect(queue.length).toBe(1);
      queue.done((await queue.get()) ?? "");
    }
    expect(queue.failures("shop/web")).toBe(2);
    queue.forget("shop/web");
    expect(queue.failures("shop/web")).toBe(0);
  });

  it("caps the backoff at 1000 s however many failures, and never overflows", () => {
    expect(backoffDelay(defaultBackoff, 17)).toBe(655_360);
    expect(backoffDelay(defaultBackoff, 18)).toBe(1_000_000);
    expect(backoffDelay(defaultBackoff, 5_000)).toBe(1_000_000);
  });

  it("cancels every delayed add and wakes every waiting worker on shut down", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    queue.addAfter("shop/drift", 1_000);
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    expect(clock.pending).toBe(0);
    queue.add("shop/web");
    expect(await queue.get()).toBeUndefined();
  });
});

describe("workers: an error is retried after backoff, never the end of the controller", () => {
  it("retries a failing reconcile after 5, 10 and 20 ms, then forgets the failures once it succeeds", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    const attempts: number[] = [];
    const errors: object[] = [];
    const workers = startWorkers(
      queue,
      (): Promise<undefined> => {
        attempts.push(clock.now());
        if (attempts.length <= 3) return Promise.reject(new Error("apiserver is restarting"));
        return Promise.resolve(undefined);
      },
      { error: (context) => errors.push(context) },
    );
    queue.add("shop/web");
    await clock.advance(100);
    expect(attempts).toEqual([0, 5, 15, 35]);
    expect(errors).toHaveLength(3);
    expect(queue.failures("shop/web")).toBe(0);
    queue.shutDown();
    await workers.finished;
  });

  it("looks again after the delay a reconcile asks for (a fault's deadline)", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    const seen: number[] = [];
    const workers = startWorkers(
      queue,
      (): Promise<ReconcileResult> => {
        seen.push(clock.now());
        return Promise.resolve(seen.length === 1 ? { requeueAfterMs: 60_000 } : {});
      },
      { error: () => undefined },
    );
    queue.add("shop/drift");
    await clock.advance(120_000);
    expect(seen).toEqual([0, 60_000]);
    queue.shutDown();
    await workers.finished;
  });

  it("runs different keys side by side but one key never twice at once", async () => {
    const clock = new FakeClock();
    const queue = createWorkQueue(clock);
    const running = new Set<string>();
    let overlapped = false;
    let peak = 0;
    const workers = startWorkers(
      queue,
      async (key) => {
        if (running.has(key)) overlapped = true;
        running.add(key);
        peak = Math.max(peak, running.size);
        await clock.sleep(10);
        running.delete(key);
        return undefined;
      },
      { error: () => undefined },
      2,
    );
    queue.add("shop/web");
    queue.add("shop/api");
    await clock.advance(1);
    queue.add("shop/web");
    await clock.advance(50);
    expect(overlapped).toBe(false);
    expect(peak).toBe(2);
    queue.shutDown();
    await workers.finished;
  });
});
