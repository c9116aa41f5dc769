// Decoding a LIST of --pods pods: JSON.parse alone (what listWire does, src/kube/client.ts) against
// JSON.parse then client-node's ObjectSerializer into V1PodList (what a typed list call does), side by
// side in one process, alternating round by round. The pods are shaped as a kube-controller-manager and
// kwok leave them (managedFields, tolerations, conditions, a container status), about 2.2 KB each.
//
//   npx tsx bench/list-decode.ts [--pods 10000] [--rounds 7]
//
// Prints the median ms of each and their ratio; not part of `npm test`. See docs/benchmarks.md.
// Also the wire client's two ways to read the pods' LIST (ADR 0035), side by side on the same pods: the
// JSON text parsed and trimmed (trimPod), against the same pods in protobuf decoded by decodePodList.
// The protobuf bytes are written here (pbPod: the fields decodePodList reads as Go writes them, the
// others as opaque fields of their JSON's size, so the reader skips as much as it would).
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { trimPod } from "../src/kube/trimmed.js";
import { decodePodList } from "../src/kube/wire/protobuf.js";

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

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A protobuf field: varint for numbers and booleans, length-delimited for text and bytes. */
function pb(number: number, value: number | boolean | string | Buffer): Buffer {
  if (typeof value === "number" || typeof value === "boolean")
    return Buffer.from([...varint(number << 3), ...varint(Number(value))]);
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([...varint((number << 3) | 2), ...varint(bytes.length)]), bytes]);
}

/** A skipped field as large as its JSON: the reader steps over it by its length. */
const opaque = (number: number, json: unknown): Buffer =>
  pb(number, Buffer.alloc(Buffer.byteLength(JSON.stringify(json)), 0x61));

function pbPod(index: number): Buffer {
  const json = pod(index) as {
    metadata: { managedFields: unknown[] };
    spec: { containers: unknown[]; tolerations: unknown[] };
    status: { containerStatuses: unknown[] };
  };
  const time = Buffer.concat([pb(1, 1_796_612_400), pb(2, 0)]);
  const entry = (key: string, value: string) => Buffer.concat([pb(1, key), pb(2, value)]);
  const owner = Buffer.concat([
    pb(1, "ReplicaSet"),
    pb(3, "w-7f9c"),
    pb(4, "w"),
    pb(5, "apps/v1"),
    pb(6, true),
    pb(7, true),
  ]);
  const metadata = Buffer.concat([
    pb(1, `pod-${index}`),
    pb(2, ""),
    pb(3, "bench"),
    pb(4, ""),
    pb(5, `0b6c4c6e-${index}`),
    pb(6, String(10_000 + index)),
    pb(7, 0),
    pb(8, time),
    pb(11, entry("app", "bench")),
    pb(11, entry("pod-template-hash", "7f9c")),
    pb(13, owner),
    ...json.metadata.managedFields.map((field) => opaque(17, field)),
  ]);
  const spec = Buffer.concat([
    ...json.spec.containers.map((container) => opaque(2, container)),
    pb(3, "Always"),
    pb(4, 30),
    pb(6, "ClusterFirst"),
    pb(8, "default"),
    pb(10, `kwok-node-${index % 100}`),
    pb(11, false),
    pb(12, false),
    pb(13, false),
    pb(19, "default-scheduler"),
    ...json.spec.tolerations.map((toleration) => opaque(22, toleration)),
    pb(25, 0),
    pb(30, true),
  ]);
  const condition = (type: string) =>
    Buffer.concat([pb(1, type), pb(2, "True"), pb(3, Buffer.alloc(0)), pb(4, time), pb(5, ""), pb(6, "")]);
  const status = Buffer.concat([
    pb(1, "Running"),
    pb(2, condition("Ready")),
    pb(2, condition("PodScheduled")),
    pb(3, ""),
    pb(4, ""),
    pb(5, "10.0.0.1"),
    pb(6, "10.0.0.2"),
    pb(7, time),
    ...json.status.containerStatuses.map((containerStatus) => opaque(8, containerStatus)),
    pb(9, "BestEffort"),
  ]);
  return pb(2, Buffer.concat([pb(1, metadata), pb(2, spec), pb(3, status)]));
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
const protobuf = Buffer.concat([
  Buffer.from([0x6b, 0x38, 0x73, 0x00]),
  pb(1, Buffer.concat([pb(1, "v1"), pb(2, "PodList")])),
  pb(2, Buffer.concat([pb(1, Buffer.alloc(0)), ...Array.from({ length: pods }, (_, i) => pbPod(i))])),
  pb(3, ""),
  pb(4, ""),
]);
const serializer = objectSerializer();
const trimmedJson: number[] = [];
const decoded: number[] = [];
const wire: number[] = [];
const typed: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  let started = performance.now();
  JSON.parse(body);
  wire.push(performance.now() - started);
  started = performance.now();
  serializer.deserialize(JSON.parse(body), "V1PodList");
  typed.push(performance.now() - started);
  started = performance.now();
  (JSON.parse(Buffer.from(body).toString("utf8")) as { items: V1Pod[] }).items.map(trimPod);
  trimmedJson.push(performance.now() - started);
  started = performance.now();
  decodePodList(protobuf);
  decoded.push(performance.now() - started);
}
process.stdout.write(
  `${pods} pods (${(body.length / 1e6).toFixed(1)} MB), median of ${rounds}: wire JSON ${median(wire).toFixed(0)} ms, ` +
    `typed ${median(typed).toFixed(0)} ms (${(median(typed) / median(wire)).toFixed(2)}x)\n` +
    `the wire client: JSON text to trimmed pods ${median(trimmedJson).toFixed(0)} ms, protobuf ` +
    `(${(protobuf.length / 1e6).toFixed(1)} MB) to the same pods ${median(decoded).toFixed(0)} ms ` +
    `(${(median(trimmedJson) / median(decoded)).toFixed(1)}x faster)\n`,
);
