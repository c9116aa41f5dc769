import { BroadsideError } from "../../core/errors.js";
import { isRecord, optional } from "../../core/objects.js";
import { loadNetworkChaos } from "./chaos-mesh/network-chaos.js";
import { loadPodChaos } from "./chaos-mesh/pod-chaos.js";
import { loadSchedule } from "./chaos-mesh/schedule.js";
import { loadStressChaos } from "./chaos-mesh/stress-chaos.js";
import type { LoadContext } from "./context.js";
import { loadExperiment } from "./experiment.js";
import type { LoadedExperiment } from "./model.js";
import { chaosMeshApiVersion, experimentApiVersion } from "./model.js";
import { describeValue, Problems } from "./problems.js";
import { readSingleDocument } from "./yaml-source.js";

/**
 * The entry point of `broadside run FILE`, without the I/O: the file's text in, a checked model out, or
 * one usage error naming every bad field (`exp.yaml: spec.method[1].duration: must not be negative, got
 * "-5s" (line 14)`). Nothing here reads a cluster, so a malformed file can never inject anything.
 */

export interface ParseOptions {
  /**
   * The namespace of the kube context. Like Chaos Mesh's webhook, selectors that name no namespace
   * default to the manifest's metadata.namespace, and a manifest without one is applied to this.
   */
  readonly defaultNamespace?: string;
}

type Loader = (context: LoadContext) => LoadedExperiment | undefined;

/** Every kind Broadside reads, by apiVersion and kind. */
const loaders: Readonly<Record<string, Readonly<Record<string, Loader>>>> = {
  // PodChaos, Schedule and NetworkChaos under Broadside's group are Chaos Mesh's, read by the same loaders.
  [experimentApiVersion]: {
    Experiment: loadExperiment,
    PodChaos: loadPodChaos,
    Schedule: loadSchedule,
    NetworkChaos: loadNetworkChaos,
  },
  [chaosMeshApiVersion]: {
    PodChaos: loadPodChaos,
    Schedule: loadSchedule,
    NetworkChaos: loadNetworkChaos,
    StressChaos: loadStressChaos,
  },
};

export const supportedKinds: readonly string[] = Object.entries(loaders).flatMap(([apiVersion, kinds]) =>
  Object.keys(kinds).map((kind) => `${apiVersion} ${kind}`),
);

/** "broadside.dev/v1alpha1 Experiment; chaos-mesh.org/v1alpha1 PodChaos, Schedule, ...", for messages. */
const supportedText = Object.entries(loaders)
  .map(([apiVersion, kinds]) => `${apiVersion} ${Object.keys(kinds).join(", ")}`)
  .join("; ");

function usage(message: string): BroadsideError {
  return new BroadsideError("BRD_USAGE", message);
}

/** Own properties only: `kind: constructor` must not find Object's constructor. */
function ownLoader(apiVersion: string, kind: string): Loader | undefined {
  const kinds = Object.hasOwn(loaders, apiVersion) ? loaders[apiVersion] : undefined;
  return kinds !== undefined && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
}

function loaderFor(document: Readonly<Record<string, unknown>>, fileName: string): Loader {
  const { apiVersion, kind } = document;
  const missing = [apiVersion === undefined ? "apiVersion" : "", kind === undefined ? "kind" : ""].filter(
    Boolean,
  );
  if (missing.length > 0) {
    throw usage(
      missing.map((field) => `${fileName}: ${field}: is required`).join("\n") +
        `\n${fileName}: Broadside reads ${supportedText}`,
    );
  }
  const loader =
    typeof apiVersion === "string" && typeof kind === "string" ? ownLoader(apiVersion, kind) : undefined;
  if (loader !== undefined) return loader;
  const resource = inClusterOnly(apiVersion, kind);
  if (resource !== undefined) throw usage(`${fileName}: kind: ${resource}`);
  throw usage(
    `${fileName}: kind: ${describeValue(kind)} (apiVersion ${describeValue(apiVersion)}) is not supported; ` +
      `Broadside reads ${supportedText}`,
  );
}

/** The object faults' resources, with the command-line verb and the Experiment step that run each fault. */
const inClusterKinds: Readonly<Record<string, { readonly verb: string; readonly step: string }>> = {
  ConfigDrift: { verb: "drift", step: "config-drift" },
  ResourceSqueeze: { verb: "squeeze", step: "resource-squeeze" },
  Scale: { verb: "scale", step: "scale" },
};

/** Why an in-cluster resource is not run from a file, or undefined when `kind` is not one. */
function inClusterOnly(apiVersion: unknown, kind: unknown): string | undefined {
  if (apiVersion !== experimentApiVersion || typeof kind !== "string") return undefined;
  const runs = Object.hasOwn(inClusterKinds, kind) ? inClusterKinds[kind] : undefined;
  if (runs === undefined) return undefined;
  return (
    `${kind} is a resource for the cluster (kubectl apply, served by the agent: docs/agent.md) and is not ` +
    `run from a file; use \`broadside ${runs.verb}\`, or an Experiment whose method has a ${runs.step} step`
  );
}

function namespaceOf(document: Readonly<Record<string, unknown>>, options: ParseOptions): string | undefined {
  const metadata = document.metadata;
  const own = isRecord(metadata) && typeof metadata.namespace === "string" ? metadata.namespace : undefined;
  return own ?? options.defaultNamespace;
}

/**
 * Parses an experiment file: Broadside's `Experiment`, or a Chaos Mesh PodChaos, Schedule, NetworkChaos
 * or StressChaos as it is. `fileName` only names the file in messages. Throws BRD_USAGE errors.
 */
export function parseExperimentFile(
  text: string,
  fileName: string,
  options: ParseOptions = {},
): LoadedExperiment {
  const source = readSingleDocument(text, fileName);
  const document = source.data;
  if (!isRecord(document)) {
    throw usage(
      `${fileName}: must be a mapping with apiVersion, kind, metadata and spec, got ${describeValue(document)}`,
    );
  }
  const loader = loaderFor(document, fileName);
  const namespace = namespaceOf(document, options);
  const context: LoadContext = {
    fileName,
    root: document,
    problems: new Problems(),
    warnings: [...source.warnings],
    ...optional("namespace", namespace),
  };
  const loaded = loader(context);
  context.problems.throwIfAny(fileName, source.locate);
  if (loaded === undefined) {
    // Every loader records why it returned nothing; reaching this is a bug in the loader.
    throw new BroadsideError("BRD_INTERNAL", `${fileName}: could not be read, but no problem was recorded`);
  }
  return loaded;
}
