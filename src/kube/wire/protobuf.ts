import type {
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodCondition,
  V1PodStatus,
} from "@kubernetes/client-node";

/*
 * The pods' LIST in Kubernetes' protobuf encoding (issue 14, ADR 0035), read for the fields planning,
 * the rails, the faults and recovery timing use: exactly what kube/trimmed.ts trimPod keeps of the JSON
 * (identity, labels, annotations, owner references, creation and deletion times, the node, the phase,
 * the conditions' type and status), every other field skipped by its length. The API server encodes
 * protobuf in a fraction of the time it takes for JSON, sends about half the bytes, and skipping a field
 * costs one varint here where JSON.parse builds every object of it. client-go asks for protobuf for the
 * same reason.
 *
 * Field numbers are those of k8s.io/api core/v1 and k8s.io/apimachinery meta/v1 generated.proto (stable
 * since v1: a field number is never reused). Where JSON leaves an empty field out (omitempty) the Go
 * protobuf encoder still writes it, so empty strings and maps are left out here as the JSON does.
 */

/** The media type that asks for protobuf and takes JSON where the server has no protobuf. */
export const protobufAccept = "application/vnd.kubernetes.protobuf, application/json";

export const protobufMediaType = "application/vnd.kubernetes.protobuf";

/** The four bytes before every protobuf object the API server sends: "k8s" and a zero. */
const magic = [0x6b, 0x38, 0x73, 0x00];

const varintType = 0;
const fixed64Type = 1;
const lengthType = 2;
const fixed32Type = 5;

/** A malformed or unexpected protobuf answer. */
export class ProtobufError extends Error {}

/** A cursor over one message: its bytes from `pos` to `end`. */
class Message {
  constructor(
    readonly bytes: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  /** An unsigned varint up to 2^64 (exact to 2^53; an int64 above 2^63 is the negative it encodes). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let read = 0; read < 10; read += 1) {
      if (this.pos >= this.end) throw new ProtobufError("a varint runs past the end of its message");
      const byte = this.bytes[this.pos++] ?? 0;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value >= 2 ** 63 ? value - 2 ** 64 : value;
      scale *= 128;
    }
    throw new ProtobufError("a varint longer than 10 bytes");
  }

  /** The next length-delimited field as a message of its own; this cursor moves past it. */
  sub(): Message {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new ProtobufError("a field runs past the end of its message");
    return new Message(this.bytes, start, this.pos);
  }

  string(): string {
    const field = this.sub();
    return this.bytes.toString("utf8", field.pos, field.end);
  }

  skip(wireType: number): void {
    if (wireType === varintType) this.varint();
    else if (wireType === lengthType) this.sub();
    else if (wireType === fixed64Type) this.pos += 8;
    else if (wireType === fixed32Type) this.pos += 4;
    else throw new ProtobufError(`wire type ${wireType} is not one the API server sends`);
    if (this.pos > this.end) throw new ProtobufError("a field runs past the end of its message");
  }
}

/** The type and raw bytes of the object in a protobuf answer (runtime.Unknown behind the magic). */
interface Envelope {
  readonly apiVersion: string;
  readonly kind: string;
  readonly raw: Message;
}

function envelope(bytes: Buffer): Envelope {
  if (bytes.length < magic.length || magic.some((byte, at) => bytes[at] !== byte))
    throw new ProtobufError("the answer does not start with the protobuf envelope's magic bytes");
  const unknown = new Message(bytes, magic.length, bytes.length);
  let type = { apiVersion: "", kind: "" };
  let raw = new Message(bytes, 0, 0);
  eachField(unknown, (field, wireType) => {
    if (wireType !== lengthType || field < 1 || field > 3) unknown.skip(wireType);
    else if (field === 1) type = typeMetaOf(unknown.sub());
    else if (field === 2) raw = unknown.sub();
    else noContentEncoding(unknown.string());
  });
  return { ...type, raw };
}

function typeMetaOf(message: Message): { apiVersion: string; kind: string } {
  const type = { apiVersion: "", kind: "" };
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === lengthType) type.apiVersion = message.string();
    else if (field === 2 && wireType === lengthType) type.kind = message.string();
    else message.skip(wireType);
  });
  return type;
}

function noContentEncoding(encoding: string): void {
  if (encoding !== "") throw new ProtobufError(`content encoding "${encoding}" is not supported`);
}

/** Each field of the message: its number and wire type, the cursor at its value. */
function eachField(message: Message, visit: (field: number, wireType: number) => void): void {
  while (message.more()) {
    const tag = message.varint();
    visit(tag >>> 3, tag & 7);
  }
}

/**
 * A meta/v1 Time as its JSON says it: RFC 3339 in UTC to the second (metav1.Time's MarshalJSON), or
 * null for the zero time, which the encoder writes as an empty message.
 */
function timeOf(message: Message): string | null {
  let seconds: number | undefined;
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === varintType) seconds = message.varint();
    else message.skip(wireType);
  });
  if (seconds === undefined) return null;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

/** A map<string, string> field's entry (key 1, value 2), added to `into`. */
function mapEntry(message: Message, into: Record<string, string>): void {
  let key = "";
  let value = "";
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === lengthType) key = message.string();
    else if (field === 2 && wireType === lengthType) value = message.string();
    else message.skip(wireType);
  });
  into[key] = value;
}

const referenceTexts: Partial<Record<number, "apiVersion" | "kind" | "name" | "uid">> = {
  5: "apiVersion",
  1: "kind",
  3: "name",
  4: "uid",
};

/** An owner reference with the fields and key order of its JSON (booleans only when set). */
function ownerReference(message: Message): V1OwnerReference {
  const texts = { apiVersion: "", kind: "", name: "", uid: "" };
  const flags: Partial<Record<number, boolean>> = {};
  eachField(message, (field, wireType) => {
    const text = wireType === lengthType ? referenceTexts[field] : undefined;
    if (text !== undefined) texts[text] = message.string();
    else if (wireType === varintType && (field === 6 || field === 7)) flags[field] = message.varint() !== 0;
    else message.skip(wireType);
  });
  const reference: V1OwnerReference = { ...texts };
  if (flags[6] !== undefined) reference.controller = flags[6];
  if (flags[7] !== undefined) reference.blockOwnerDeletion = flags[7];
  return reference;
}

interface MetaFields {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  ownerReferences: V1OwnerReference[] | undefined;
  creationTimestamp: string | null | undefined;
  deletionTimestamp: string | null | undefined;
}

/** The ObjectMeta fields read, by field number (every one length-delimited). */
const metaReaders: Partial<Record<number, (message: Message, meta: MetaFields) => void>> = {
  1: (message, meta) => (meta.name = message.string()),
  3: (message, meta) => (meta.namespace = message.string()),
  5: (message, meta) => (meta.uid = message.string()),
  6: (message, meta) => (meta.resourceVersion = message.string()),
  8: (message, meta) => (meta.creationTimestamp = timeOf(message.sub())),
  9: (message, meta) => (meta.deletionTimestamp = timeOf(message.sub())),
  11: (message, meta) => {
    mapEntry(message.sub(), (meta.labels ??= {}));
  },
  12: (message, meta) => {
    mapEntry(message.sub(), (meta.annotations ??= {}));
  },
  13: (message, meta) => {
    (meta.ownerReferences ??= []).push(ownerReference(message.sub()));
  },
};

function metaField(message: Message, field: number, wireType: number, meta: MetaFields): void {
  const read = wireType === lengthType ? metaReaders[field] : undefined;
  if (read === undefined) message.skip(wireType);
  else read(message, meta);
}

/** ObjectMeta as trimPod keeps it: the same fields in the same order, empty ones left out. */
function objectMeta(message: Message): V1ObjectMeta {
  const meta: MetaFields = {
    name: "",
    namespace: "",
    uid: "",
    resourceVersion: "",
    labels: undefined,
    annotations: undefined,
    ownerReferences: undefined,
    creationTimestamp: undefined,
    deletionTimestamp: undefined,
  };
  eachField(message, (field, wireType) => {
    metaField(message, field, wireType, meta);
  });
  const trimmed: Record<string, unknown> = {};
  if (meta.name !== "") trimmed.name = meta.name;
  if (meta.namespace !== "") trimmed.namespace = meta.namespace;
  if (meta.uid !== "") trimmed.uid = meta.uid;
  if (meta.resourceVersion !== "") trimmed.resourceVersion = meta.resourceVersion;
  if (meta.labels !== undefined) trimmed.labels = meta.labels;
  if (meta.annotations !== undefined) trimmed.annotations = meta.annotations;
  if (meta.ownerReferences !== undefined) trimmed.ownerReferences = meta.ownerReferences;
  if (meta.deletionTimestamp !== undefined) trimmed.deletionTimestamp = meta.deletionTimestamp;
  if (meta.creationTimestamp !== undefined) trimmed.creationTimestamp = meta.creationTimestamp;
  return trimmed;
}

/** The node a pod is bound to (PodSpec field 10), "" when none. */
function nodeNameOf(message: Message): string {
  let nodeName = "";
  eachField(message, (field, wireType) => {
    if (field === 10 && wireType === lengthType) nodeName = message.string();
    else message.skip(wireType);
  });
  return nodeName;
}

function conditionCore(message: Message): V1PodCondition {
  let type = "";
  let status = "";
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === lengthType) type = message.string();
    else if (field === 2 && wireType === lengthType) status = message.string();
    else message.skip(wireType);
  });
  return { type, status };
}

/** PodStatus as trimPod keeps it: the phase when set, each condition's type and status. */
function podStatus(message: Message): V1PodStatus {
  let phase = "";
  let conditions: V1PodCondition[] | undefined;
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === lengthType) phase = message.string();
    else if (field === 2 && wireType === lengthType) (conditions ??= []).push(conditionCore(message.sub()));
    else message.skip(wireType);
  });
  const status: V1PodStatus = {};
  if (phase !== "") status.phase = phase;
  if (conditions !== undefined) status.conditions = conditions;
  return status;
}

/** One pod as trimPod(the pod's JSON) is: the same fields, values and key order. */
function trimmedPod(message: Message): V1Pod {
  let metadata: V1ObjectMeta = {};
  let nodeName = "";
  let status: V1PodStatus = {};
  eachField(message, (field, wireType) => {
    if (field === 1 && wireType === lengthType) metadata = objectMeta(message.sub());
    else if (field === 2 && wireType === lengthType) nodeName = nodeNameOf(message.sub());
    else if (field === 3 && wireType === lengthType) status = podStatus(message.sub());
    else message.skip(wireType);
  });
  const pod: V1Pod = { metadata };
  if (nodeName !== "") pod.spec = { nodeName, containers: [] };
  pod.status = status;
  return pod;
}

/**
 * The items of a PodList answered in protobuf, each trimmed as kube/trimmed.ts trimPod trims the same
 * pod's JSON. Throws ProtobufError when the bytes are not a PodList.
 */
export function decodePodList(bytes: Buffer): V1Pod[] {
  const { kind, raw } = envelope(bytes);
  if (kind !== "PodList") throw new ProtobufError(`expected a PodList, the answer is a "${kind}"`);
  const pods: V1Pod[] = [];
  eachField(raw, (field, wireType) => {
    if (field === 2 && wireType === lengthType) pods.push(trimmedPod(raw.sub()));
    else raw.skip(wireType);
  });
  return pods;
}

function statusCause(message: Message): Record<string, string> {
  const cause: Record<string, string> = {};
  eachField(message, (field, wireType) => {
    const name = wireType === lengthType ? (["", "reason", "message", "field"][field] ?? "") : "";
    if (name === "") message.skip(wireType);
    else cause[name] = message.string();
  });
  return Object.fromEntries(
    ["reason", "message", "field"].flatMap((key) => (cause[key] ? [[key, cause[key]]] : [])),
  );
}

/** StatusDetails in its JSON's key order, empty fields left out. */
function statusDetails(message: Message): Record<string, unknown> {
  const texts: Record<string, string> = {};
  const causes: Record<string, string>[] = [];
  let retryAfterSeconds = 0;
  eachField(message, (field, wireType) => {
    const name = wireType === lengthType ? ["", "name", "group", "kind", "", "", "uid"][field] : undefined;
    if (name !== undefined && name !== "") texts[name] = message.string();
    else if (field === 4 && wireType === lengthType) causes.push(statusCause(message.sub()));
    else if (field === 5 && wireType === varintType) retryAfterSeconds = message.varint();
    else message.skip(wireType);
  });
  const details: Record<string, unknown> = {};
  for (const key of ["name", "group", "kind", "uid"]) if (texts[key]) details[key] = texts[key];
  if (causes.length > 0) details.causes = causes;
  if (retryAfterSeconds !== 0) details.retryAfterSeconds = retryAfterSeconds;
  return details;
}

/**
 * A refusal the API server sent in protobuf (a meta/v1 Status), as the JSON text it would have sent
 * for application/json: the error paths read the Status's message, reason and code from that text.
 */
export function statusJsonOf(bytes: Buffer): string {
  const { apiVersion, kind, raw } = envelope(bytes);
  const texts: Record<string, string> = {};
  let details: Record<string, unknown> | undefined;
  let code = 0;
  eachField(raw, (field, wireType) => {
    const name = wireType === lengthType ? ["", "", "status", "message", "reason"][field] : undefined;
    if (name !== undefined && name !== "") texts[name] = raw.string();
    else if (field === 5 && wireType === lengthType) details = statusDetails(raw.sub());
    else if (field === 6 && wireType === varintType) code = raw.varint();
    else raw.skip(wireType);
  });
  const status: Record<string, unknown> = {};
  if (kind !== "") status.kind = kind;
  if (apiVersion !== "") status.apiVersion = apiVersion;
  status.metadata = {};
  for (const key of ["status", "message", "reason"]) if (texts[key]) status[key] = texts[key];
  if (details !== undefined) status.details = details;
  if (code !== 0) status.code = code;
  return JSON.stringify(status);
}
