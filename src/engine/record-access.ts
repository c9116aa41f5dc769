import { ABSENT, type OpenRecord } from "../core/ledger/record.js";
import type { Observation } from "../core/ledger/state-machine.js";
import { podFaultKinds } from "../faults/types.js";
import { FieldAccess } from "../kube/field-access.js";
import type { ObjectPatcher, ObjectReader } from "../kube/objects.js";
import type { PodReader } from "../kube/pods.js";
import type { RecordWriter } from "./context.js";

/**
 * Reads, applies and reverts ledger records of every fault kind: object faults through FieldAccess
 * (conditional JSON patches); pod faults through PodRecords.
 */
export class RecordAccess implements RecordWriter {
  private readonly fields: FieldAccess;
  private readonly pods: PodRecords;

  constructor(objects: ObjectReader & ObjectPatcher, pods: PodReader) {
    this.fields = new FieldAccess(objects);
    this.pods = new PodRecords(pods);
  }

  read(record: OpenRecord): Promise<Observation> {
    return this.accessFor(record).read(record);
  }

  apply(record: OpenRecord): Promise<void> {
    return this.accessFor(record).apply(record);
  }

  revert(record: OpenRecord): Promise<void> {
    return this.accessFor(record).revert(record);
  }

  private accessFor(record: OpenRecord): RecordWriter {
    return (podFaultKinds as readonly string[]).includes(record.faultKind) ? this.pods : this.fields;
  }
}

/**
 * A pod fault's record: path /metadata/uid, original the pod's uid, injected ABSENT (the pod is going).
 * A pod that is terminating already holds the injected state. There is nothing to put back: the pod's
 * controller replaces it, which the engine measures; so "revert" only confirms and closes the record.
 */
class PodRecords implements RecordWriter {
  constructor(private readonly pods: PodReader) {}

  async read(record: OpenRecord): Promise<Observation> {
    const pod = await this.pods.read(record.target.namespace, record.target.name);
    if (pod === undefined) return { exists: false };
    const uid = pod.metadata?.uid ?? "";
    return { exists: true, uid, value: pod.metadata?.deletionTimestamp === undefined ? uid : ABSENT };
  }

  apply(record: OpenRecord): Promise<void> {
    return Promise.reject(
      new Error(`pod faults fire through their fault module, not as records (${record.id})`),
    );
  }

  revert(): Promise<void> {
    return Promise.resolve();
  }
}
