import { Agent, request } from "node:https";
import type { RequestOptions } from "node:https";
import { performance } from "node:perf_hooks";
import { Duration } from "../../src/core/duration.js";
import { planTargets } from "../../src/core/targeting/plan.js";
import type { EngineContext } from "../../src/engine/context.js";
import { runPodChaos } from "../../src/engine/pod-chaos.js";
import { podFaults } from "../../src/faults/pod-registry.js";
import type { KubeClients } from "../../src/kube/client.js";
import type { PodCache } from "../../src/kube/pod-cache.js";
import type { PodReader, PodShots } from "../../src/kube/pods.js";
import { fleetLabel, replaceVictim, type AgentFleet } from "./fleet.js";

/**
 * Warm shot: a shot from a warm process (connection open, caches synced), timed from the decision to shoot
 * to the DELETE being accepted, three ways interleaved round by round so load on the shared machine hits
 * each alike:
 * - raw: a DELETE of a pod the benchmark picked beforehand, over a kept-alive HTTPS connection: the floor.
 * - pick: the agent's pick from its cache of trimmed pods (gather + plan over every pod of the
 *   namespace) then the engine's conditional DELETE through the throttled client.
 * - engine: the whole engine path as the agent runs a PodChaos (runPodChaos): the pick, the kill switch
 *   read, the ledger record written before the DELETE (the safety rule), then the DELETE.
 */
export type WarmShotKind = "raw" | "pick" | "engine";

export interface WarmShot {
  readonly kind: WarmShotKind;
  readonly ms: number;
  /** pick: the part of `ms` spent gathering and planning, before the DELETE was sent. */
  readonly planMs?: number;
}

export interface WarmShotRig {
  readonly kube: KubeClients;
  readonly ctx: EngineContext;
  readonly cache: PodCache;
  readonly fleet: AgentFleet;
}

const selector = { labelSelector: `${fleetLabel.key}=${fleetLabel.value}` };

/** `rounds` counted rounds after `warmup` uncounted ones; every victim is replaced between shots. */
export async function warmShots(
  rig: WarmShotRig,
  rounds: number,
  warmup: number,
  log: (message: string) => void,
): Promise<WarmShot[]> {
  const raw = await rawDeleter(rig.kube);
  const shots: WarmShot[] = [];
  try {
    for (let round = 0; round < warmup + rounds; round += 1) {
      const taken: WarmShot[] = [];
      for (const kind of ["raw", "pick", "engine"] as const) {
        const { ms, victim, planMs } = await shoot(rig, raw, kind);
        taken.push({ kind, ms, ...(planMs === undefined ? {} : { planMs }) });
        await replaceVictim(rig.kube, rig.fleet, victim);
      }
      if (round >= warmup) shots.push(...taken);
      log(`  warm shot round ${round + 1}${round < warmup ? " (warm-up)" : ""}: ${describe(taken)}`);
    }
  } finally {
    raw.close();
  }
  return shots;
}

function describe(shots: readonly WarmShot[]): string {
  return shots
    .map((shot) => {
      const plan = shot.planMs === undefined ? "" : ` (plan ${shot.planMs.toFixed(1)} ms)`;
      return `${shot.kind} ${shot.ms.toFixed(1)} ms${plan}`;
    })
    .join(", ");
}

async function shoot(
  rig: WarmShotRig,
  raw: RawDeleter,
  kind: WarmShotKind,
): Promise<{ ms: number; victim: string; planMs?: number }> {
  if (kind === "raw") {
    const victim = anyPod(rig.fleet);
    const started = performance.now();
    await raw.delete(rig.fleet.namespace, victim);
    return { ms: performance.now() - started, victim };
  }
  return kind === "pick" ? pickShot(rig) : engineShot(rig);
}

function anyPod(fleet: AgentFleet): string {
  const names = [...fleet.pods.keys()];
  const name = names[Math.floor(Math.random() * names.length)];
  if (name === undefined) throw new Error("the fleet is empty");
  return name;
}

async function pickShot(rig: WarmShotRig): Promise<{ ms: number; victim: string; planMs: number }> {
  const started = performance.now();
  const gathered = await rig.cache.gather([rig.fleet.namespace]);
  // With the cache's index, as runPodChaos plans: the cap reads it instead of walking every pod.
  const plan = planTargets(
    gathered.facts,
    selector,
    { kind: "one" },
    rig.ctx.rails,
    Math.random,
    gathered.index,
  );
  const [victim] = plan.selected;
  if (victim === undefined) throw new Error(`nothing selected: ${plan.warnings.join("; ")}`);
  const planMs = performance.now() - started;
  await rig.ctx.pods.delete(victim, { gracePeriodSeconds: 0 });
  return { ms: performance.now() - started, victim: victim.name, planMs };
}

async function engineShot(rig: WarmShotRig): Promise<{ ms: number; victim: string }> {
  let accepted: { at: number; victim: string } | undefined;
  const pods: PodShots & PodReader = {
    delete: async (pod, options) => {
      await rig.ctx.pods.delete(pod, options);
      accepted = { at: performance.now(), victim: pod.name };
    },
    evict: (pod, options) => rig.ctx.pods.evict(pod, options),
    disruptionBudgets: (namespace) => rig.ctx.pods.disruptionBudgets(namespace),
    read: (namespace, name) => rig.ctx.pods.read(namespace, name),
    list: (scope) => rig.ctx.pods.list(scope),
  };
  const started = performance.now();
  await runPodChaos(
    { ...rig.ctx, pods, podFacts: rig.cache },
    {
      fault: podFaults["pod-kill"],
      scope: [rig.fleet.namespace],
      selector,
      mode: { kind: "one" },
      gracePeriodSeconds: 0,
      dryRun: false,
      wait: false,
      timeout: Duration.ofMilliseconds(60_000),
    },
  );
  if (accepted === undefined) throw new Error("the engine shot sent no DELETE");
  return { ms: accepted.at - started, victim: accepted.victim };
}

interface RawDeleter {
  delete(namespace: string, name: string): Promise<void>;
  close(): void;
}

/** DELETEs over one kept-alive TLS connection, with the kubeconfig's credentials; the first one opens it. */
async function rawDeleter(kube: KubeClients): Promise<RawDeleter> {
  const server = new URL(kube.config.getCurrentCluster()?.server ?? "");
  const options: RequestOptions = {};
  await kube.config.applyToHTTPSOptions(options);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (path: string, method: string) =>
    new Promise<number>((resolve, reject) => {
      const sent = request(
        { ...options, agent, method, hostname: server.hostname, port: server.port, path },
        (response) => {
          response.resume();
          response.on("end", () => {
            resolve(response.statusCode ?? 0);
          });
        },
      );
      sent.on("error", reject);
      sent.end();
    });
  // Opens the connection (TLS handshake included) before anything is timed.
  await send("/version", "GET");
  return {
    delete: async (namespace, name) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}?gracePeriodSeconds=0`;
      const status = await send(path, "DELETE");
      if (status !== 200) throw new Error(`raw DELETE of ${namespace}/${name}: HTTP ${status}`);
    },
    close: () => {
      agent.destroy();
    },
  };
}
