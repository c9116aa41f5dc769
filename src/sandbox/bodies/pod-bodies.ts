import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { Arrivals } from "../traffic/arrivals.js";
import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import type { ErrorCode } from "../../core/errors.js";
import type { Informer, InformerEvent } from "../../kube/watch/informer.js";
import type { SandboxName } from "../sandbox-name.js";
import { parseBehaviour, podServes, runsPauseImage, serveSelector } from "../traffic/behaviour.js";
import type { Behaviour } from "../traffic/behaviour.js";
import { informersOf } from "../traffic/collections.js";
import type { WatchScope } from "../traffic/collections.js";
import type { Upstream } from "../traffic/front-door.js";
import type { BodyLauncher, ExitStatus, RunningBody } from "./body-process.js";
import { bodyCgroupPlan, parseOomKills } from "./cgroups.js";
import type { CgroupLayout } from "./cgroups.js";
import { bodyCleanupPlan, cleanUpRecords, killCgroup, runCleanup } from "./cleanup.js";
import type { Host } from "./host.js";
import { planBody } from "./body-spec.js";
import type { BodySpec } from "./body-spec.js";
import { checkPodUid } from "./names.js";
import type { PodUid } from "./names.js";
import { bodyNetworkPlan } from "./network.js";
import type { PodNetwork } from "./network.js";
import { behaviourLine } from "./protocol.js";
import type { BodyRecord, RecordStore } from "./records.js";
import type { PodStatusWriter, Termination } from "./status.js";

export interface PodBodiesOptions extends WatchScope {
  readonly clock: Clock;
  readonly sandbox: SandboxName;
  readonly network: PodNetwork;
  readonly cgroups: CgroupLayout;
  readonly host: Host;
  readonly records: RecordStore;
  readonly launcher: BodyLauncher;
  readonly status: PodStatusWriter;
  /** How long dial waits for the body of a pod not seen serving yet (see PodListeners.dialPort). Default 1 s. */
  readonly catchUpMs?: number;
  /** How often the bodies' OOM counters are read. Default 500 ms. */
  readonly oomPollMs?: number;
  /** How long a restart waits after a body that died within 10 s of its start, doubling, at most 30 s. */
  readonly backoffMs?: number;
  /**
   * How long a restarted body runs before it is reported ready, as a readiness probe would pass (the
   * sandbox's pod-ready delay). Default 0: ready in the restart's own status write.
   */
  readonly readyDelayMs?: number;
  readonly onEvent?: (event: BodyEvent) => void;
}

/** A body made, restarted or removed, for logs. */
export interface BodyEvent {
  readonly kind: "created" | "restarted" | "removed";
  readonly namespace: string;
  readonly pod: string;
  readonly ip: string;
  readonly pid?: number | undefined;
  readonly reason?: string | undefined;
}

/** What is known of one body, for the traffic process's /bodies report and the tests. */
export interface BodyInfo {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  readonly ip: string;
  /** Its listening port, while it listens. */
  readonly port: number | undefined;
  readonly pid: number | undefined;
  readonly netns: string;
  readonly hostVeth: string;
  readonly cgroups: readonly string[];
  readonly restarts: number;
}

interface Body {
  readonly spec: BodySpec;
  behaviour: Behaviour;
  /** Resolves once the body's first run listens, or its making failed. */
  made: Promise<void>;
  run: RunningBody | undefined;
  port: number | undefined;
  runStartedAt: number;
  oomBaseline: number;
  /** Set once a poll saw an OOM kill in the body's cgroup, so it is group-killed once. */
  oomSeen: boolean;
  quickDeaths: number;
  restarts: number;
  ended: boolean;
}

/**
 * A real body for every opted-in pod (label broadside.dev/serve=http) while it is Running and Ready: its
 * own network namespace holding the IP kwok assigned, on the sandbox's bridge, its own cgroup with the
 * first container's limits, and a process (body-main.ts) serving its HTTP inside both. The same
 * lifecycle as PodListeners (a Terminating pod keeps serving until it is gone or not Ready), plus a
 * kubelet's: a body process that dies is started again, and the pod's status records the restart
 * (restartCount + 1, lastState.terminated OOMKilled when its cgroup's OOM killer struck, else Error).
 */
export class PodBodies {
  private readonly bodies = new Map<string, Body>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Dials waiting for a body to appear; pods that are gone. */
  private readonly arrivals: Arrivals<Body>;
  private readonly informers: Informer<V1Pod>[];
  private poll: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: PodBodiesOptions) {
    this.arrivals = new Arrivals(options.clock, (uid) => this.bodies.get(uid), options.catchUpMs);
    this.informers = informersOf<V1Pod>(options, {
      apiVersion: "v1",
      plural: "pods",
      labelSelector: serveSelector,
    });
    for (const informer of this.informers) {
      informer.subscribe((event) => {
        this.onPodEvent(event);
      });
    }
  }

  /** Removes the bodies a previous traffic process left, then lists the pods and starts making bodies. */
  async start(): Promise<void> {
    const { host, records, sandbox } = this.options;
    const leftovers = await cleanUpRecords(host, records, sandbox, { network: false });
    for (const problem of leftovers.problems)
      this.report("BRD_INTERNAL", `cleaning up a pod body: ${problem}`);
    await Promise.all(this.informers.map((informer) => informer.start()));
    this.poll = setInterval(() => {
      void this.pollOom();
    }, this.options.oomPollMs ?? 500);
    this.poll.unref();
  }

  /** Where a front door reaches the pod: its IP and port while its body listens (see dialPort of PodListeners). */
  async dial(uid: string): Promise<Upstream | undefined> {
    const body = this.bodies.get(uid) ?? (await this.arrivals.wait(uid, this.stopped));
    if (body === undefined) return undefined;
    await body.made;
    return body.port === undefined || body.ended ? undefined : { host: body.spec.ip, port: body.port };
  }

  /** Only the IPs of bodies this sandbox made, while they listen, may be dialed. */
  canDial(host: string): boolean {
    for (const body of this.bodies.values())
      if (body.spec.ip === host && body.port !== undefined) return true;
    return false;
  }

  info(uid: string): BodyInfo | undefined {
    const body = this.bodies.get(uid);
    return body === undefined ? undefined : infoOf(body);
  }

  list(): BodyInfo[] {
    return [...this.bodies.values()].map(infoOf);
  }

  /** Stops watching and removes every body. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await Promise.all(this.informers.map((informer) => informer.stop()));
    for (const uid of [...this.bodies.keys()]) void this.enqueue(uid, () => this.destroy(uid));
    this.arrivals.wakeAll();
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  private onPodEvent(event: InformerEvent<V1Pod>): void {
    const pod = event.object;
    const uid = checkPodUid(pod.metadata?.uid);
    if (uid === undefined || this.stopped) return;
    if (event.type !== "DELETED" && this.restartingInPlace(uid, pod)) return;
    if (event.type === "DELETED" || !podServes(pod)) {
      if (event.type === "DELETED") this.arrivals.markEnded(uid);
      if (this.bodies.has(uid)) void this.enqueue(uid, () => this.destroy(uid));
      return;
    }
    this.serve(uid, pod);
  }

  /**
   * Whether the pod is not Ready only because its body died and is being restarted (the exit this class
   * wrote), or runs again and waits for its readiness (the restart this class wrote, before the ready
   * one): the body stays, as a kubelet restarts a container inside the pod's sandbox without tearing the
   * sandbox down.
   */
  private restartingInPlace(uid: string, pod: V1Pod): boolean {
    const body = this.bodies.get(uid);
    if (body === undefined || pod.status?.phase !== "Running" || runsPauseImage(pod)) return false;
    const status = pod.status.containerStatuses?.find((each) => each.name === body.spec.container);
    return status !== undefined && downOrWarming(status, body.restarts);
  }

  private serve(uid: PodUid, pod: V1Pod): void {
    const { behaviour, problems } = parseBehaviour(pod.metadata?.annotations);
    const existing = this.bodies.get(uid);
    if (existing !== undefined) {
      this.changeBehaviour(existing, behaviour);
      return;
    }
    const where = `pod ${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? uid}`;
    const planned = planBody(uid, pod, this.options);
    if (typeof planned === "string") {
      this.report("BRD_USAGE", `${where} gets no body: ${planned}`);
      return;
    }
    for (const problem of [...problems, ...planned.problems])
      this.report("BRD_USAGE", `${where}: ${problem}; using the default`);
    this.add(planned.spec, behaviour);
  }

  private changeBehaviour(body: Body, behaviour: Behaviour): void {
    if (sameBehaviour(body.behaviour, behaviour)) return;
    body.behaviour = behaviour;
    body.run?.send(behaviourLine(behaviour));
  }

  private add(spec: BodySpec, behaviour: Behaviour): void {
    // kwok hands a deleted pod's IP out again: a body still holding it belongs to a pod that is gone.
    const stale = [...this.bodies.values()].find((other) => other.spec.ip === spec.ip);
    const staleGone =
      stale === undefined
        ? Promise.resolve()
        : this.enqueue(stale.spec.uid, () => this.destroy(stale.spec.uid));
    const body: Body = {
      spec,
      behaviour,
      made: Promise.resolve(),
      run: undefined,
      port: undefined,
      runStartedAt: 0,
      oomBaseline: 0,
      oomSeen: false,
      quickDeaths: 0,
      restarts: 0,
      ended: false,
    };
    this.bodies.set(spec.uid, body);
    body.made = this.enqueue(spec.uid, async () => {
      await staleGone;
      await this.make(body);
    });
    this.arrivals.arrived(spec.uid);
  }

  /** Records, then makes, the namespace, veth, cgroups and first run; on failure removes what was made. */
  private async make(body: Body): Promise<void> {
    const { spec } = body;
    const { host, records, network, cgroups } = this.options;
    try {
      await records.writeBody(recordOf(spec));
      for (const argv of bodyNetworkPlan(network, spec)) await runChecked(host, argv);
      const plan = bodyCgroupPlan(cgroups, spec.cgroups, spec.limits);
      for (const dir of plan.mkdirs) await host.mkdir(dir);
      for (const write of plan.writes) await host.write(write.path, write.value);
      if (body.ended) return;
      await this.startRun(body);
      this.emit("created", body);
    } catch (error: unknown) {
      this.report(
        "BRD_INTERNAL",
        `the body of pod ${describePod(spec)} could not be made: ${describeError(error)}`,
      );
      if (this.bodies.get(spec.uid) === body) this.bodies.delete(spec.uid);
      await this.teardown(body);
    }
  }

  private async startRun(body: Body): Promise<void> {
    const { spec } = body;
    body.oomBaseline = await this.oomKills(body);
    body.oomSeen = false;
    const run = await this.options.launcher.launch({
      netns: spec.netns,
      leaves: spec.cgroups.leaves,
      args: {
        identity: { pod: spec.ref.name, namespace: spec.ref.namespace, uid: spec.uid },
        port: spec.port,
        behaviour: body.behaviour,
      },
    });
    body.run = run;
    body.runStartedAt = this.options.clock.now();
    void run.exited.then((status) => {
      this.onExit(body, run, status);
    });
    const port = await run.listening;
    if (body.run === run) body.port = port;
  }

  private onExit(body: Body, run: RunningBody, status: ExitStatus): void {
    if (body.run !== run) return;
    body.run = undefined;
    body.port = undefined;
    if (body.ended || this.stopped) return;
    void this.enqueue(body.spec.uid, () => this.restart(body, status));
  }

  /**
   * A kubelet's restart: report the exit (the pod goes not Ready), group-kill what is left in the cgroup,
   * back off if it keeps dying, run again, report the restart.
   */
  private async restart(body: Body, status: ExitStatus): Promise<void> {
    const now = this.options.clock.now();
    const termination = terminationOf(
      status,
      (await this.oomKills(body)) > body.oomBaseline,
      body.runStartedAt,
      now,
    );
    // The pod is not Ready while its container is down, so its endpoints drop as the kubelet makes them.
    await this.options.status
      .recordExit(body.spec.ref, body.spec.container, termination)
      .catch((error: unknown) => {
        this.report(
          "BRD_INTERNAL",
          `the exit of pod ${describePod(body.spec)} could not be written to its status: ${describeError(error)}`,
        );
      });
    for (const leaf of body.spec.cgroups.leaves) await killCgroup(this.options.host, leaf);
    body.quickDeaths = now - body.runStartedAt < 10_000 ? body.quickDeaths + 1 : 0;
    const backoff = this.options.backoffMs ?? 1000;
    if (body.quickDeaths > 1) await sleep(Math.min(30_000, backoff * 2 ** (body.quickDeaths - 2)));
    if (body.ended || this.stopped) return;
    try {
      await this.startRun(body);
    } catch (error: unknown) {
      this.report(
        "BRD_INTERNAL",
        `the body of pod ${describePod(body.spec)} could not restart: ${describeError(error)}`,
      );
      return;
    }
    body.restarts += 1;
    this.emit("restarted", body, `${termination.reason} (exit ${termination.exitCode})`);
    const since = new Date(body.runStartedAt).toISOString();
    const readyDelayMs = this.options.readyDelayMs ?? 0;
    await this.options.status
      .recordRestart(body.spec.ref, body.spec.container, termination, since, readyDelayMs === 0)
      .catch((error: unknown) => {
        this.report(
          "BRD_INTERNAL",
          `the restart of pod ${describePod(body.spec)} could not be written to its status: ${describeError(error)}`,
        );
      });
    if (readyDelayMs > 0) this.readyAfter(body, body.run, readyDelayMs);
  }

  /**
   * A readiness probe passing `delayMs` after the restart: the container is written ready then, unless
   * this run ended meanwhile (its next restart writes its own).
   */
  private readyAfter(body: Body, run: RunningBody | undefined, delayMs: number): void {
    const current = () => body.run === run && !body.ended && !this.stopped;
    const timer = setTimeout(() => {
      if (!current()) return;
      void this.enqueue(body.spec.uid, async () => {
        if (!current()) return;
        const at = new Date(this.options.clock.now()).toISOString();
        await this.options.status
          .recordReady(body.spec.ref, body.spec.container, at)
          .catch((error: unknown) => {
            this.report(
              "BRD_INTERNAL",
              `the readiness of pod ${describePod(body.spec)} could not be written to its status: ${describeError(error)}`,
            );
          });
      });
    }, delayMs);
    timer.unref();
  }

  /** An OOM kill in a body's cgroup takes the whole body down (memory.oom.group on v2, by hand on v1). */
  private async pollOom(): Promise<void> {
    for (const body of this.bodies.values()) {
      const run = body.run;
      if (run === undefined || body.oomSeen || body.ended) continue;
      const baseline = body.oomBaseline;
      const kills = await this.oomKills(body);
      // The run may have ended (and another started, with a new baseline) while the counter was read.
      if (kills <= baseline || body.run !== run || body.oomBaseline !== baseline) continue;
      body.oomSeen = true;
      // In the body's queue: its restart (queued when the run exits) waits until the cgroup is empty,
      // so this kill's later rounds never hit the restarted run (ADR 0040).
      void this.enqueue(body.spec.uid, async () => {
        for (const leaf of body.spec.cgroups.leaves) await killCgroup(this.options.host, leaf);
      });
    }
  }

  private async oomKills(body: Body): Promise<number> {
    try {
      return parseOomKills(await this.options.host.read(body.spec.cgroups.oomFile));
    } catch {
      return 0;
    }
  }

  private async destroy(uid: string): Promise<void> {
    const body = this.bodies.get(uid);
    if (body === undefined) return;
    this.bodies.delete(uid);
    body.ended = true;
    body.port = undefined;
    this.arrivals.wake(uid);
    body.run?.close();
    await this.teardown(body);
    this.emit("removed", body);
  }

  private async teardown(body: Body): Promise<void> {
    const problems = await runCleanup(this.options.host, bodyCleanupPlan(recordOf(body.spec)));
    for (const problem of problems)
      this.report("BRD_INTERNAL", `removing the body of pod ${describePod(body.spec)}: ${problem}`);
    if (problems.length === 0) await this.options.records.forgetBody(body.spec.uid);
  }

  /** Runs `work` after the pod's earlier work; the queue forgets the pod once it is idle. */
  private enqueue(uid: string, work: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(uid) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      this.report("BRD_INTERNAL", `pod body ${uid}: ${describeError(error)}`);
    });
    this.queues.set(uid, next);
    void next.then(() => {
      if (this.queues.get(uid) === next) this.queues.delete(uid);
    });
    return next;
  }

  private emit(kind: BodyEvent["kind"], body: Body, reason?: string): void {
    const { namespace, name } = body.spec.ref;
    this.options.onEvent?.({ kind, namespace, pod: name, ip: body.spec.ip, pid: body.run?.pid, reason });
  }

  private report(code: ErrorCode, message: string): void {
    this.options.onError?.(new BroadsideError(code, message));
  }
}

/** Terminated (the body's exit), or running again after a restart and not ready yet (its ready delay). */
function downOrWarming(status: V1ContainerStatus, restarts: number): boolean {
  if (status.state?.terminated !== undefined) return true;
  return status.state?.running !== undefined && !status.ready && restarts > 0;
}

async function runChecked(host: Host, argv: readonly string[]): Promise<void> {
  const outcome = await host.run(argv);
  if (outcome.exitCode !== 0)
    throw new BroadsideError(
      "BRD_INTERNAL",
      `${argv.join(" ")} failed: ${outcome.stderr.trim() || `exit ${outcome.exitCode}`}`,
    );
}

const signalNumbers: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
  SIGSEGV: 11,
  SIGABRT: 6,
};

/** How a run ended, as the kubelet words it: 128 + the signal's number for a signal, OOMKilled when the OOM killer struck. */
export function terminationOf(
  status: ExitStatus,
  oomKilled: boolean,
  startedAt: number,
  finishedAt: number,
): Termination {
  const signal = status.signal === null ? undefined : (signalNumbers[status.signal] ?? 0);
  const exitCode = signal === undefined ? (status.code ?? 0) : 128 + signal;
  const reason = oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
  return {
    exitCode,
    reason,
    signal,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
  };
}

function recordOf(spec: BodySpec): BodyRecord & { uid: PodUid } {
  return {
    kind: "body",
    uid: spec.uid,
    namespace: spec.ref.namespace,
    pod: spec.ref.name,
    ip: spec.ip,
    netns: spec.netns,
    hostVeth: spec.hostVeth,
    cgroups: { pods: [...spec.cgroups.pods], leaves: [...spec.cgroups.leaves] },
  };
}

function infoOf(body: Body): BodyInfo {
  const { spec } = body;
  return {
    namespace: spec.ref.namespace,
    pod: spec.ref.name,
    uid: spec.uid,
    ip: spec.ip,
    port: body.port,
    pid: body.run?.pid,
    netns: spec.netns,
    hostVeth: spec.hostVeth,
    cgroups: spec.cgroups.leaves,
    restarts: body.restarts,
  };
}

function describePod(spec: BodySpec): string {
  return `${spec.ref.namespace}/${spec.ref.name}`;
}

function sameBehaviour(a: Behaviour, b: Behaviour): boolean {
  return a.latencyMs === b.latencyMs && a.errorRate === b.errorRate;
}
