import type { KubeClients } from "../../src/kube/client.js";
import type { DeletionLog } from "./deletions.js";
import { fleetLabel, replaceVictim, type AgentFleet } from "./fleet.js";
import { createPodChaos, deletePodChaos } from "./podchaos.js";

/**
 * Time to first DELETE: one PodChaos (mode one) at a time is created through the API, and timed from just
 * before its create request to the watch event of the first pod it deleted. Between objects the victim is
 * replaced and the PodChaos deleted, so every object meets the same fleet and an idle agent.
 */
export async function firstDeletes(
  kube: KubeClients,
  fleet: AgentFleet,
  deletions: DeletionLog,
  objects: number,
  log: (message: string) => void,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < objects; index += 1) {
    const name = `first-delete-${index}`;
    const started = Date.now();
    await createPodChaos(kube, {
      namespace: fleet.namespace,
      name,
      labels: { [fleetLabel.key]: fleetLabel.value },
      mode: "one",
    });
    const deletion = await deletions.first(started, (d) => d.namespace === fleet.namespace, 60_000);
    latencies.push(deletion.at - started);
    log(`  PodChaos ${name}: first DELETE seen ${deletion.at - started} ms after its create`);
    await replaceVictim(kube, fleet, deletion.name);
    await deletePodChaos(kube, fleet.namespace, name);
  }
  return latencies;
}
