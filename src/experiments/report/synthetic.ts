import { objectFaultInput, type PausedPodReport } from "./fault-facts.js";
import type { RunInput } from "./run-report.js";
import type { Sample } from "./samples.js";

/**
 * Runs whose truth is known: a probe sending at a fixed rate (with jitter) against a target that is down
 * during given outages. The report's figures must find the outages again; unit tests use this to hold the
 * figures to the fidelity rule, and `exampleRunInput` gives every renderer the same run to draw.
 */

/** The target refuses connections during [from, from + ms). */
export interface Outage {
  readonly from: number;
  readonly ms: number;
  readonly error?: string;
}

export interface SyntheticProbe {
  readonly probe: string;
  readonly start: number;
  readonly end: number;
  readonly intervalMs: number;
  /** Each send is moved by up to this many ms either way, as a busy event loop moves timers. */
  readonly jitterMs?: number;
  readonly seed?: number;
  readonly outages?: readonly Outage[];
  /** Latency of the i-th successful sample; by default 20-30 ms. */
  readonly latency?: (index: number, random: () => number) => number;
}

/** mulberry32: a small seeded generator, so a synthetic run is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function syntheticSamples(spec: SyntheticProbe): Sample[] {
  const random = seededRandom(spec.seed ?? 1);
  const jitter = spec.jitterMs ?? 0;
  const latency = spec.latency ?? ((_index: number, next: () => number) => 20 + Math.round(next() * 10));
  const samples: Sample[] = [];
  let successes = 0;
  for (let tick = spec.start; tick < spec.end; tick += spec.intervalMs) {
    const sentAt = Math.min(
      spec.end - 1,
      Math.max(spec.start, Math.round(tick + (random() * 2 - 1) * jitter)),
    );
    const outage = spec.outages?.find((o) => sentAt >= o.from && sentAt < o.from + o.ms);
    if (outage === undefined) {
      samples.push({
        probe: spec.probe,
        sentAt,
        latencyMs: latency(successes, random),
        ok: true,
        status: 200,
      });
      successes += 1;
    } else {
      samples.push({
        probe: spec.probe,
        sentAt,
        latencyMs: 0.4,
        ok: false,
        error: outage.error ?? "ECONNREFUSED",
      });
    }
  }
  return samples;
}

/** 2025-06-15T15:06:40Z: a fixed origin keeps example reports byte-for-byte reproducible. */
export const exampleOrigin = 1_750_000_000_000;

/**
 * A 30 s run at 5 Hz: 10 s baseline, a pod-kill at +10 s whose chaos window lasts until the Deployment is
 * back (+12.5 s), a config drift from +14 s healed by a GitOps controller at +18.1 s, 10+ s of recovery.
 * The front door refuses connections for 1.5 s from +10.1 s. Every check passes.
 */
export function exampleRunInput(): RunInput {
  const t = (seconds: number): number => exampleOrigin + Math.round(seconds * 1000);
  const samples = syntheticSamples({
    probe: "front-door",
    start: t(0),
    end: t(30),
    intervalMs: 200,
    jitterMs: 15,
    seed: 7,
    outages: [{ from: t(10.1), ms: 1500 }],
  });
  return {
    title: "Two replicas keep the front door open",
    startedAt: t(0),
    endedAt: t(30),
    probes: [{ name: "front-door", intervalMs: 200, target: "GET / on the demo front door" }],
    chaosWindows: [
      { start: t(10), end: t(12.5), label: "pod-kill" },
      { start: t(14), end: t(18.1), label: "config-drift" },
    ],
    samples,
    faults: [examplePodFault(t(10)), exampleObjectFault(t(14), t(18.1))],
    restarts: [
      { namespace: "demo", name: "web-7c9d8-abcde", node: "kwok-node-1", role: "target", before: 0 },
      { namespace: "demo", name: "cache-0", node: "kwok-node-1", role: "node-mate", before: 1, after: 1 },
      {
        namespace: "demo",
        name: "worker-5f6b-xyz12",
        node: "kwok-node-1",
        role: "node-mate",
        before: 0,
        after: 0,
      },
    ],
    checks: [
      {
        name: "front door mostly available under chaos",
        subject: { type: "probe", probe: "front-door", scope: "chaos", figure: "availability" },
        tolerance: { op: ">=", limit: 0.7 },
      },
      {
        name: "no outage longer than 2 s",
        subject: { type: "probe", probe: "front-door", scope: "overall", figure: "longestUnreachableMs" },
        tolerance: { op: "<=", limit: 2000 },
      },
      {
        name: "p95 latency stays low",
        subject: { type: "probe", probe: "front-door", scope: "chaos", figure: "p95Ms" },
        tolerance: { op: "<=", limit: 100 },
      },
      {
        name: "Deployment back within 5 s",
        subject: { type: "fault-recovery", fault: 0 },
        tolerance: { op: "<=", limit: 5000 },
      },
    ],
  };
}

function examplePodFault(shotAt: number): RunInput["faults"][number] {
  return {
    type: "pod",
    kind: "pod-kill",
    ledgerIds: ["bs-20250615-150650-k1"],
    recovery: {
      victims: [
        {
          pod: { namespace: "demo", name: "web-7c9d8-abcde", uid: "uid-victim-1", node: "kwok-node-1" },
          workload: { kind: "Deployment", namespace: "demo", name: "web" },
          shot: { accepted: true, at: shotAt + 12 },
          requestedAt: shotAt,
          acceptedMs: 12,
          goneMs: 410,
          replacement: {
            expected: true,
            pod: { name: "web-7c9d8-fghij", uid: "uid-replacement-1", node: "kwok-node-2" },
            createdMs: 31,
            scheduledMs: 58,
            readyMs: 2380,
          },
        },
      ],
      workloads: [
        {
          workload: { kind: "Deployment", namespace: "demo", name: "web" },
          status: "restored",
          desired: 2,
          available: 2,
          dipped: true,
          restoredAt: shotAt + 2450,
          restoredMs: 2450,
          restoredBy: "workload-status",
        },
      ],
      complete: true,
      watchFailure: undefined,
    },
  };
}

function exampleObjectFault(injectedAt: number, healedAt: number): RunInput["faults"][number] {
  return {
    type: "object",
    kind: "config-drift",
    changes: [
      {
        injectedAt,
        recovery: {
          id: "bs-20250615-150654-d1",
          faultKind: "config-drift",
          target: {
            apiVersion: "v1",
            kind: "ConfigMap",
            namespace: "demo",
            name: "web-config",
            uid: "uid-cm-1",
          },
          path: "data.LOG_LEVEL",
          result: "healed-externally",
          at: healedAt,
          by: "kustomize-controller",
        },
      },
    ],
  };
}

/**
 * A 20 s run at 5 Hz in which pod-failure pauses shop/web-1 from +2 s to +12 s: it loses readiness at
 * +2.4 s and regains it at +12.7 s, restarting twice; the probe fails from +2.6 s to +12.8 s.
 */
export function examplePodFailureInput(): RunInput {
  const t = (seconds: number): number => exampleOrigin + Math.round(seconds * 1000);
  const target = { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "p1" };
  const samples = Array.from({ length: 100 }, (_, i) => {
    const sentAt = t(i * 0.2);
    const ok = sentAt < t(2.5) || sentAt > t(12.9);
    return { probe: "front-door", sentAt, latencyMs: 5, ok, ...(ok ? {} : { error: "ECONNREFUSED" }) };
  });
  const fault = objectFaultInput(
    "pod-failure",
    [
      {
        id: "r1",
        faultKind: "pod-failure",
        target,
        path: "/spec/containers/0/image",
        original: "web:1",
        injected: "registry.k8s.io/pause:3.10",
        sensitive: false,
        createdAt: t(2),
        deadline: t(12),
        actor: { user: "u", host: "h", pid: 1 },
        version: "1",
        state: "active",
      },
    ],
    [
      {
        id: "r1",
        faultKind: "pod-failure",
        target,
        path: "/spec/containers/0/image",
        result: "reverted",
        at: t(12),
      },
    ],
    [
      {
        pod: { namespace: "shop", name: "web-1", uid: "p1", node: "kwok-node-0" },
        injectedAt: t(2),
        pausedMs: 400,
        readyLostMs: 400,
        imagesBackMs: 10_700,
        readyRegainedMs: 10_700,
        restartsBefore: 0,
        restartsAfter: 2,
        gone: false,
      },
    ],
  );
  return {
    title: "pod-failure",
    startedAt: t(0),
    endedAt: t(20),
    probes: [{ name: "front-door", intervalMs: 200 }],
    chaosWindows: [{ start: t(2), end: t(13) }],
    samples,
    faults: [fault],
    checks: [],
  };
}

/** A paused pod that was never seen Ready again. */
export function withoutRegained(pod: PausedPodReport): PausedPodReport {
  return Object.fromEntries(
    Object.entries(pod).filter(([key]) => key !== "readyRegainedMs"),
  ) as unknown as PausedPodReport;
}

/**
 * A 10 s run at 5 Hz in which container-kill kills container web of shop/web-1 at +2 s: it runs again at
 * +0.5 s and its pod is Ready again at +2.6 s (restartCount 0 -> 1, Error, exit 137); the probe fails
 * from +2.2 s to +4.4 s.
 */
export function exampleContainerKillInput(): RunInput {
  const t = (seconds: number): number => exampleOrigin + Math.round(seconds * 1000);
  const samples = Array.from({ length: 50 }, (_, i) => {
    const sentAt = t(i * 0.2);
    const ok = sentAt < t(2.1) || sentAt > t(4.5);
    return { probe: "front-door", sentAt, latencyMs: 5, ok, ...(ok ? {} : { error: "ECONNREFUSED" }) };
  });
  const kill = {
    target: {
      pod: { namespace: "shop", name: "web-1", uid: "p1" },
      node: "kwok-node-0",
      container: "web",
      containerId: undefined,
      restartCount: 0,
    },
    ledgerId: "r1",
    work: "nodework-r1",
    outcome: { accepted: true as const, at: t(2) },
    status: undefined,
    milestones: {
      runningAgainAt: t(2.5),
      readyAgainAt: t(4.6),
      readyLost: true,
      restartCount: 1,
      lastTerminated: { exitCode: 137, reason: "Error" },
    },
  };
  return {
    title: "container-kill",
    startedAt: t(0),
    endedAt: t(10),
    probes: [{ name: "front-door", intervalMs: 200 }],
    chaosWindows: [{ start: t(2), end: t(5) }],
    samples,
    faults: [{ type: "container", kind: "container-kill", kills: [kill] }],
    checks: [],
  };
}
