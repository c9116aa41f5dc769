import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/cli/config.js";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { systemClock } from "../../src/core/clock.js";
import { deferred, type Deferred } from "../../src/core/deferred.js";
import { podKill } from "../../src/faults/pod-kill.js";
import { gatherPodFacts, isPodReady } from "../../src/kube/pod-facts.js";
import { ClusterPods } from "../../src/kube/pods.js";
import { startRecoveryTiming } from "../../src/kube/recovery/session.js";
import type { RecoveryReport, RecoveryTarget } from "../../src/kube/recovery/types.js";
import { clientNodeSources } from "../../src/kube/watch/client-node-source.js";
import { Informer, type InformerEvent } from "../../src/kube/watch/informer.js";
import {
  statusOf,
  type CollectionQuery,
  type ListResult,
  type WatchHandle,
  type WatchSource,
  type WatchSources,
} from "../../src/kube/watch/source.js";
import { sandboxRestartComponent } from "../../src/sandbox/sandbox.js";
import { adminClients, deployAndWait, testDeployment, useTestNamespace } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/*
 * Recovery is measured on supervised informers, so a kill's recovery survives what used to end it: the
 * API server restarting under the watches, and a watch that falls behind and gets 410 Gone. Each test
 * kills a pod of a 3-replica Deployment, disrupts the watches while the cluster heals, and checks that
 * the report still has every milestone, each stamped when its event reached the session, by comparing
 * with the test's own supervised informer on the same event stream (see SharedStream).
 */

const environment = {
  ...sandboxEnvironment(readConfig(process.env), processIo),
  onProgress: () => undefined,
};

/**
 * Two consumers of one event stream. The session's informer drives the real source through `driver`: it
 * lists and watches as it sees fit. Whatever it gets (each LIST result, each watch event, ERROR and
 * BOOKMARK included) is handed in the same turn to the test's own informer through `mirror`, which never
 * reaches the cluster itself. So both informers get the same events at the same moment, across restarts
 * and relists, and the time the test's informer stamps on an event is the time the session's informer
 * stamped on it, give or take the code that runs between the two consumers.
 */
interface MirrorWatch {
  readonly onEvent: (type: string, object: unknown) => void;
  readonly onDone: (error: unknown) => void;
}

class SharedStream {
  private mirrorSlot: MirrorWatch | undefined;
  /** Events that came while the mirror was between two watches: handed over when it is back. */
  private readonly held: [string, unknown][] = [];
  private readonly mirrorLists: Deferred<ListResult>[] = [];
  private currentDriverEvent: ((type: string, object: unknown) => void) | undefined;
  private stalled = false;
  /** Watches the session's informer opened: more than one means it had to reconnect. */
  connections = 0;

  constructor(private readonly upstream: WatchSource) {}

  readonly driver: WatchSource = {
    list: async (signal) => {
      const result = await this.upstream.list(signal);
      for (const waiting of this.mirrorLists.splice(0)) waiting.resolve(structuredClone(result));
      return result;
    },
    watch: async (resourceVersion, onEvent, onDone) => {
      this.connections += 1;
      let closed = false;
      const forward = (type: string, object: unknown): void => {
        if (closed || this.stalled) return;
        onEvent(type, object);
        this.toMirror(type, object);
      };
      this.currentDriverEvent = forward;
      const handle = await this.upstream.watch(resourceVersion, forward, (error) => {
        if (closed) return;
        onDone(error);
        // A 410 told as an HTTP status ends the mirror's watch too, so both relist; other ends do not:
        // the mirror stays attached and gets the events of the driver's next connection.
        if (statusOf(error) === 410) this.mirrorSlot?.onDone(error);
      });
      return {
        abort: () => {
          closed = true;
          handle.abort();
        },
      };
    },
  };

  /**
   * The mirror stays attached while the driver reconnects, so it sees every connection's events; its
   * LIST answers with the driver's next LIST. Both informers hold the same cache, so they ask for the same
   * resourceVersion, and both relist after the same 410.
   */
  readonly mirror: WatchSource = {
    list: () => {
      const waiting = deferred<ListResult>();
      this.mirrorLists.push(waiting);
      return waiting.promise;
    },
    watch: (_resourceVersion, onEvent, onDone): Promise<WatchHandle> => {
      const slot = { onEvent, onDone };
      this.mirrorSlot = slot;
      for (const [type, object] of this.held.splice(0)) onEvent(type, object);
      return Promise.resolve({
        abort: () => {
          if (this.mirrorSlot === slot) this.mirrorSlot = undefined;
        },
      });
    },
  };

  /** The connection goes quiet: what the server sends from now on is lost, as on a stuck stream. */
  stall(): void {
    this.stalled = true;
  }

  /** The server gives up on the stream: 410 Gone, its history compacted past the watch's version. */
  expire(): void {
    this.stalled = false;
    this.currentDriverEvent?.("ERROR", {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "Expired",
      code: 410,
      message: "too old resource version (injected by the test)",
    });
  }

  private toMirror(type: string, object: unknown): void {
    const copy = structuredClone(object);
    if (this.mirrorSlot === undefined) this.held.push([type, copy]);
    else this.mirrorSlot.onEvent(type, copy);
  }
}

/** The session's WatchSources, each collection shared with an informer of the test's own. */
class WatchedTwice {
  readonly streams = new Map<string, SharedStream>();
  readonly events = new Map<string, InformerEvent<KubernetesObject>[]>();
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly real: WatchSources = clientNodeSources(adminClients().config);

  readonly watches: WatchSources = (query: CollectionQuery) => {
    const stream = new SharedStream(this.real(query));
    const seen: InformerEvent<KubernetesObject>[] = [];
    const informer = new Informer<KubernetesObject>({
      source: stream.mirror,
      description: `the test's own view of ${query.path}`,
      // Never behind the session's informer, whose retries wait 100 ms and more.
      minBackoffMs: 1,
      maxBackoffMs: 1,
    });
    informer.subscribe((event) => seen.push(event));
    // Started now, so its LIST is waiting when the session makes its own.
    void informer.start();
    this.informers.push(informer);
    this.streams.set(query.path, stream);
    this.events.set(query.path, seen);
    return stream.driver;
  };

  stream(path: string): SharedStream {
    const stream = this.streams.get(path);
    if (stream === undefined) throw new Error(`the session never watched ${path}`);
    return stream;
  }

  seen(path: string): InformerEvent<KubernetesObject>[] {
    return this.events.get(path) ?? [];
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}

const running: WatchedTwice[] = [];
afterEach(async () => {
  for (const watched of running.splice(0)) await watched.stop();
});

async function targetOf(namespace: string, app: string): Promise<RecoveryTarget> {
  const { pods, facts } = await gatherPodFacts(adminClients(), [namespace]);
  const index = facts.findIndex((f) => f.labels.app === app && f.ready && !f.deleting);
  const pod = pods[index];
  if (pod === undefined) throw new Error(`no Ready pod of ${app}`);
  return { pod, owner: facts[index]?.owner };
}

interface Milestone {
  readonly name: string;
  /** Epoch ms, as the report has it. */
  readonly reported: number | undefined;
  /** Epoch ms, when the same event reached the test's own informer. */
  readonly seen: number | undefined;
  readonly origin: string | undefined;
}

function podPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/pods`;
}

type Seen = InformerEvent<KubernetesObject> | undefined;

function milestone(name: string, reported: number | undefined, event: Seen): Milestone {
  return { name, reported, seen: event?.receivedAt, origin: event?.origin };
}

/** The report's milestones, each beside the arrival of the event that shows it at the test's informer. */
function milestones(report: RecoveryReport, watched: WatchedTwice, namespace: string): Milestone[] {
  const [victim] = report.victims;
  const [workload] = report.workloads;
  if (victim === undefined || workload === undefined) throw new Error("no victim or no workload reported");
  const { replacement } = victim;
  if (!replacement.expected) throw new Error(`no replacement expected: ${replacement.why}`);
  const origin = victim.requestedAt ?? 0;
  const at = (ms: number | undefined) => (ms === undefined ? undefined : origin + ms);
  const pods = watched.seen(podPath(namespace));
  const uid = replacement.pod?.uid;
  const ofReplacement = pods.filter((event) => event.object.metadata?.uid === uid);
  const ready = ofReplacement.find((e) => isPodReady(e.object));
  // Status updates may coalesce and never show the dip; the fold then takes the replacement's Ready.
  const restored =
    workload.restoredBy === "workload-status"
      ? restoredEvent(watched, namespace, workload.workload.name, origin)
      : ready;
  return [
    milestone(
      "created",
      at(replacement.createdMs),
      ofReplacement.find((e) => e.type === "ADDED"),
    ),
    milestone(
      "scheduled",
      at(replacement.scheduledMs),
      ofReplacement.find((e) => (e.object as V1Pod).spec?.nodeName !== undefined),
    ),
    milestone("Ready", at(replacement.readyMs), ready),
    milestone(
      "victim gone",
      at(victim.goneMs),
      pods.find((e) => e.object.metadata?.uid === victim.pod.uid && e.type === "DELETED"),
    ),
    milestone("workload restored", workload.restoredAt, restored),
  ];
}

/** The first status of the Deployment back at its desired available replicas after a dip since the shot. */
function restoredEvent(watched: WatchedTwice, namespace: string, name: string, shotAt: number) {
  const path = `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const statuses = watched
    .seen(path)
    .filter((e) => e.object.metadata?.name === name && e.receivedAt >= shotAt)
    .map((event) => {
      const { spec, status } = event.object as {
        spec?: { replicas?: number };
        status?: { availableReplicas?: number };
      };
      return { event, short: (status?.availableReplicas ?? 0) < (spec?.replicas ?? 1) };
    });
  const dip = statuses.findIndex((s) => s.short);
  return dip < 0 ? undefined : statuses.slice(dip).find((s) => !s.short)?.event;
}

function describeMilestones(list: readonly Milestone[]): string {
  return list
    .map((m) => `${m.name} ${String((m.reported ?? 0) - (m.seen ?? 0))} ms apart (${m.origin ?? "unseen"})`)
    .join(", ");
}

function report(line: string): void {
  process.stderr.write(`[recovery-resilience] ${line}\n`);
}

/**
 * Every milestone reported, and stamped within 10 ms of the same event's arrival at the test's informer.
 * The 10 ms is no timing assertion: both informers consume one event stream and stamp each event in the
 * same turn of the event loop, one after the other; the allowance only covers the code between the two
 * consumers. A milestone taken from the wrong event (a later MODIFIED, the end of the wait, a pod that
 * existed before) would be off by the seconds a kwok pod takes to start, or missing.
 */
function expectStampedOnArrival(list: readonly Milestone[]): void {
  for (const milestone of list) {
    expect(milestone.reported, `${milestone.name} reported`).toBeTypeOf("number");
    expect(milestone.seen, `${milestone.name} seen by the test's informer`).toBeTypeOf("number");
    expect(Math.abs((milestone.reported ?? 0) - (milestone.seen ?? 0)), milestone.name).toBeLessThanOrEqual(
      10,
    );
  }
}

describe("recovery timing rides out disrupted watches", () => {
  const namespace = useTestNamespace("it-resilience");

  async function killOne(app: string, watched: WatchedTwice) {
    await deployAndWait(namespace(), testDeployment(app, 3));
    const target = await targetOf(namespace(), app);
    const session = await startRecoveryTiming({ watches: watched.watches, clock: systemClock }, [target], {
      timeoutMs: 120_000,
      waitForVictimsGone: true,
    });
    const uid = target.pod.metadata?.uid ?? "";
    session.requested(uid);
    const outcome = await podKill.fire(
      { pods: new ClusterPods(adminClients()), clock: systemClock },
      target.pod,
      {},
    );
    session.fired(uid, outcome);
    expect(outcome.accepted).toBe(true);
    return { session, target };
  }

  it("keeps every milestone when kube-apiserver restarts during the recovery", async () => {
    const watched = new WatchedTwice();
    running.push(watched);
    const { session } = await killOne("restarted", watched);
    const restartStarted = systemClock.now();
    await sandboxRestartComponent(environment, integrationSandboxName, "kube-apiserver");
    const restartEnded = systemClock.now();
    const result = await session.finish();

    expect(result.complete).toBe(true);
    expect(result.watchFailure).toBeUndefined();
    expect(result.workloads).toMatchObject([{ status: "restored" }]);
    const list = milestones(result, watched, namespace());
    expectStampedOnArrival(list);
    // The restart did come during the recovery: the replacement turned Ready only after it began, and
    // the session's pod watch had to be opened again.
    const readyAt = list.find((m) => m.name === "Ready")?.reported ?? 0;
    expect(readyAt).toBeGreaterThan(restartStarted);
    const connections = watched.stream(podPath(namespace())).connections;
    expect(connections).toBeGreaterThan(1);
    report(
      `kube-apiserver restart took ${String(restartEnded - restartStarted)} ms, ` +
        `${String(connections)} pod watch connections; ${describeMilestones(list)}`,
    );
  });

  it("keeps every milestone when the watch stalls and then gets 410 Gone during the recovery", async () => {
    const watched = new WatchedTwice();
    running.push(watched);
    const { session, target } = await killOne("expired", watched);
    // The pods' watch goes quiet for a second, the replacement is created meanwhile, then it expires.
    const pods = watched.stream(podPath(namespace()));
    pods.stall();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    pods.expire();
    const result = await session.finish();

    expect(result.complete).toBe(true);
    expect(result.watchFailure).toBeUndefined();
    const list = milestones(result, watched, namespace());
    expectStampedOnArrival(list);
    // The replacement was first seen in the relist, and no pod that was there before was taken for new.
    expect(list.find((m) => m.name === "created")?.origin).toBe("relist");
    const before = new Set(
      watched
        .seen(podPath(namespace()))
        .filter((e) => e.origin === "list")
        .map((e) => e.object.metadata?.uid),
    );
    expect(before.has(target.pod.metadata?.uid)).toBe(true);
    const addedLater = watched
      .seen(podPath(namespace()))
      .filter((e) => e.origin !== "list" && e.type === "ADDED" && before.has(e.object.metadata?.uid));
    expect(addedLater).toEqual([]);
    report(`stall then 410: ${describeMilestones(list)}`);
  });
});
