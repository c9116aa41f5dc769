// Decoding a LIST of --pods pods: JSON.parse alone (what listWire does, src/kube/client.ts) against
// JSON.parse then client-node's ObjectSerializer into V1PodList (what a typed list call does), side by
// side in one process, alternating round by round. The pods are shaped as a kube-controller-manager and
// kwok leave them (managedFields, tolerations, conditions, a container status), about 2.2 KB each.
//
//   npx tsx bench/list-decode.ts [--pods 10000] [--rounds 7]
//
// Prints the median ms of each and their ratio; not part of `npm test`. See docs/benchmarks.md.
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

interface Serializer {
  deserialize(data: unknown, type: string): unknown;
}

/** client-node does not export its ObjectSerializer; the typed calls use this one. */
function objectSerializer(): Serializer {
  const require = createRequire(import.meta.url);
  const path = require
    .resolve("@kubernetes/client-node")
    .replace(/index\.js$/, "gen/models/ObjectSerializer.js");
  return (require(path) as { ObjectSerializer: Serializer }).ObjectSerializer;
}

function pod(index: number): object {
  const at = "2026-12-07T03:00:00Z";
  return {
    metadata: {
      name: `pod-${index}`,
      namespace: "bench",
      uid: `0b6c4c6e-${index}`,
      resourceVersion: String(10_000 + index),
      creationTimestamp: at,
      labels: { app: "bench", "pod-template-hash": "7f9c" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "w-7f9c",
          uid: "w",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: at,
          fieldsType: "FieldsV1",
          fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} } } },
        },
        {
          manager: "kwok",
          operation: "Update",
          apiVersion: "v1",
          time: at,
          fieldsType: "FieldsV1",
          subresource: "status",
          fieldsV1: { "f:status": { "f:conditions": {} } },
        },
      ],
    },
    spec: {
      nodeName: `kwok-node-${index % 100}`,
      containers: [
        {
          name: "app",
          image: "registry.example/app",
          resources: {},
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "Always",
          ports: [{ containerPort: 8080, protocol: "TCP" }],
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      schedulerName: "default-scheduler",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
    },
    status: {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: at },
        { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: at },
      ],
      hostIP: "10.0.0.1",
      podIP: "10.0.0.2",
      startTime: at,
      containerStatuses: [
        {
          name: "app",
          state: { running: { startedAt: at } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: "registry.example/app",
          imageID: "",
          started: true,
        },
      ],
      qosClass: "BestEffort",
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const { values } = parseArgs({
  options: { pods: { type: "string", default: "10000" }, rounds: { type: "string", default: "7" } },
});
const pods = Number(values.pods);
const rounds = Number(values.rounds);
const body = JSON.stringify({
  kind: "PodList",
  apiVersion: "v1",
  metadata: {},
  items: Array.from({ length: pods }, (_, i) => pod(i)),
});
const serializer = objectSerializer();
const wire: number[] = [];
const typed: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  let started = performance.now();
  JSON.parse(body);
  wire.push(performance.now() - started);
  started = performance.now();
  serializer.deserialize(JSON.parse(body), "V1PodList");
  typed.push(performance.now() - started);
}
process.stdout.write(
  `${pods} pods (${(body.length / 1e6).toFixed(1)} MB), median of ${rounds}: wire JSON ${median(wire).toFixed(0)} ms, ` +
    `typed ${median(typed).toFixed(0)} ms (${(median(typed) / median(wire)).toFixed(2)}x)\n`,
);
