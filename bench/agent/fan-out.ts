import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClients } from "../../src/kube/client.js";
import type { DeletionLog } from "./deletions.js";
import { fleetLabel, type AgentFleet } from "./fleet.js";
import { createPodChaos } from "./podchaos.js";

export interface FanOutResult {
  readonly pods: number;
  /** From the create of the mode-all PodChaos to the watch event of its first pod's deletion. */
  readonly firstDeleteMs: number;
  /** From the create of the mode-all PodChaos to the watch event of its last pod's deletion. */
  readonly durationMs: number;
  /** The limit's minimum: one request per pod at `qps`. */
  readonly minimumMs: number;
  /** The second PodChaos: created when a quarter of the fan-out was done, timed to its first DELETE. */
  readonly secondCreatedAfterMs: number;
  readonly secondFirstDeleteMs: number | undefined;
  /**
   * API requests the agent sent from the fan-out's create to its last deletion, by verb (its
   * broadside_api_request_duration_seconds_count, retries included): a pod costs one DELETE, the ledger
   * one create and one update per volley (ADR 0016), the rest is the agent's other work meanwhile.
   */
  readonly agentRequests: Readonly<Record<string, number>> | undefined;
}

/** Requests the agent has sent so far, by verb, read from its /metrics; undefined if it did not answer. */
export async function agentRequestsByVerb(metricsUrl: string): Promise<Record<string, number> | undefined> {
  const text = await fetch(metricsUrl).then(
    (response) => (response.ok ? response.text() : undefined),
    () => undefined,
  );
  if (text === undefined) return undefined;
  const counts: Record<string, number> = {};
  const line = /^broadside_api_request_duration_seconds_count\{([^}]*)\} (\S+)$/;
  for (const match of text.split("\n").map((row) => line.exec(row))) {
    if (match === null) continue;
    const verb = /verb="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? "other";
    counts[verb] = (counts[verb] ?? 0) + Number(match[2]);
  }
  return counts;
}

function difference(
  after: Readonly<Record<string, number>> | undefined,
  before: Readonly<Record<string, number>> | undefined,
): Record<string, number> | undefined {
  if (after === undefined || before === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(after)
      .map(([verb, count]) => [verb, count - (before[verb] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
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
  options: {
    readonly pods: number;
    readonly qps: number;
    readonly timeoutMs: number;
    /** The agent's /metrics, to count the requests it sends during the fan-out. */
    readonly metricsUrl?: string;
  },
  log: (message: string) => void,
): Promise<FanOutResult> {
  const requestsBefore =
    options.metricsUrl === undefined ? undefined : await agentRequestsByVerb(options.metricsUrl);
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
  const requestsAfter =
    options.metricsUrl === undefined ? undefined : await agentRequestsByVerb(options.metricsUrl);
  return {
    pods: options.pods,
    firstDeleteMs: Math.min(...fanned().map((d) => d.at)) - started,
    agentRequests: difference(requestsAfter, requestsBefore),
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
