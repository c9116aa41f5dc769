import { afterEach, describe, expect, it } from "vitest";
import type { BroadsideError } from "../../core/errors.js";
import { FakeClock } from "../../core/fake-clock.js";
import { Informer } from "./informer.js";
import type { InformerEvent, InformerOptions, InformerRetry } from "./informer.js";
import { KubeStatusError } from "./source.js";
import type { ListPage, ListResult, WatchHandle, WatchSource } from "./source.js";

/**
 * Test doubles for the informer: core's FakeClock, whose time moves only when a test says so, and an in-memory
 * API server for one collection of pods, with the resourceVersion semantics the informer relies on
 * (resume from a version, 410 once history is compacted, bookmarks).
 */

/** A plain pod shape: client-node's Pod is a class, and copies of class instances are not instances. */
interface Pod {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
}

/** Lets every pending promise callback and immediate run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await new Promise((resolve) => setImmediate(resolve));
}

interface Watcher {
  readonly onEvent: (type: string, object: unknown) => void;
  readonly onDone: (error: unknown) => void;
}

interface HistoryEntry {
  readonly version: number;
  readonly type: string;
  readonly object: Pod;
}

type GoneMode = "event" | "http";

class FakeApiServer implements WatchSource {
  readonly namespace = "shop";
  version = 100;
  listCalls = 0;
  /** The resourceVersion each watch asked for, in order. */
  readonly watchCalls: string[] = [];
  aborts = 0;
  /** The next LISTs fail with this many errors. */
  failLists = 0;
  /** LISTs never answer while set. */
  hangLists = false;
  /** watch() never resolves while set. */
  hangWatches = false;
  goneMode: GoneMode = "event";
  /** Every page asked for (limit and continue), in order. */
  readonly pagesAsked: ListPage[] = [];
  /** The next LIST pages asked with a continue token are refused with 410 Expired. */
  expireContinues = 0;
  private readonly snapshots = new Map<string, Pod[]>();
  private readonly objects = new Map<string, Pod>();
  private history: HistoryEntry[] = [];
  private compactedBelow = 0;
  private readonly watchers = new Set<Watcher>();
  /** The callbacks of every watch ever opened, open or not: to play a connection that talks too late. */
  readonly everyWatcher: Watcher[] = [];
  private uidSequence = 0;

  list(_signal?: AbortSignal, page?: ListPage): Promise<ListResult> {
    this.listCalls += 1;
    if (page !== undefined) this.pagesAsked.push(page);
    if (this.hangLists) return new Promise<ListResult>(() => undefined);
    if (this.failLists > 0) {
      this.failLists -= 1;
      return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443"));
    }
    if (page?.continue !== undefined && this.expireContinues > 0) {
      this.expireContinues -= 1;
      return Promise.reject(
        new KubeStatusError(410, "LIST answered HTTP 410: continue parameter is too old"),
      );
    }
    return Promise.resolve(this.pageOf(page));
  }

  /**
   * Everything, or one page of a snapshot taken at the first page, as the API server serves pages: later
   * pages show the collection as it was when the first was read, whatever changed since.
   */
  private pageOf(page: ListPage | undefined): ListResult {
    const [snapshotAt = "", offsetText = "0"] = page?.continue?.split(":") ?? [];
    const snapshot =
      this.snapshots.get(snapshotAt) ?? [...this.objects.values()].map((pod) => structuredClone(pod));
    const version = snapshotAt === "" ? String(this.version) : snapshotAt;
    this.snapshots.set(version, snapshot);
    const offset = Number(offsetText);
    const end = page === undefined ? snapshot.length : offset + page.limit;
    const items = snapshot.slice(offset, end).map((pod) => structuredClone(pod));
    const more = end < snapshot.length ? { continue: `${version}:${end}` } : {};
    return { items, resourceVersion: version, ...more };
  }

  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle> {
    this.watchCalls.push(resourceVersion);
    if (this.hangWatches) return new Promise<WatchHandle>(() => undefined);
    const from = Number(resourceVersion);
    if (from < this.compactedBelow) return Promise.resolve(this.refuseGone(onEvent, onDone));
    const watcher: Watcher = { onEvent, onDone };
    this.watchers.add(watcher);
    this.everyWatcher.push(watcher);
    for (const entry of this.history.filter((e) => e.version > from))
      onEvent(entry.type, structuredClone(entry.object));
    return Promise.resolve({
      abort: () => {
        if (!this.watchers.delete(watcher)) return;
        this.aborts += 1;
        // As client-node does: aborting the request ends the stream with an AbortError, a moment later.
        queueMicrotask(() => {
          onDone(new Error("The operation was aborted."));
        });
      },
    });
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  create(name: string): Pod {
    this.uidSequence += 1;
    const metadata = { name, namespace: this.namespace, uid: `uid-${this.uidSequence}` };
    const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata };
    return this.record("ADDED", pod);
  }

  modify(name: string): Pod {
    const pod = this.objects.get(name);
    if (pod === undefined) throw new Error(`no pod ${name}`);
    const labels = { ...pod.metadata.labels, touched: String(this.version) };
    return this.record("MODIFIED", { ...pod, metadata: { ...pod.metadata, labels } });
  }

  delete(name: string): Pod {
    const pod = this.objects.get(name);
    if (pod === undefined) throw new Error(`no pod ${name}`);
    return this.record("DELETED", pod);
  }

  /** Changes to objects outside the watched collection: the version moves, the watch sees nothing. */
  elsewhere(changes: number): void {
    this.version += changes;
  }

  bookmark(): void {
    const object = { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(this.version) } };
    for (const watcher of [...this.watchers]) watcher.onEvent("BOOKMARK", object);
  }

  /** Ends every open watch, as a restarting API server does: cleanly with no error, or with one. */
  dropWatches(error: unknown = null): void {
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) watcher.onDone(error);
  }

  /** Sends 410 on every open watch, as the API server does when a watcher falls too far behind. */
  expireWatches(): void {
    this.compact();
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) this.refuseGone(watcher.onEvent, watcher.onDone);
  }

  /** Forgets the history: watches from any version before now get 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedBelow = this.version;
  }

  names(): string[] {
    return [...this.objects.keys()].sort();
  }

  get(name: string): Pod {
    const pod = this.objects.get(name);
    if (pod === undefined) throw new Error(`no pod ${name}`);
    return structuredClone(pod);
  }

  uidOf(name: string): string | undefined {
    return this.objects.get(name)?.metadata.uid;
  }

  private record(type: string, pod: Pod): Pod {
    this.version += 1;
    const object: Pod = { ...pod, metadata: { ...pod.metadata, resourceVersion: String(this.version) } };
    const name = object.metadata.name;
    if (type === "DELETED") this.objects.delete(name);
    else this.objects.set(name, object);
    this.history.push({ version: this.version, type, object });
    for (const watcher of [...this.watchers]) watcher.onEvent(type, structuredClone(object));
    return object;
  }

  private refuseGone(
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): WatchHandle {
    const message = `too old resource version (${this.compactedBelow})`;
    if (this.goneMode === "http") {
      onDone(Object.assign(new Error("Gone"), { statusCode: 410 }));
    } else {
      onEvent("ERROR", {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message,
        reason: "Expired",
        code: 410,
      });
      onDone(null);
    }
    return { abort: () => undefined };
  }
}

interface Rig {
  readonly clock: FakeClock;
  readonly server: FakeApiServer;
  readonly informer: Informer<Pod>;
  readonly events: InformerEvent<Pod>[];
  readonly errors: BroadsideError[];
  readonly retries: InformerRetry[];
}

const running: Informer<Pod>[] = [];

afterEach(async () => {
  for (const informer of running.splice(0)) await informer.stop();
});

/** random 0.999999 draws each delay at the top of its range, so the expected delays are exact. */
function rig(options: Partial<Omit<InformerOptions<Pod>, "source">> = {}): Rig {
  const clock = new FakeClock(1_000_000);
  const server = new FakeApiServer();
  const events: InformerEvent<Pod>[] = [];
  const errors: BroadsideError[] = [];
  const retries: InformerRetry[] = [];
  const informer = new Informer<Pod>({
    source: server,
    description: "pods in shop",
    clock,
    random: () => 0.999999,
    noEventTimeoutMs: 60_000,
    onError: (error) => errors.push(error),
    onRetry: (retry) => retries.push(retry),
    ...options,
  });
  informer.subscribe((event) => events.push(event));
  running.push(informer);
  return { clock, server, informer, events, errors, retries };
}

function cachedNames(informer: Informer<Pod>): string[] {
  return informer
    .list()
    .map((pod) => pod.metadata.name)
    .sort();
}

function summary(events: readonly InformerEvent<Pod>[]): string[] {
  return events.map((event) => `${event.origin} ${event.type} ${event.object.metadata.name}`);
}

async function startSynced(informer: Informer<Pod>): Promise<void> {
  await informer.start();
  await settle();
}

describe("Informer", () => {
  it("lists, then watches from the list's resourceVersion, stamping every event with its arrival time", async () => {
    const { clock, server, informer, events } = rig();
    server.create("a");
    server.create("b");
    await startSynced(informer);
    expect(cachedNames(informer)).toEqual(["a", "b"]);
    expect(summary(events)).toEqual(["list ADDED a", "list ADDED b"]);
    expect(events.map((event) => event.receivedAt)).toEqual([clock.now(), clock.now()]);
    expect(server.watchCalls).toEqual(["102"]);

    await clock.advance(250);
    server.create("c");
    server.modify("a");
    server.delete("b");
    expect(summary(events.slice(2))).toEqual(["watch ADDED c", "watch MODIFIED a", "watch DELETED b"]);
    expect(events.slice(2).every((event) => event.receivedAt === clock.now())).toBe(true);
    expect(cachedNames(informer)).toEqual(["a", "c"]);
    expect(informer.get("shop", "a")?.metadata.labels?.touched).toBe("103");
    expect(informer.stats).toMatchObject({
      synced: true,
      lists: 1,
      restarts: 0,
      errors: 0,
      resourceVersion: "105",
    });
  });

  it("resumes from the last resourceVersion after a watch error, without a new LIST", async () => {
    const { clock, server, informer, events, errors, retries } = rig();
    server.create("a");
    await startSynced(informer);
    server.create("b");
    server.dropWatches(new Error("read ECONNRESET"));
    await settle();
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ["BRD_KUBE_API", "the watch of pods in shop failed: read ECONNRESET"],
    ]);
    expect(retries).toEqual([{ reason: "error", delayMs: 199, consecutiveFailures: 1 }]);

    // While the informer waits: changes it must still see, from the server's history.
    server.create("c");
    server.delete("a");
    await clock.advance(198);
    expect(server.watchCalls).toEqual(["101"]);
    await clock.advance(1);
    expect(server.watchCalls).toEqual(["101", "102"]);
    expect(server.listCalls).toBe(1);
    expect(cachedNames(informer)).toEqual(["b", "c"]);
    expect(summary(events)).toEqual(["list ADDED a", "watch ADDED b", "watch ADDED c", "watch DELETED a"]);
    expect(informer.stats).toMatchObject({ restarts: 1, errors: 1, relists: 0, resourceVersion: "104" });
  });

  it("restarts a watch the server ended cleanly, without calling that an error", async () => {
    const { clock, server, informer, errors, retries } = rig();
    await startSynced(informer);
    server.dropWatches();
    await clock.advance(199);
    expect(server.watchCalls).toEqual(["100", "100"]);
    expect(server.openWatches).toBe(1);
    expect(errors).toEqual([]);
    expect(retries.map((retry) => retry.reason)).toEqual(["ended"]);
    expect(informer.stats.restarts).toBe(1);
  });

  it("advances its resourceVersion on bookmarks, so a resume after compaction needs no relist", async () => {
    const { clock, server, informer, events } = rig();
    server.create("a");
    await startSynced(informer);
    server.elsewhere(50);
    server.bookmark();
    expect(informer.stats.resourceVersion).toBe("151");
    expect(events).toHaveLength(1);

    server.dropWatches();
    server.compact();
    await clock.advance(199);
    expect(server.watchCalls).toEqual(["101", "151"]);
    expect(server.listCalls).toBe(1);
    expect(informer.stats.relists).toBe(0);
  });

  it.each<GoneMode>(["event", "http"])(
    "relists on 410 Gone (%s) and reports what changed meanwhile as DELETED, MODIFIED and ADDED",
    async (mode) => {
      const { clock, server, informer, events, errors, retries } = rig();
      server.goneMode = mode;
      for (const name of ["a", "b", "c"]) server.create(name);
      await startSynced(informer);
      const lastSeenA = informer.get("shop", "a");
      server.dropWatches();
      server.delete("a");
      server.modify("b");
      server.delete("c");
      server.create("c");
      server.create("d");
      server.compact();

      await clock.advance(199);
      expect(server.watchCalls).toEqual(["103", "103"]);
      expect(errors.map((error) => error.message)).toEqual([expect.stringContaining("410 Gone")]);
      expect(retries.map((retry) => retry.reason)).toEqual(["ended", "gone"]);
      expect(server.listCalls).toBe(1);
      await clock.advance(399);

      expect(server.listCalls).toBe(2);
      expect(summary(events.slice(3))).toEqual([
        "relist MODIFIED b",
        "relist DELETED c",
        "relist ADDED c",
        "relist ADDED d",
        "relist DELETED a",
      ]);
      expect(events.slice(3).every((event) => event.receivedAt === clock.now())).toBe(true);
      expect(events.at(-1)?.object).toEqual(lastSeenA);
      expect(cachedNames(informer)).toEqual(server.names());
      expect(informer.get("shop", "c")?.metadata.uid).toBe(server.uidOf("c"));
      expect(informer.stats).toMatchObject({ lists: 2, relists: 1, resourceVersion: "108" });

      await settle();
      expect(server.watchCalls).toEqual(["103", "103", "108"]);
      server.create("e");
      expect(summary(events.slice(-1))).toEqual(["watch ADDED e"]);
    },
  );

  it("relists when an open watch is told 410 mid-stream", async () => {
    const { clock, server, informer, events } = rig();
    server.create("a");
    await startSynced(informer);
    server.expireWatches();
    server.create("b");
    await clock.advance(199);
    expect(summary(events)).toEqual(["list ADDED a", "relist ADDED b"]);
    expect(informer.stats.relists).toBe(1);
  });

  it("restarts a watch that stays silent past the no-event timeout; any event, bookmarks too, postpones that", async () => {
    const { clock, server, informer, errors } = rig({ noEventTimeoutMs: 5000 });
    server.create("a");
    await startSynced(informer);
    await clock.advance(3000);
    server.bookmark();
    await clock.advance(4999);
    expect(informer.stats.watchdogFirings).toBe(0);
    expect(server.aborts).toBe(0);

    await clock.advance(1);
    expect(informer.stats.watchdogFirings).toBe(1);
    expect(server.aborts).toBe(1);
    expect(server.openWatches).toBe(0);
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      [
        "BRD_TIMEOUT",
        "the watch of pods in shop was silent for 5000 ms (no event, no bookmark); restarting it",
      ],
    ]);
    await clock.advance(199);
    expect(server.watchCalls).toEqual(["101", "101"]);
    server.create("b");
    expect(cachedNames(informer)).toEqual(["a", "b"]);
  });

  it("gives up on a watch request that never gets an answer, through the same watchdog", async () => {
    const { clock, server, informer } = rig({ noEventTimeoutMs: 5000 });
    server.hangWatches = true;
    await startSynced(informer);
    await clock.advance(5000);
    expect(informer.stats.watchdogFirings).toBe(1);
    server.hangWatches = false;
    await clock.advance(199);
    expect(server.watchCalls).toHaveLength(2);
    expect(server.openWatches).toBe(1);
  });

  it("retries a failing LIST with growing full-jitter backoff up to the cap, and resets after a healthy watch", async () => {
    const { clock, server, informer, retries } = rig({ healthyAfterMs: 30_000 });
    server.failLists = 8;
    const started = informer.start();
    for (let failure = 0; failure < 8; failure += 1) {
      await settle();
      await clock.advance(retries.at(-1)?.delayMs ?? 0);
    }
    await started;
    expect(retries.map((retry) => retry.delayMs)).toEqual([199, 399, 799, 1599, 3199, 6399, 9999, 9999]);
    expect(retries.every((retry) => retry.reason === "list-failed")).toBe(true);

    // A watch that fails soon after it opened does not count as recovery: the delays stay long.
    await clock.advance(1000);
    server.dropWatches(new Error("socket hang up"));
    await settle();
    expect(retries.at(-1)).toEqual({ reason: "error", delayMs: 9999, consecutiveFailures: 9 });

    await clock.advance(9999);
    await clock.advance(30_000);
    server.dropWatches(new Error("socket hang up"));
    await settle();
    expect(retries.at(-1)).toEqual({ reason: "error", delayMs: 199, consecutiveFailures: 1 });
  });

  it("draws each delay anywhere between the minimum and the ceiling (full jitter)", async () => {
    const { clock, server, informer, retries } = rig({ random: () => 0 });
    server.failLists = 3;
    const started = informer.start();
    for (let failure = 0; failure < 3; failure += 1) {
      await settle();
      await clock.advance(retries.at(-1)?.delayMs ?? 0);
    }
    await started;
    expect(retries.map((retry) => retry.delayMs)).toEqual([100, 100, 100]);
  });

  it("abandons a LIST that does not answer in time and tries again", async () => {
    const { clock, server, informer, errors } = rig({ listTimeoutMs: 2000 });
    server.hangLists = true;
    const started = informer.start();
    await clock.advance(2000);
    expect(errors.map((error) => error.message)).toEqual([
      "listing pods in shop failed: no answer in 2000 ms",
    ]);
    server.hangLists = false;
    await clock.advance(199);
    await started;
    expect(server.listCalls).toBe(2);
    expect(informer.stats.synced).toBe(true);
  });

  it("reports a subscriber that throws, and still delivers to the others", async () => {
    const { server, informer, events, errors } = rig();
    informer.subscribe(() => {
      throw new Error("subscriber bug");
    });
    await startSynced(informer);
    server.create("a");
    expect(summary(events)).toEqual(["watch ADDED a"]);
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ["BRD_INTERNAL", "a subscriber threw: subscriber bug"],
    ]);
    expect(informer.stats.restarts).toBe(0);
  });

  it("ignores whatever an ended watch still sends, so an old connection never touches the cache", async () => {
    const { clock, server, informer, events, errors } = rig();
    await startSynced(informer);
    server.dropWatches(new Error("read ECONNRESET"));
    await clock.advance(199);
    const stale = server.everyWatcher[0];
    stale?.onEvent("ADDED", {
      kind: "Pod",
      metadata: { name: "ghost", namespace: "shop", resourceVersion: "999" },
    });
    stale?.onDone(new Error("late failure"));
    await settle();
    expect(events).toEqual([]);
    expect(informer.stats).toMatchObject({ resourceVersion: "100", restarts: 1 });
    expect(errors).toHaveLength(1);
    expect(server.openWatches).toBe(1);
  });

  it("stops while watching: the watch is aborted, its late end ignored, no timer left", async () => {
    const { clock, server, informer, events, errors } = rig();
    await startSynced(informer);
    await informer.stop();
    await settle();
    expect(server.aborts).toBe(1);
    expect(clock.pending).toBe(0);
    expect(errors).toEqual([]);
    expect(informer.stats.restarts).toBe(0);
    server.create("late");
    expect(events).toEqual([]);
    await expect(informer.start()).rejects.toThrow("cannot be started after stop()");
  });

  it("stops while waiting out a backoff delay, and its start() rejects since it never synced", async () => {
    const { clock, server, informer } = rig();
    server.failLists = 1;
    const started = informer.start();
    await settle();
    expect(clock.pending).toBe(1);
    await informer.stop();
    expect(clock.pending).toBe(0);
    await expect(started).rejects.toMatchObject({ code: "BRD_KUBE_API" });
  });

  it("stops while a LIST hangs, without waiting for it", async () => {
    const { clock, server, informer } = rig();
    server.hangLists = true;
    const started = informer.start();
    await settle();
    await informer.stop();
    expect(clock.pending).toBe(0);
    await expect(started).rejects.toThrow("stopped before its first list");
  });
});

describe("Informer with a transform", () => {
  /** Drops the pod's uid: something the test can see went through the transform. */
  const withoutUid = (pod: Pod): Pod => ({ ...pod, metadata: { ...pod.metadata, uid: "" } });

  it("caches and delivers what the transform returns, from the LIST, the watch and a relist alike", async () => {
    const { clock, server, informer, events } = rig({ transform: withoutUid });
    server.create("listed");
    await startSynced(informer);
    server.create("watched");
    server.expireWatches();
    server.create("relisted");
    await clock.advance(199);
    expect(summary(events)).toEqual(["list ADDED listed", "watch ADDED watched", "relist ADDED relisted"]);
    expect(events.map((event) => event.object.metadata.uid)).toEqual(["", "", ""]);
    expect(informer.list().map((pod) => pod.metadata.uid)).toEqual(["", "", ""]);
    expect(informer.get("shop", "watched")?.metadata.uid).toBe("");
  });

  it("transforms the caller's LIST too", async () => {
    const server = new FakeApiServer();
    server.create("before");
    const informer = new Informer<Pod>({
      source: server,
      startFrom: { items: [server.get("before")], resourceVersion: String(server.version) },
      transform: withoutUid,
      clock: new FakeClock(1_000_000),
    });
    running.push(informer);
    await informer.start();
    expect(informer.get("shop", "before")?.metadata.uid).toBe("");
  });
});

describe("Informer listing in pages", () => {
  it("reads the LIST page by page and caches every object once, at the snapshot's resourceVersion", async () => {
    const { server, informer, events } = rig({ listPageSize: 2 });
    for (const name of ["a", "b", "c", "d", "e"]) server.create(name);
    await startSynced(informer);
    expect(server.pagesAsked).toEqual([
      { limit: 2 },
      { limit: 2, continue: "105:2" },
      { limit: 2, continue: "105:4" },
    ]);
    expect(cachedNames(informer)).toEqual(["a", "b", "c", "d", "e"]);
    expect(summary(events)).toEqual(["a", "b", "c", "d", "e"].map((name) => `list ADDED ${name}`));
    expect(informer.stats.resourceVersion).toBe("105");
    expect(server.watchCalls).toEqual(["105"]);
  });

  it("trims each page before asking for the next, so the untrimmed LIST never lives whole", async () => {
    const server = new FakeApiServer();
    for (const name of ["a", "b", "c", "d"]) server.create(name);
    const transformedWhenAsked: number[] = [];
    let transformed = 0;
    const pagedSource: WatchSource = {
      list: (signal, page) => {
        transformedWhenAsked.push(transformed);
        return server.list(signal, page);
      },
      watch: (version, onEvent, onDone) => server.watch(version, onEvent, onDone),
    };
    const informer = new Informer<Pod>({
      source: pagedSource,
      clock: new FakeClock(1_000_000),
      listPageSize: 2,
      transform: (pod) => {
        transformed += 1;
        return pod;
      },
    });
    running.push(informer);
    await startSynced(informer);
    expect(transformedWhenAsked).toEqual([0, 2]);
    expect(transformed).toBe(4);
  });

  it("starts the LIST over from its first page when a continue token has expired (410)", async () => {
    const { server, informer, errors, events } = rig({ listPageSize: 2 });
    for (const name of ["a", "b", "c"]) server.create(name);
    server.expireContinues = 1;
    const listing = informer.start();
    server.create("d");
    await listing;
    await settle();
    expect(server.pagesAsked).toEqual([
      { limit: 2 },
      { limit: 2, continue: "103:2" },
      { limit: 2 },
      { limit: 2, continue: "104:2" },
    ]);
    expect(cachedNames(informer)).toEqual(["a", "b", "c", "d"]);
    expect(summary(events)).toEqual(["a", "b", "c", "d"].map((name) => `list ADDED ${name}`));
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringContaining("pods in shop: the continue token expired; listing again"),
    ]);
  });

  it("takes a 410 on the first page as a failed LIST, retried after a backoff like any other", async () => {
    const clock = new FakeClock(1_000_000);
    const server = new FakeApiServer();
    server.create("a");
    let refusals = 1;
    const source: WatchSource = {
      list: (signal, page) => {
        if (refusals === 0) return server.list(signal, page);
        refusals -= 1;
        return Promise.reject(new KubeStatusError(410, "LIST answered HTTP 410: too old"));
      },
      watch: (version, onEvent, onDone) => server.watch(version, onEvent, onDone),
    };
    const retries: InformerRetry[] = [];
    const informer = new Informer<Pod>({
      source,
      clock,
      random: () => 0.999999,
      onRetry: (retry) => retries.push(retry),
    });
    running.push(informer);
    const starting = informer.start();
    await settle();
    expect(retries.map((retry) => retry.reason)).toEqual(["list-failed"]);
    await clock.advance(retries[0]?.delayMs ?? 0);
    await starting;
    expect(cachedNames(informer)).toEqual(["a"]);
  });
});

describe("Informer starting from the caller's LIST", () => {
  it("holds the listed objects without reporting them, and watches from the list's resourceVersion", async () => {
    const { server, informer, events } = rigFrom(["a", "b"]);
    await startSynced(informer);
    expect(server.listCalls).toBe(0);
    expect(cachedNames(informer)).toEqual(["a", "b"]);
    expect(events).toEqual([]);
    expect(server.watchCalls).toEqual(["102"]);
    server.create("c");
    expect(summary(events)).toEqual(["watch ADDED c"]);
  });

  it("never reports a listed object as ADDED after a 410, only what changed meanwhile", async () => {
    const { clock, server, informer, events } = rigFrom(["keep", "victim"]);
    await startSynced(informer);
    server.expireWatches();
    server.delete("victim");
    server.create("replacement");
    await clock.advance(199);
    expect(server.listCalls).toBe(1);
    expect(summary(events)).toEqual(["relist ADDED replacement", "relist DELETED victim"]);
    expect(cachedNames(informer)).toEqual(["keep", "replacement"]);
  });

  it("says when its first watch is established, so shots can wait for it", async () => {
    const { clock, server, informer } = rigFrom([]);
    server.hangWatches = true;
    let watching = false;
    void informer.whenWatching().then(() => (watching = true));
    await startSynced(informer);
    expect(watching).toBe(false);
    await clock.advance(60_000);
    server.hangWatches = false;
    await clock.advance(199);
    expect(watching).toBe(true);
  });
});

/** A rig whose informer starts from a LIST of these pods that the caller made before it. */
function rigFrom(names: readonly string[]): Rig {
  const clock = new FakeClock(1_000_000);
  const server = new FakeApiServer();
  for (const name of names) server.create(name);
  const items = names.map((name) => server.get(name));
  const startFrom: ListResult = { items, resourceVersion: String(server.version) };
  const events: InformerEvent<Pod>[] = [];
  const informer = new Informer<Pod>({
    source: server,
    description: "pods in shop",
    clock,
    random: () => 0.999999,
    noEventTimeoutMs: 60_000,
    startFrom,
  });
  informer.subscribe((event) => events.push(event));
  running.push(informer);
  return { clock, server, informer, events, errors: [], retries: [] };
}
