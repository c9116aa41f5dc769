import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClients } from "../../src/kube/client.js";
import type { DeletionLog } from "./deletions.js";
import { fleetLabel, type AgentFleet } from "./fleet.js";
import { createPodChaos } from "./podchaos.js";

export interface FanOutResult {
  readonly pods: number;
  /** From the create of the mode-all PodChaos to the watch event of its last pod's deletion. */
  readonly durationMs: number;
  /** The limit's minimum: one request per pod at `qps`. */
  readonly minimumMs: number;
  /** The second PodChaos: created when a quarter of the fan-out was done, timed to its first DELETE. */
  readonly secondCreatedAfterMs: number;
  readonly secondFirstDeleteMs: number | undefined;
}

/**
 * Fan-out: a PodChaos with mode all over every pod labelled fanout=yes, timed to the last deletion; when a
 * quarter is done, a second PodChaos (mode one, in a namespace of its own) is created and timed to its
 * first DELETE, to see whether other resources keep being reconciled meanwhile.
 */
export async function fanOut(
  kube: KubeClients,
  fleet: AgentFleet,
  other: AgentFleet,
  deletions: DeletionLog,
  options: { readonly pods: number; readonly qps: number; readonly timeoutMs: number },
  log: (message: string) => void,
): Promise<FanOutResult> {
  const started = Date.now();
  const fanned = () =>
    deletions.deletions.filter(
      (d) => d.at >= started && d.labels.fanout === "yes" && d.namespace === fleet.namespace,
    );
  await createPodChaos(kube, {
    namespace: fleet.namespace,
    name: "fan-out",
    labels: { fanout: "yes" },
    mode: "all",
  });
  while (fanned().length < options.pods / 4) await bounded(started, options.timeoutMs);
  const secondCreated = Date.now();
  await createPodChaos(kube, {
    namespace: other.namespace,
    name: "meanwhile",
    labels: { [fleetLabel.key]: fleetLabel.value },
    mode: "one",
  });
  log(
    `  fan-out: ${fanned().length} pods deleted after ${secondCreated - started} ms; second PodChaos created`,
  );
  let second: number | undefined;
  let lastReport = Date.now();
  while (fanned().length < options.pods) {
    second ??= deletions.deletions.find((d) => d.at >= secondCreated && d.namespace === other.namespace)?.at;
    if (Date.now() - lastReport > 10_000) {
      log(`  fan-out: ${fanned().length} of ${options.pods} after ${Date.now() - started} ms`);
      lastReport = Date.now();
    }
    await bounded(started, options.timeoutMs);
  }
  second ??= (await deletions.first(secondCreated, (d) => d.namespace === other.namespace, 120_000)).at;
  const last = Math.max(...fanned().map((d) => d.at));
  return {
    pods: options.pods,
    durationMs: last - started,
    minimumMs: (options.pods / options.qps) * 1000,
    secondCreatedAfterMs: secondCreated - started,
    secondFirstDeleteMs: second - secondCreated,
  };
}

async function bounded(started: number, timeoutMs: number): Promise<void> {
  if (Date.now() - started > timeoutMs) throw new Error(`the fan-out was not done after ${timeoutMs} ms`);
  await sleep(20);
}
