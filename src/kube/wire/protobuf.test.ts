import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { trimPod } from "../trimmed.js";
import { decodePodList, ProtobufError, statusJsonOf } from "./protobuf.js";

/*
 * The protobuf reader against bytes written here as Go's encoder writes them (generated.pb.go: every
 * string written even when empty, maps as key/value entries, optional booleans and pointers only when
 * set, zero times as empty messages). Each pod is also written as the JSON the server would send, and
 * the decoded pod must equal trimPod of that JSON: the shot sees the same pods either way. The real
 * server's bytes are compared the same way in test/integration/wire-client.test.ts.
 */

type Value = number | string | boolean | Buffer | readonly Value[];

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value < 0 ? value + 2 ** 64 : value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** One field: numbers and booleans as varints, strings and buffers length-delimited. */
function field(number: number, value: Value): Buffer {
  if (Array.isArray(value)) return Buffer.concat(value.map((item: Value) => field(number, item)));
  if (typeof value === "number" || typeof value === "boolean")
    return Buffer.from([...varint(number << 3), ...varint(Number(value))]);
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : (value as Buffer);
  return Buffer.concat([Buffer.from([...varint((number << 3) | 2), ...varint(bytes.length)]), bytes]);
}

const message = (...fields: Buffer[]): Buffer => Buffer.concat(fields);

/** A fixed64 and a fixed32 field, which no pod field read here is, to be skipped. */
const fixedFields = Buffer.concat([
  Buffer.from(varint((90 << 3) | 1)),
  Buffer.alloc(8, 7),
  Buffer.from(varint((91 << 3) | 5)),
  Buffer.alloc(4, 9),
]);

function envelope(kind: string, raw: Buffer, encoding = ""): Buffer {
  return Buffer.concat([
    Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    field(1, message(field(1, "v1"), field(2, kind))),
    field(2, raw),
    field(3, encoding),
    field(4, ""),
  ]);
}

const time = (iso: string): Buffer => message(field(1, Date.parse(iso) / 1000), field(2, 0));

const mapEntries = (map: Record<string, string>): Buffer[] =>
  Object.entries(map).map(([key, value]) => message(field(1, key), field(2, value)));

interface PodShape {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly owner?: { readonly controller?: boolean; readonly block?: boolean };
  readonly deleting?: string;
  readonly nodeName: string;
  readonly phase: string;
  readonly conditions: readonly { readonly type: string; readonly status: string }[];
}

/** The pod as Go's protobuf encoder writes it, the fields read here among many that are not. */
function podBytes(pod: PodShape): Buffer {
  const owner =
    pod.owner === undefined
      ? []
      : [
          message(
            field(1, "ReplicaSet"),
            field(3, "web-7f9c"),
            field(4, "rs-uid"),
            field(5, "apps/v1"),
            ...(pod.owner.controller === undefined ? [] : [field(6, pod.owner.controller)]),
            ...(pod.owner.block === undefined ? [] : [field(7, pod.owner.block)]),
          ),
        ];
  const metadata = message(
    field(1, pod.name),
    field(2, ""),
    field(3, "shop"),
    field(4, ""),
    field(5, `uid-${pod.name}`),
    field(6, "1234"),
    field(7, 0),
    field(8, time("2026-12-07T03:00:00Z")),
    ...(pod.deleting === undefined ? [] : [field(9, time(pod.deleting)), field(10, 30)]),
    ...mapEntries(pod.labels).map((entry) => field(11, entry)),
    ...mapEntries(pod.annotations).map((entry) => field(12, entry)),
    ...owner.map((reference) => field(13, reference)),
    field(14, "example.com/finalizer"),
    field(
      17,
      message(
        field(1, "kubelet"),
        field(2, "Update"),
        field(3, "v1"),
        field(4, time("2026-12-07T03:00:01Z")),
      ),
    ),
  );
  const spec = message(
    field(1, message(field(1, "data"))),
    field(2, message(field(1, "app"), field(2, "registry.example/app"), field(6, message(field(3, 8080))))),
    field(3, "Always"),
    field(4, 30),
    field(10, pod.nodeName),
    fixedFields,
  );
  const status = message(
    field(1, pod.phase),
    ...pod.conditions.map((condition) =>
      field(
        2,
        message(
          field(1, condition.type),
          field(2, condition.status),
          field(3, message()),
          field(4, time("2026-12-07T03:00:02Z")),
          field(5, ""),
          field(6, ""),
        ),
      ),
    ),
    field(3, ""),
    field(5, "10.0.0.1"),
    field(7, time("2026-12-07T03:00:02Z")),
    field(8, message(field(1, "app"), field(4, true), field(5, 0))),
    field(17, 1),
  );
  return message(field(1, metadata), field(2, spec), field(3, status));
}

/** The same pod as the API server's JSON (empty strings and maps left out, as omitempty does). */
function podJson(pod: PodShape): V1Pod {
  const metadata: Record<string, unknown> = {
    name: pod.name,
    namespace: "shop",
    uid: `uid-${pod.name}`,
    resourceVersion: "1234",
    creationTimestamp: "2026-12-07T03:00:00Z",
  };
  if (pod.deleting !== undefined) {
    metadata.deletionTimestamp = pod.deleting;
    metadata.deletionGracePeriodSeconds = 30;
  }
  if (Object.keys(pod.labels).length > 0) metadata.labels = pod.labels;
  if (Object.keys(pod.annotations).length > 0) metadata.annotations = pod.annotations;
  if (pod.owner !== undefined) {
    const reference: Record<string, unknown> = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web-7f9c",
      uid: "rs-uid",
    };
    if (pod.owner.controller !== undefined) reference.controller = pod.owner.controller;
    if (pod.owner.block !== undefined) reference.blockOwnerDeletion = pod.owner.block;
    metadata.ownerReferences = [reference];
  }
  metadata.finalizers = ["example.com/finalizer"];
  metadata.managedFields = [{ manager: "kubelet", operation: "Update", apiVersion: "v1" }];
  const status: Record<string, unknown> = { hostIP: "10.0.0.1", startTime: "2026-12-07T03:00:02Z" };
  if (pod.phase !== "") status.phase = pod.phase;
  if (pod.conditions.length > 0)
    status.conditions = pod.conditions.map((condition) => ({
      ...condition,
      lastProbeTime: null,
      lastTransitionTime: "2026-12-07T03:00:02Z",
    }));
  return {
    metadata,
    spec: {
      containers: [{ name: "app", image: "registry.example/app" }],
      ...(pod.nodeName === "" ? {} : { nodeName: pod.nodeName }),
    },
    status,
  };
}

const shapes: PodShape[] = [
  {
    name: "web-1",
    labels: { app: "web", "pod-template-hash": "7f9c" },
    annotations: { "example.com/note": "é ✓ 日本" },
    owner: { controller: true, block: true },
    nodeName: "kwok-node-1",
    phase: "Running",
    conditions: [
      { type: "Ready", status: "True" },
      { type: "PodScheduled", status: "True" },
    ],
  },
  {
    name: "web-2",
    labels: { app: "web" },
    annotations: {},
    owner: { controller: false },
    deleting: "2026-12-07T04:05:06Z",
    nodeName: "kwok-node-2",
    phase: "Running",
    conditions: [{ type: "Ready", status: "False" }],
  },
  { name: "bare", labels: {}, annotations: {}, nodeName: "", phase: "", conditions: [] },
  {
    name: "pending",
    labels: { app: "web" },
    annotations: { a: "" },
    owner: {},
    nodeName: "",
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False" }],
  },
];

function podList(pods: readonly PodShape[]): Buffer {
  return envelope(
    "PodList",
    message(field(1, message(field(2, "99"), field(3, ""))), ...pods.map((pod) => field(2, podBytes(pod)))),
  );
}

describe("decodePodList: the pods' LIST in protobuf, trimmed", () => {
  it("gives each pod exactly as trimPod gives the same pod's JSON", () => {
    const decoded = decodePodList(podList(shapes));
    expect(decoded).toEqual(shapes.map((shape) => trimPod(podJson(shape))));
    // The same key order as well, so that nothing printed from a pod differs either.
    expect(decoded.map((pod) => JSON.stringify(pod))).toEqual(
      shapes.map((shape) => JSON.stringify(trimPod(podJson(shape)))),
    );
  });

  it("reads an empty list and a zero creation time (JSON's null)", () => {
    expect(decodePodList(podList([]))).toEqual([]);
    const zero = envelope(
      "PodList",
      field(2, message(field(1, message(field(1, "p"), field(8, message()))))),
    );
    expect(decodePodList(zero)).toEqual([{ metadata: { name: "p", creationTimestamp: null }, status: {} }]);
  });

  it("refuses what is not a PodList in the protobuf envelope", () => {
    expect(() => decodePodList(Buffer.from('{"kind":"PodList"}'))).toThrow(ProtobufError);
    expect(() => decodePodList(envelope("Status", message()))).toThrow(/expected a PodList/);
    expect(() => decodePodList(envelope("PodList", message(), "gzip"))).toThrow(/content encoding "gzip"/);
    const cut = podList(shapes);
    expect(() => decodePodList(cut.subarray(0, cut.length - 40))).toThrow(ProtobufError);
  });
});

describe("statusJsonOf: a refusal in protobuf as the JSON the server would have sent", () => {
  it("writes the Status's fields in the JSON's order, empty ones left out", () => {
    const status = message(
      field(1, message(field(1, ""), field(2, ""))),
      field(2, "Failure"),
      field(3, 'pods is forbidden: User "x" cannot list resource "pods" in the namespace "shop"'),
      field(4, "Forbidden"),
      field(5, message(field(1, ""), field(2, ""), field(3, "pods"), field(6, ""), field(5, 0))),
      field(6, 403),
    );
    expect(JSON.parse(statusJsonOf(envelope("Status", status)))).toStrictEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods is forbidden: User "x" cannot list resource "pods" in the namespace "shop"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
  });

  it("keeps the causes and the retry delay of the details", () => {
    const status = message(
      field(2, "Failure"),
      field(4, "TooManyRequests"),
      field(
        5,
        message(
          field(4, message(field(1, "FieldValueInvalid"), field(2, "bad"), field(3, "spec.x"))),
          field(5, 3),
        ),
      ),
      field(6, 429),
    );
    expect(JSON.parse(statusJsonOf(envelope("Status", status)))).toStrictEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      reason: "TooManyRequests",
      details: {
        causes: [{ reason: "FieldValueInvalid", message: "bad", field: "spec.x" }],
        retryAfterSeconds: 3,
      },
      code: 429,
    });
  });
});
