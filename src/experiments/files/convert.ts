import type { Scalar } from "yaml";
import { isMap, isScalar, parseAllDocuments } from "yaml";
import { BroadsideError, usageError } from "../../core/errors.js";
import { isRecord } from "../../core/objects.js";
import { parseExperimentFile } from "./load.js";
import type { LoadedExperiment } from "./model.js";
import { chaosMeshApiVersion, experimentApiVersion } from "./model.js";
import type { ResourceKind } from "./resources.js";
import { resourceSpecs } from "./resources.js";

/**
 * `broadside convert FILE`: a Chaos Mesh PodChaos or Schedule becomes Broadside's own resource by changing
 * its apiVersion and nothing else, since Broadside's group takes Chaos Mesh's spec field for field. The
 * file is checked first, as `broadside run` checks it, and must be something the agent serves; the
 * rewrite then replaces the apiVersion's value in the text where the YAML parser found it, so comments,
 * quoting, key order and layout stay as they were.
 */

/** What the agent serves under broadside.dev among Chaos Mesh's kinds. */
const convertible = ["PodChaos", "Schedule"] as const satisfies readonly ResourceKind[];
type Convertible = (typeof convertible)[number];

function isConvertible<T extends { readonly kind: string }>(loaded: T): loaded is T & { kind: Convertible } {
  return (convertible as readonly string[]).includes(loaded.kind);
}

/** The manifest checked, and refused unless the agent can serve it under broadside.dev. */
function checkedManifest(text: string, fileName: string): LoadedExperiment & { kind: Convertible } {
  const loaded = parseExperimentFile(text, fileName);
  if (loaded.apiVersion !== chaosMeshApiVersion) {
    throw usageError(
      `${fileName}: apiVersion`,
      `${loaded.apiVersion} is not Chaos Mesh's (${chaosMeshApiVersion}); nothing to convert`,
    );
  }
  if (!isConvertible(loaded)) {
    throw usageError(
      `${fileName}: kind`,
      `${loaded.kind} is not served by Broadside's agent yet (broadside run runs a NetworkChaos bandwidth or partition); convert takes ${convertible.join(" and ")}`,
    );
  }
  if (!loaded.runnable) {
    throw new BroadsideError(
      "BRD_NOT_RUNNABLE",
      `${fileName}: ${loaded.kind} ${loaded.name}: ${loaded.reason}`,
    );
  }
  return loaded;
}

/** The apiVersion scalar of the one document with content (parseExperimentFile made sure there is one). */
function apiVersionNode(text: string): Scalar {
  const document = parseAllDocuments(text, { merge: true }).find((each) => isMap(each.contents));
  const contents = document?.contents;
  const node = isMap(contents) ? contents.get("apiVersion", true) : undefined;
  if (!isScalar(node) || node.range === undefined || node.range === null) {
    throw new BroadsideError("BRD_INTERNAL", "a checked manifest without an apiVersion scalar");
  }
  return node;
}

/** The new value written in the old one's quoting. */
function quotedLike(node: Scalar, value: string): string {
  if (node.type === "QUOTE_DOUBLE") return JSON.stringify(value);
  if (node.type === "QUOTE_SINGLE") return `'${value}'`;
  return value;
}

/**
 * The manifest's text under broadside.dev/v1alpha1. Throws BRD_USAGE naming the field for a bad
 * manifest or a kind Broadside does not serve, BRD_NOT_RUNNABLE for an action or type it does not serve.
 */
export function convertChaosMeshManifest(
  text: string,
  fileName: string,
): { readonly text: string; readonly warnings: readonly string[] } {
  const loaded = checkedManifest(text, fileName);
  const warnings = [...loaded.warnings, ...servingNotes(loaded)];
  const node = apiVersionNode(text);
  const [start, end] = node.range ?? [0, 0];
  const converted = `${text.slice(0, start)}${quotedLike(node, experimentApiVersion)}${text.slice(end)}`;
  checkResource(converted, fileName, loaded.kind);
  return { text: converted, warnings };
}

/**
 * What the agent needs to serve the converted manifest beyond the CRDs. Every PodChaos action is served
 * (resources.ts); container-kill only by an agent started with --node-daemons, where node daemons run.
 */
function servingNotes(loaded: LoadedExperiment & { kind: Convertible }): string[] {
  const action = loaded.kind === "PodChaos" ? loaded.action : podChaosActionOf(loaded);
  if (action !== "container-kill") return [];
  return [
    "container-kill is served by an agent started with --node-daemons, where a node daemon (broadside daemon) runs on the pods' nodes; any other agent refuses it (Failed, reason NoNodeDaemons)",
  ];
}

function podChaosActionOf(loaded: LoadedExperiment): string | undefined {
  return loaded.kind === "Schedule" && loaded.chaos.kind === "PodChaos" ? loaded.chaos.action : undefined;
}

/** What kubectl apply will meet: the resource's own spec schema, which the CRD is generated from. */
function checkResource(text: string, fileName: string, kind: Convertible): void {
  const reread = parseExperimentFile(text, fileName);
  const spec: unknown = parseAllDocuments(text, { merge: true })
    .map((document) => document.toJS({ maxAliasCount: 100 }) as unknown)
    .find(isRecord)?.spec;
  const result = resourceSpecs[kind].safeParse(spec);
  if (reread.kind !== kind || !result.success) {
    const issues =
      result.error?.issues.map((issue) => `spec.${issue.path.join(".")}: ${issue.message}`) ?? [];
    throw usageError(fileName, `is not a valid ${experimentApiVersion} ${kind}: ${issues.join("; ")}`);
  }
}
