import { stringify } from "yaml";
import type { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { branch, type RepositoryFile } from "./flux-repo.js";

/*
 * What `sandbox up --with flux --flux-interval D` puts under Flux: the manifests it is given (the CLI gives
 * the demo fleet) committed to the sandbox's repository in one directory, a GitRepository pointing at the
 * git server, and a Kustomization applying that directory every D with pruning on. Pure: the files and
 * objects, no I/O (flux.ts commits and applies them).
 */

export const fluxNamespace = "flux-system";
/** The repository's name (served as /fleet.git), and the GitRepository's and Kustomization's. */
export const fleetRepository = "fleet";
export const syncName = "fleet";
/** The directory of the repository the Kustomization applies. */
export const fleetPath = "fleet";

/** A manifest to commit: any Kubernetes object with its apiVersion, kind and name. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

export function isManifest(value: unknown): value is Manifest {
  if (typeof value !== "object" || value === null) return false;
  const object = value as Partial<Record<keyof Manifest, unknown>>;
  const metadata = object.metadata as { name?: unknown } | undefined;
  return (
    typeof object.apiVersion === "string" &&
    typeof object.kind === "string" &&
    typeof metadata?.name === "string" &&
    metadata.name !== ""
  );
}

/** kustomization.yaml and one multi-document manifests.yaml (file names fixed: no object name becomes a path). */
export function fleetFiles(manifests: readonly unknown[]): RepositoryFile[] {
  const bad = manifests.findIndex((manifest) => !isManifest(manifest));
  if (bad >= 0)
    throw usageError("manifests", `item ${bad} is not a Kubernetes object with apiVersion, kind and name`);
  if (manifests.length === 0) throw usageError("manifests", "nothing to put under Flux");
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: ["manifests.yaml"],
  };
  return [
    { path: "kustomization.yaml", text: stringify(kustomization) },
    { path: "manifests.yaml", text: manifests.map((manifest) => stringify(manifest)).join("---\n") },
  ];
}

export function namespaceManifest(): Manifest {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: fluxNamespace } };
}

/** The revision Flux reports once it has applied commit `sha` of the branch. */
export function appliedRevision(sha: string): string {
  return `${branch}@sha1:${sha}`;
}

/**
 * The GitRepository and the Kustomization, both at `interval`. `requestedAt` (Flux's
 * reconcile.fluxcd.io/requestedAt annotation) makes both act at once on a new commit instead of at their
 * next interval.
 */
export function syncManifests(gitUrl: string, interval: Duration, requestedAt: string): object[] {
  const metadata = {
    name: syncName,
    namespace: fluxNamespace,
    annotations: { "reconcile.fluxcd.io/requestedAt": requestedAt },
  };
  return [
    {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata,
      spec: { url: gitUrl, ref: { branch }, interval: interval.toString(), timeout: "30s" },
    },
    {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata,
      spec: {
        sourceRef: { kind: "GitRepository", name: syncName },
        path: `./${fleetPath}`,
        interval: interval.toString(),
        // What is removed from Git is deleted from the cluster, as a real GitOps set-up does.
        prune: true,
        // Pods of kwok's nodes run nothing: waiting on their health would measure kwok, not Flux.
        wait: false,
        timeout: "1m",
      },
    },
  ];
}

export function yamlDocuments(objects: readonly object[]): string {
  return objects.map((object) => stringify(object)).join("---\n");
}
