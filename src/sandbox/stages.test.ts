import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { kwokStageConfig, type PodLifecycle } from "./stages.js";

const upstream = [
  `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  delay:
    durationMilliseconds: 1000
    durationFrom: {expressionFrom: '.metadata.annotations["pod-ready.stage.kwok.x-k8s.io/delay"]'}
    jitterDurationMilliseconds: 5000
`,
  `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete}
spec:
  delay:
    durationMilliseconds: 1000
    jitterDurationFrom: {expressionFrom: '.metadata.deletionTimestamp'}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-initialize}
spec: {next: {}}
`,
];

const lifecycle: PodLifecycle = {
  createDelay: Duration.parse("100ms", "x"),
  readyDelay: Duration.parse("3s", "x"),
  readyJitter: Duration.parse("2s", "x"),
  shutdownDelay: Duration.parse("500ms", "x"),
};

function stages(): Map<string, { spec: { delay?: Record<string, unknown> } }> {
  const docs = parseAllDocuments(kwokStageConfig(upstream, lifecycle)).map(
    (doc) => doc.toJS() as { metadata: { name: string }; spec: { delay?: Record<string, unknown> } },
  );
  return new Map(docs.map((doc) => [doc.metadata.name, doc]));
}

describe("kwok's stage configuration", () => {
  it("keeps every upstream stage, in one multi-document file", () => {
    expect([...stages().keys()]).toEqual(["pod-ready", "pod-delete", "node-initialize"]);
  });

  it("makes pods Ready after the configured delay plus up to the configured jitter", () => {
    const delay = stages().get("pod-ready")?.spec.delay;
    expect(delay?.durationMilliseconds).toBe(3000);
    expect(delay?.jitterDurationMilliseconds).toBe(5000);
  });

  it("keeps kwok's per-pod annotation overrides", () => {
    expect(stages().get("pod-ready")?.spec.delay?.durationFrom).toEqual({
      expressionFrom: '.metadata.annotations["pod-ready.stage.kwok.x-k8s.io/delay"]',
    });
  });

  it("gives deleted pods the shutdown delay but keeps the grace period as the upper bound", () => {
    const delay = stages().get("pod-delete")?.spec.delay;
    expect(delay?.durationMilliseconds).toBe(500);
    expect(delay?.jitterDurationFrom).toEqual({ expressionFrom: ".metadata.deletionTimestamp" });
  });

  it("leaves stages without delays alone", () => {
    expect(stages().get("node-initialize")?.spec).toEqual({ next: {} });
  });
});
