import { parseAllDocuments, parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { appliedRevision, fleetFiles, syncManifests } from "./flux-sync.js";

/*
 * What `--flux-interval` puts in the sandbox's repository and in the cluster: the manifests in one
 * directory, and a GitRepository and a Kustomization at the interval, pruning what Git drops.
 */

const configMap = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "checkout-config", namespace: "demo-payments" },
  data: { "payment.timeout": "5s" },
};
const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo-payments" } };

describe("the fleet's files", () => {
  it("are a kustomization.yaml naming one manifests.yaml that holds every object, in order", () => {
    const files = fleetFiles([namespace, configMap]);
    expect(files.map((file) => file.path)).toEqual(["kustomization.yaml", "manifests.yaml"]);
    expect(parse(files[0]?.text ?? "")).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["manifests.yaml"],
    });
    const documents = parseAllDocuments(files[1]?.text ?? "");
    expect(Array.isArray(documents) && documents.map((document) => document.toJS() as unknown)).toEqual([
      namespace,
      configMap,
    ]);
  });

  it("refuse something that is not an object with apiVersion, kind and name, and an empty list", () => {
    expect(() => fleetFiles([namespace, { kind: "ConfigMap", metadata: { name: "x" } }])).toThrow(
      "manifests: item 1 is not a Kubernetes object",
    );
    expect(() => fleetFiles([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "" } }])).toThrow(
      "item 0",
    );
    expect(() => fleetFiles([])).toThrow("nothing to put under Flux");
  });
});

describe("the sync objects", () => {
  const [gitRepository, kustomization] = syncManifests(
    "http://127.0.0.1:4100/fleet.git",
    Duration.parse("10s", "--flux-interval"),
    "2026-12-07T13:00:00.000Z",
  ) as [Record<string, unknown>, Record<string, unknown>];

  it("point a GitRepository at the sandbox's git server, branch main, at the interval", () => {
    expect(gitRepository).toMatchObject({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "fleet", namespace: "flux-system" },
      spec: { url: "http://127.0.0.1:4100/fleet.git", ref: { branch: "main" }, interval: "10s" },
    });
  });

  it("apply the fleet directory with a Kustomization at the interval, pruning, not waiting on kwok's pods", () => {
    expect(kustomization).toMatchObject({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: "fleet", namespace: "flux-system" },
      spec: {
        sourceRef: { kind: "GitRepository", name: "fleet" },
        path: "./fleet",
        interval: "10s",
        prune: true,
        wait: false,
      },
    });
  });

  it("ask both to act at once on a new commit rather than at their next interval", () => {
    for (const object of [gitRepository, kustomization]) {
      expect(object).toMatchObject({
        metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "2026-12-07T13:00:00.000Z" } },
      });
    }
  });

  it("write the interval as Flux reads it, and the revision as Flux reports it", () => {
    const [, slow] = syncManifests("http://x", Duration.parse("5m", "--flux-interval"), "t") as [
      unknown,
      { spec: { interval: string } },
    ];
    expect(slow.spec.interval).toBe("5m");
    expect(appliedRevision("0123abcd")).toBe("main@sha1:0123abcd");
  });
});
