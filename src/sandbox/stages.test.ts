import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { kwokConfigFile, type PodLifecycle } from "./stages.js";

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

interface KwokDocument {
  kind: string;
  metadata: { name: string };
  spec: { delay?: Record<string, unknown> };
  options?: Record<string, unknown>;
}

function documents(): KwokDocument[] {
  return parseAllDocuments(kwokConfigFile(upstream, lifecycle)).map((doc) => doc.toJS() as KwokDocument);
}

function stages(): Map<string, KwokDocument> {
  return new Map(
    documents()
      .filter((doc) => doc.kind === "Stage")
      .map((doc) => [doc.metadata.name, doc]),
  );
}

describe("kwok's own configuration", () => {
  it("turns off the unauthenticated debugging endpoints (exec, attach, port-forward, logs) and /debug/pprof", () => {
    const [first] = documents();
    expect(first?.kind).toBe("KwokConfiguration");
    expect(first?.options).toMatchObject({
      enableDebuggingHandlers: false,
      enableProfilingHandler: false,
      enableContentionProfiling: false,
    });
  });

  it("restates kwok's defaults, which it skips once a KwokConfiguration is given (a parallelism of 0 stops it)", () => {
    expect(documents()[0]?.options).toMatchObject({
      podPlayStageParallelism: 4,
      nodePlayStageParallelism: 4,
      nodeLeaseParallelism: 4,
      podsOnNodeSyncParallelism: 1,
    });
  });
});

describe("kwok's stage configuration", () => {
  it("keeps every upstream stage, in one multi-document file", () => {
    expect([...stages().keys()]).toEqual([
      "pod-ready",
      "pod-delete",
      "node-initialize",
      "broadside-container-image-change",
    ]);
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

describe("the sandbox's own Stage: a container image changed in place restarts the container", () => {
  it("comes after the upstream Stages, matches only running pods whose status lags the spec's images", () => {
    const all = documents().filter((doc) => doc.kind === "Stage");
    const stage = all.at(-1) as unknown as {
      metadata: { name: string };
      spec: {
        selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
        delay: { durationMilliseconds: number; jitterDurationMilliseconds: number };
        next: { statusTemplate: string };
      };
    };
    expect(stage.metadata.name).toBe("broadside-container-image-change");
    expect(stage.spec.selector.matchExpressions.map((e) => [e.key, e.operator, e.values])).toEqual([
      [".metadata.deletionTimestamp", "DoesNotExist", undefined],
      [".status.phase", "In", ["Running"]],
      [expect.stringContaining('[.spec.containers[] | .name + "=" + .image]'), "In", ["true"]],
    ]);
    // The restart and the readiness probe take what a new pod's containers take to turn Ready.
    expect(stage.spec.delay).toEqual({ durationMilliseconds: 3000, jitterDurationMilliseconds: 5000 });
    expect(stage.spec.next.statusTemplate).toContain(
      'restartCount: {{ add (default 0 (get $old "restartCount")) 1 }}',
    );
  });
});
