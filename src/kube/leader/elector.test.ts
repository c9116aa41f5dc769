import { beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../core/clock.js";
import { FakeClock } from "../../core/fake-clock.js";
import { LeaderElector, type ElectionEnd, type ElectorOptions, type LeaderLog } from "./elector.js";
import { MemoryLease } from "./memory-lease-store.js";
import { defaultLeaderTimings } from "./timings.js";

/*
 * Two agents, "a" and "b", share one Lease (in memory) and step one fake clock, with client-go's default
 * timings: lease 15 s, renew deadline 10 s, retry 2 s. No jitter (random() = 0), so a candidate tries
 * exactly every 2 s and the times below are exact.
 */

const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = defaultLeaderTimings;

/** Warnings and errors kept, to check what the elector says; debug and info dropped. */
function recordingLog(lines: string[]): LeaderLog {
  const keep = (level: string) => (_context: object, message: string) => lines.push(`${level}: ${message}`);
  return { debug: () => undefined, info: () => undefined, warn: keep("warn"), error: keep("error") };
}

interface Candidate {
  readonly name: string;
  readonly elector: LeaderElector;
  readonly store: ReturnType<MemoryLease["client"]>;
  readonly stop: AbortController;
  /** What run() resolved to, once it has. */
  end: ElectionEnd | undefined;
  /** The signal onStartedLeading was given last. */
  leading: AbortSignal | undefined;
  readonly logs: string[];
}

let clock: FakeClock;
let lease: MemoryLease;
/** "12000 b started": every callback of every candidate, with the shared clock's time. */
let timeline: string[];

beforeEach(() => {
  clock = new FakeClock(1_000_000);
  lease = new MemoryLease();
  timeline = [];
});

function candidate(name: string, options: Partial<ElectorOptions> = {}, own: Clock = clock): Candidate {
  const store = lease.client(name);
  const logs: string[] = [];
  const at = (event: string) => timeline.push(`${clock.now() - 1_000_000} ${name} ${event}`);
  const self: Candidate = {
    name,
    store,
    stop: new AbortController(),
    end: undefined,
    leading: undefined,
    logs,
    elector: new LeaderElector({
      store,
      identity: name,
      clock: own,
      timings: defaultLeaderTimings,
      random: () => 0,
      log: recordingLog(logs),
      callbacks: {
        onStartedLeading: (signal) => {
          self.leading = signal;
          at("started");
        },
        onStoppedLeading: () => at("stopped"),
        onNewLeader: (identity) => at(`sees ${identity}`),
      },
      ...options,
    }),
  };
  void self.elector.run(self.stop.signal).then((end) => (self.end = end));
  return self;
}

/** Time passes in steps of 100 ms, so "not before" checks can look in between. */
async function advance(ms: number): Promise<void> {
  await clock.advance(ms);
}

describe("the first candidate", () => {
  it("creates the Lease and leads at once", async () => {
    const a = candidate("a");
    await advance(0);

    expect(a.elector.isLeader).toBe(true);
    expect(lease.lease?.record).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: 1_000_000,
      renewTime: 1_000_000,
      leaseTransitions: 0,
    });
    expect(timeline).toEqual(["0 a sees a", "0 a started"]);
  });

  it("renews every retry period with one conditional write, keeping its acquire time", async () => {
    const a = candidate("a");
    await advance(0);
    const first = lease.lease;
    a.store.requests.length = 0;

    await advance(retryPeriodMs);

    expect(lease.lease?.record).toMatchObject({ holderIdentity: "a", acquireTime: 1_000_000 });
    expect(lease.lease?.record.renewTime).toBe(1_000_000 + retryPeriodMs);
    expect(lease.lease?.version).not.toBe(first?.version);
    expect(a.store.requests).toEqual(["update"]);
    await advance(5 * retryPeriodMs);
    expect(a.store.requests).toHaveLength(6);
    expect(lease.writes.filter((write) => write !== "update by a")).toEqual(["create by a"]);
  });
});

describe("a second candidate", () => {
  it("waits while the leader renews, however long, and knows who leads", async () => {
    const a = candidate("a");
    await advance(0);
    const b = candidate("b");

    await advance(10 * leaseDurationMs);

    expect(b.elector.isLeader).toBe(false);
    expect(b.elector.leader).toBe("a");
    expect(lease.lease?.record.holderIdentity).toBe("a");
    expect(lease.writes.some((write) => write.endsWith("by b"))).toBe(false);
    expect(timeline).toEqual(["0 a sees a", "0 a started", "0 b sees a"]);
    expect(a.elector.isLeader).toBe(true);
  });

  it("takes over a frozen leader only when the record has not changed for the lease by its own clock", async () => {
    const a = candidate("a");
    await advance(0);
    const b = candidate("b");
    await advance(3 * retryPeriodMs);
    // a's last renewal landed at 6000 ms; b saw it on its try at 6000 ms. From now on a's requests hang.
    a.store.hang = true;

    // b may take over from 6 + 15 = 21 s; its next try after that is at 22 s.
    await advance(leaseDurationMs + 900);
    expect(b.elector.isLeader).toBe(false);
    await advance(100);

    expect(b.elector.isLeader).toBe(true);
    // a gave up at its renew deadline (10 s after its last renewal), before b could start.
    expect(timeline.slice(3)).toEqual(["16000 a stopped", "22000 b sees b", "22000 b started"]);
    expect(a.end).toBe("lost");
    expect(a.leading?.aborted).toBe(true);
    expect(lease.lease?.record).toMatchObject({
      holderIdentity: "b",
      leaseTransitions: 1,
      acquireTime: 1_022_000,
    });
  });
});

describe("a candidate started after the leader died", () => {
  it("waits a full lease from its first look, whatever the record's renewTime says", async () => {
    // A leader renewed at 0 and died; nobody watched. b starts 60 s later.
    lease.create(
      {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: 0,
        renewTime: 1_000_000,
        leaseTransitions: 0,
      },
      "a",
    );
    await advance(60_000);
    const b = candidate("b");

    // It may take over from 60 + 15 = 75 s; its tries fall on even seconds, so at 76 s.
    await advance(leaseDurationMs + 900);
    expect(b.elector.isLeader).toBe(false);
    await advance(100);

    expect(b.elector.isLeader).toBe(true);
    expect(timeline).toEqual(["60000 b sees a", "76000 b sees b", "76000 b started"]);
  });

  it("takes a released Lease (no holder) at once", async () => {
    lease.create(
      {
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: undefined,
        renewTime: 0,
        leaseTransitions: 4,
      },
      "a",
    );
    const b = candidate("b");
    await advance(0);

    expect(b.elector.isLeader).toBe(true);
    expect(lease.lease?.record.leaseTransitions).toBe(5);
  });
});

describe("callbacks that throw", () => {
  it("are logged, and the election goes on", async () => {
    const a = candidate("a", {
      callbacks: {
        onStartedLeading: () => undefined,
        onNewLeader: () => {
          throw new Error("metrics not ready");
        },
      },
    });
    await advance(3 * retryPeriodMs);

    expect(a.elector.isLeader).toBe(true);
    expect(a.logs).toEqual(["error: a callback failed"]);
  });
});

describe("clock skew", () => {
  /** A clock set `offsetMs` away from the shared one, ticking at the same rate. */
  const skewed = (offsetMs: number): Clock => ({
    now: () => clock.now() + offsetMs,
    sleep: (ms, signal) => clock.sleep(ms, signal),
  });
  const hour = 3_600_000;

  it("a candidate an hour ahead does not take a lease whose renewTime looks an hour old", async () => {
    candidate("a");
    await advance(0);
    const b = candidate("b", {}, skewed(hour));

    await advance(3 * leaseDurationMs);

    expect(b.elector.isLeader).toBe(false);
    expect(lease.lease?.record.holderIdentity).toBe("a");
  });

  it("a candidate an hour behind takes over a frozen leader after the lease, not after an hour", async () => {
    const a = candidate("a");
    await advance(0);
    const b = candidate("b", {}, skewed(-hour));
    await advance(retryPeriodMs);
    a.store.hang = true;

    await advance(leaseDurationMs + retryPeriodMs);

    // b saw a's last renewal at 2 s and takes over at its first try 15 s later, writing its own clock's time.
    expect(b.elector.isLeader).toBe(true);
    expect(timeline).toContain("18000 b started");
    expect(lease.lease?.record.acquireTime).toBe(1_000_000 + 18_000 - hour);
  });
});

describe("conflicts", () => {
  it("two candidates creating the Lease at the same moment: one leads, the other is refused", async () => {
    const a = candidate("a");
    const b = candidate("b");
    await advance(0);

    expect([a.elector.isLeader, b.elector.isLeader].sort()).toEqual([false, true]);
    expect(lease.writes).toHaveLength(1);
    expect(a.store.requests.concat(b.store.requests).filter((request) => request === "create")).toHaveLength(
      2,
    );
    expect(timeline.filter((line) => line.endsWith("started"))).toHaveLength(1);
  });

  it("a leader whose Lease was taken from under it steps down at its next renewal", async () => {
    const a = candidate("a");
    await advance(0);
    // Someone (kubectl edit, another elector with a stale view) writes another holder.
    const current = lease.lease;
    if (current === undefined) throw new Error("no lease");
    lease.update({ ...current.record, holderIdentity: "x" }, current.version, "kubectl");

    await advance(retryPeriodMs);

    expect(a.end).toBe("lost");
    expect(a.leading?.aborted).toBe(true);
    expect(timeline).toContain(`${retryPeriodMs} a stopped`);
    expect(a.logs).toContain("warn: the leader lease was taken over");
    expect(lease.lease?.record.holderIdentity).toBe("x");
  });
});

describe("renewal failures", () => {
  it("shorter than the renew deadline: the leader stays", async () => {
    const a = candidate("a");
    await advance(0);
    a.store.failure = new Error("connect ECONNREFUSED 127.0.0.1:6443");
    // The renewals at 2, 4 and 6 s fail; the one at 8 s, 2 s before the deadline, goes through.
    await advance(renewDeadlineMs - 2 * retryPeriodMs);
    a.store.failure = undefined;

    await advance(retryPeriodMs);

    expect(a.elector.isLeader).toBe(true);
    expect(a.leading?.aborted).toBe(false);
    expect(a.logs).toContain("warn: could not write the leader lease");
    // The renewal sent at 8 s counts from then: the leader may act until 8 + 10 s.
    expect(a.elector.mayLeadUntil).toBe(1_000_000 + 8000 + renewDeadlineMs);
  });

  it("up to the renew deadline: the leader steps down, its work's signal aborted, and campaigns no more", async () => {
    const a = candidate("a");
    await advance(0);
    a.store.failure = new Error("connect ECONNREFUSED 127.0.0.1:6443");

    await advance(renewDeadlineMs - 100);
    expect(a.elector.isLeader).toBe(true);
    await advance(100);

    expect(a.elector.isLeader).toBe(false);
    expect(a.elector.mayLeadUntil).toBe(1_000_000 + renewDeadlineMs);
    expect(a.leading?.aborted).toBe(true);
    expect(a.end).toBe("lost");
    expect(timeline).toEqual(["0 a sees a", "0 a started", `${renewDeadlineMs} a stopped`]);
    expect(a.logs).toContain("warn: could not renew the leader lease before the renew deadline");
  });

  it("a renewal that never comes back is given up at the deadline", async () => {
    const a = candidate("a");
    await advance(0);
    a.store.hang = true;

    await advance(renewDeadlineMs - 1);
    expect(a.end).toBeUndefined();
    await advance(1);

    expect(a.end).toBe("lost");
    expect(a.store.requests.filter((request) => request === "update")).toHaveLength(1);
    expect(timeline.at(-1)).toBe(`${renewDeadlineMs} a stopped`);
  });
});

describe("stopping", () => {
  it("without release, the next leader waits out the lease", async () => {
    const a = candidate("a");
    await advance(0);
    const b = candidate("b");
    a.stop.abort();
    await advance(0);

    expect(a.end).toBe("stopped");
    expect(lease.lease?.record.holderIdentity).toBe("a");
    await advance(leaseDurationMs - retryPeriodMs);
    expect(b.elector.isLeader).toBe(false);
    await advance(2 * retryPeriodMs);
    expect(b.elector.isLeader).toBe(true);
  });

  it("with release on cancel, the holder is cleared and the next candidate takes over at its next try", async () => {
    const a = candidate("a", { releaseOnCancel: true });
    await advance(0);
    const b = candidate("b");
    await advance(1000);
    a.stop.abort();
    await advance(0);

    expect(lease.lease?.record).toMatchObject({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
    expect(a.leading?.aborted).toBe(true);
    await advance(retryPeriodMs);
    expect(b.elector.isLeader).toBe(true);
    expect(timeline.slice(3)).toEqual(["1000 a stopped", "2000 b sees b", "2000 b started"]);
    expect(lease.lease?.record.leaseTransitions).toBe(1);
  });

  it("releases only once the leading work has wound down", async () => {
    const a = candidate("a", {
      releaseOnCancel: true,
      callbacks: {
        // The work takes 3 s to finish what it was doing once told to stop.
        onStartedLeading: (signal) =>
          new Promise<void>((resolve) => {
            signal.addEventListener("abort", () => {
              void clock.sleep(3000).then(resolve);
            });
          }),
      },
    });
    await advance(0);
    a.stop.abort();

    await advance(2900);
    expect(lease.lease?.record.holderIdentity).toBe("a");
    await advance(100);
    expect(lease.lease?.record.holderIdentity).toBe("");
    expect(a.end).toBe("stopped");
  });

  it("work that outlives the renew deadline keeps the lease: it expires as a killed leader's would", async () => {
    const a = candidate("a", {
      releaseOnCancel: true,
      callbacks: { onStartedLeading: () => new Promise<void>(() => undefined) },
    });
    await advance(0);
    a.stop.abort();

    await advance(renewDeadlineMs);

    expect(a.end).toBe("stopped");
    expect(lease.lease?.record.holderIdentity).toBe("a");
    expect(a.logs).toContain(
      "warn: the leading work outlived the renew deadline; the lease is left to expire",
    );
  });

  it("a leader whose work fails gives the lease up for another", async () => {
    const a = candidate("a", {
      releaseOnCancel: true,
      callbacks: { onStartedLeading: () => Promise.reject(new Error("informer died")) },
    });
    await advance(retryPeriodMs);

    expect(a.end).toBe("failed");
    expect(lease.lease?.record.holderIdentity).toBe("");
    expect(a.logs).toContain("error: the leading work failed");
  });
});

describe("leaseTransitions", () => {
  it("counts every change of hands: a, then b, then a again", async () => {
    const a = candidate("a", { releaseOnCancel: true });
    await advance(0);
    const b = candidate("b", { releaseOnCancel: true });
    a.stop.abort();
    await advance(retryPeriodMs);
    expect(b.elector.isLeader).toBe(true);

    const again = candidate("a");
    b.stop.abort();
    await advance(retryPeriodMs);

    expect(again.elector.isLeader).toBe(true);
    expect(lease.lease?.record.leaseTransitions).toBe(2);
  });
});
