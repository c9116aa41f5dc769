import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { EngineContext } from "../../src/engine/context.js";
import type { KubeClients } from "../../src/kube/client.js";
import { PodCache } from "../../src/kube/pod-cache.js";
import { imageEnvironment, imageNodeFlags, startAgent, type AgentProcess } from "../agent/agent-process.js";
import { agentRequestsByVerb } from "../agent/fan-out.js";
import type { AgentFleet } from "../agent/fleet.js";
import { peakResidentMiB, residentMiB } from "../agent/rss.js";
import { warmShots, type WarmShot } from "../agent/warm-shot.js";
import { dryRunArgs, timedNode, type CliRun, type DryRunScope } from "./cli-runs.js";
import { clusterScopeLists, listsBetween, type ListCounts } from "./cluster-lists.js";
import { median } from "./fit.js";

export interface Rig {
  readonly repoRoot: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly kube: KubeClients;
  readonly ctx: EngineContext;
  readonly log: (message: string) => void;
  /** Agents running now, so an interrupted run can stop them. */
  readonly agents: Set<AgentProcess>;
}

/** `-l` of both dry runs: a tenth of the cluster's pods with -A, a hundred with -n. */
export const dryRunSelector = "app=bench-agent,shard=3";

export interface DryRuns {
  readonly all: readonly CliRun[];
  readonly namespace: readonly CliRun[];
  /** The namespace of the -n runs. */
  readonly namespaceName: string;
}

/** `kill --dry-run -A` and `-n NS`, alternated round by round after one uncounted round of each. */
export async function dryRuns(rig: Rig, namespace: string, rounds: number): Promise<DryRuns> {
  const all: CliRun[] = [];
  const inNamespace: CliRun[] = [];
  const run = (scope: DryRunScope) =>
    timedNode(rig.repoRoot, dryRunArgs(rig.repoRoot, rig.kubeconfig, scope, dryRunSelector));
  for (let round = 0; round <= rounds; round += 1) {
    const a = await run({ all: true });
    const n = await run({ namespace });
    if (round > 0) {
      all.push(a);
      inNamespace.push(n);
    }
    const line = (r: CliRun) => `${r.ms.toFixed(0)} ms ${r.peakMiB.toFixed(0)} MiB ${r.stdoutBytes} B`;
    rig.log(`  dry run${round === 0 ? " (warm-up)" : ""}: -A ${line(a)}; -n ${namespace} ${line(n)}`);
  }
  return { all, namespace: inNamespace, namespaceName: namespace };
}

export interface AgentFigures {
  /** From spawning `broadside agent` to /readyz answering 200 (every informer synced). */
  readonly syncMs: number;
  readonly readyMiB: number;
  /** Resident set at the end of the quiet window. */
  readonly quietEndMiB: number;
  /** VmHWM at the end of the quiet window: the initial LISTs included. */
  readonly peakMiB: number;
  readonly quietSeconds: number;
  /** Cluster-scope LISTs the API server answered during the quiet window, from every client. */
  readonly apiserverClusterLists: ListCounts;
  /** Requests the agent itself sent during the quiet window, by verb (its own /metrics). */
  readonly agentRequests: Readonly<Record<string, number>> | undefined;
}

/** A real `broadside agent` (the image's Node flags), timed to ready, then left alone for the quiet window. */
export async function agentRun(rig: Rig, quietSeconds: number, logFile: string): Promise<AgentFigures> {
  const started = performance.now();
  const agent = await startAgent(rig.repoRoot, rig.kubeconfig, logFile, {
    nodeFlags: imageNodeFlags,
    env: imageEnvironment,
  });
  rig.agents.add(agent);
  try {
    const syncMs = performance.now() - started;
    const readyMiB = await residentMiB(agent.pid);
    const metricsUrl = agent.readyz.replace(/\/readyz$/, "/metrics");
    // The informers' first LISTs are done; let their buffers go before the quiet window opens.
    await sleep(5_000);
    const listsBefore = await clusterScopeLists(rig.kubectl, rig.kubeconfig);
    const requestsBefore = await agentRequestsByVerb(metricsUrl);
    await sleep(quietSeconds * 1000);
    const listsAfter = await clusterScopeLists(rig.kubectl, rig.kubeconfig);
    const requestsAfter = await agentRequestsByVerb(metricsUrl);
    const figures: AgentFigures = {
      syncMs,
      readyMiB,
      quietEndMiB: await residentMiB(agent.pid),
      peakMiB: await peakResidentMiB(agent.pid),
      quietSeconds,
      apiserverClusterLists: listsBetween(listsBefore, listsAfter),
      agentRequests: requestDelta(requestsBefore, requestsAfter),
    };
    rig.log(
      `  agent: ready in ${syncMs.toFixed(0)} ms at ${readyMiB.toFixed(0)} MiB; after ${quietSeconds} s quiet ${figures.quietEndMiB.toFixed(0)} MiB (peak ${figures.peakMiB.toFixed(0)}); cluster-scope LISTs meanwhile ${JSON.stringify(figures.apiserverClusterLists)}; agent requests ${JSON.stringify(figures.agentRequests)}`,
    );
    return figures;
  } finally {
    await agent.stop();
    rig.agents.delete(agent);
  }
}

function requestDelta(
  before: Readonly<Record<string, number>> | undefined,
  after: Readonly<Record<string, number>> | undefined,
): Record<string, number> | undefined {
  if (before === undefined || after === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(after).map(([verb, count]) => [verb, count - (before[verb] ?? 0)]),
  );
}

export interface WarmFigures {
  /** The bench process's own pod cache (every namespace), from start to synced. */
  readonly cacheSyncMs: number;
  readonly shots: readonly WarmShot[];
  /** Median per path. */
  readonly p50: Readonly<Record<WarmShot["kind"], number>>;
}

/** Warm shots at one namespace's pods from a cache of every pod of the cluster (bench/agent/warm-shot.ts). */
export async function warmFigures(rig: Rig, fleet: AgentFleet, rounds: number): Promise<WarmFigures> {
  const cache = new PodCache({ watches: rig.ctx.watches, clock: rig.ctx.clock, fallback: rig.ctx.podFacts });
  const started = performance.now();
  await cache.start();
  const cacheSyncMs = performance.now() - started;
  try {
    const shots = await warmShots({ kube: rig.kube, ctx: rig.ctx, cache, fleet }, rounds, 2, rig.log);
    const of = (kind: WarmShot["kind"]) => median(shots.filter((s) => s.kind === kind).map((s) => s.ms));
    return { cacheSyncMs, shots, p50: { raw: of("raw"), pick: of("pick"), engine: of("engine") } };
  } finally {
    await cache.stop();
  }
}
