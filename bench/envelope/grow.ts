import type { V1Pod } from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import type { KubeClients } from "../../src/kube/client.js";
import { addPods, createFleet, fleetPod, waitAllReady, type AgentFleet } from "../agent/fleet.js";

/**
 * The envelope's sandbox, grown in steps: pods spread over namespaces of `podsPerNamespace` (envelope-000,
 * envelope-001, ...), each pod shaped as the agent benchmark's fleet (bench/agent/fleet.ts: label
 * app=bench-agent, controlled by one of the namespace's ConfigMap workloads, bound to a kwok node through
 * spec.nodeName) plus a label shard=0..9, so a selector can take a tenth of the cluster.
 */
export interface Envelope {
  readonly fleets: AgentFleet[];
  /** Pods created so far; pod g is p-g in namespace g / podsPerNamespace, on node g % nodes. */
  pods: number;
  readonly nodes: number;
}

export const podsPerNamespace = 1000;
/** 100 pods per workload: the blast-radius cap lets a dry run's pick through. */
const workloadsPerNamespace = 10;
export const shards = 10;

export function namespaceOf(index: number): string {
  return `envelope-${String(Math.floor(index / podsPerNamespace)).padStart(3, "0")}`;
}

/** Used memory of the machine (MemTotal - MemAvailable), in GiB: other benchmarks share it. */
export async function machineUsedGiB(): Promise<number> {
  const info = await readFile("/proc/meminfo", "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(info)?.[1] ?? NaN);
  return (kib("MemTotal") - kib("MemAvailable")) / 2 ** 20;
}

export class MemoryCeilingError extends Error {}

/**
 * Adds pods until the envelope holds `target`, one namespace at a time, and waits until kwok has them all
 * Ready. Checks the machine's used memory before each namespace and stops at `ceilingGiB`.
 */
export async function growTo(
  kube: KubeClients,
  envelope: Envelope,
  target: number,
  limits: { readonly ceilingGiB: number; readonly log: (message: string) => void },
): Promise<void> {
  const touched = new Set<AgentFleet>();
  while (envelope.pods < target) {
    const used = await machineUsedGiB();
    if (used > limits.ceilingGiB) {
      throw new MemoryCeilingError(
        `the machine uses ${used.toFixed(1)} GiB, over the ${limits.ceilingGiB} GiB ceiling, at ${envelope.pods} pods`,
      );
    }
    const fleet = await fleetFor(kube, envelope, namespaceOf(envelope.pods));
    const end = Math.min(target, (Math.floor(envelope.pods / podsPerNamespace) + 1) * podsPerNamespace);
    const pods = range(envelope.pods, end).map((index) => envelopePod(fleet, index, envelope.nodes));
    await addPods(kube, fleet, pods);
    envelope.pods = end;
    touched.add(fleet);
    limits.log(`  ${fleet.namespace}: ${fleet.pods.size} pods (${end} in all, ${used.toFixed(1)} GiB used)`);
  }
  for (const fleet of touched) await waitAllReady(kube, fleet.namespace, 5 * 60_000);
}

async function fleetFor(kube: KubeClients, envelope: Envelope, namespace: string): Promise<AgentFleet> {
  const known = envelope.fleets.find((fleet) => fleet.namespace === namespace);
  if (known !== undefined) return known;
  const created = await createFleet(kube, namespace, workloadsPerNamespace);
  envelope.fleets.push(created);
  return created;
}

function envelopePod(fleet: AgentFleet, index: number, nodes: number): V1Pod {
  const pod = fleetPod(fleet, { index, nodes, fanout: false });
  const labels = pod.metadata?.labels ?? {};
  labels.shard = String(index % shards);
  return pod;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, offset) => from + offset);
}
