import type { Clock } from "../../core/clock.js";
import { redactUrl } from "../../core/redact.js";
import type { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import type { WatchSources } from "../../kube/watch/source.js";
import type { KubernetesCondition, Probe } from "../files/model.js";
import { startHttpProbe, type RunningProbe } from "../probes/http-probe.js";
import { startKubernetesProbe } from "../probes/kubernetes-probe.js";
import { startPrometheusProbe } from "../probes/prometheus-probe.js";
import type { ProbeSpec } from "../report/run-report.js";
import type { Sample } from "../report/samples.js";

/** The probes of a run, started together and stopped together. */

export interface ProbeSetOptions {
  readonly watches: WatchSources;
  readonly clock: Clock;
  readonly loopbackOnly: boolean;
  readonly prometheusUrl?: string;
  readonly onSample: (sample: Sample) => void;
  readonly onError: (error: BroadsideError) => void;
}

/** A kubernetes probe samples on every watch event and at this rate, so availability has a time base. */
const kubernetesSampleHz = 1;

export async function startProbes(
  probes: readonly Probe[],
  options: ProbeSetOptions,
): Promise<{ stop(): Promise<void> }> {
  const started: RunningProbe[] = [];
  try {
    for (const probe of probes) started.push(await startProbe(probe, options));
  } catch (error: unknown) {
    await Promise.all(started.map((probe) => probe.stop()));
    throw error;
  }
  return {
    stop: async () => {
      await Promise.all(started.map((probe) => probe.stop()));
    },
  };
}

async function startProbe(probe: Probe, options: ProbeSetOptions): Promise<RunningProbe> {
  const common = { clock: options.clock, onSample: options.onSample, loopbackOnly: options.loopbackOnly };
  if (probe.type === "http") return startHttpProbe(probe, common);
  if (probe.type === "prometheus") {
    return startPrometheusProbe(probe, {
      ...common,
      ...optional("defaultUrl", options.prometheusUrl),
    });
  }
  return startKubernetesProbe(probe, {
    sourceFor: (path, fieldSelector) =>
      options.watches({ path, ...optional("fieldSelector", fieldSelector) }),
    clock: options.clock,
    onSample: options.onSample,
    frequencyHz: kubernetesSampleHz,
    onError: options.onError,
  });
}

function describeCondition(condition: KubernetesCondition): string {
  switch (condition.type) {
    case "readyReplicasAtLeast":
      return `ready replicas >= ${String(condition.count)}`;
    case "restartCountAtMost":
      return `restarts <= ${String(condition.count)}`;
    case "statusCondition":
      return `${condition.conditionType} is True`;
    case "allPodsReady":
      return "all pods Ready";
  }
}

/** What the report says about each probe: its sampling interval and, for people, what it probes. */
export function probeSpecOf(probe: Probe): ProbeSpec {
  if (probe.type === "http") {
    return {
      name: probe.name,
      intervalMs: 1000 / probe.frequencyHz,
      target: `${probe.method} ${redactUrl(probe.url)}`,
    };
  }
  if (probe.type === "prometheus") {
    return { name: probe.name, intervalMs: 1000 / probe.frequencyHz, target: `PromQL ${probe.query}` };
  }
  const { kind, namespace, name } = probe.target;
  return {
    name: probe.name,
    intervalMs: 1000 / kubernetesSampleHz,
    target: `${kind} ${namespace}/${name}: ${describeCondition(probe.condition)}`,
  };
}
