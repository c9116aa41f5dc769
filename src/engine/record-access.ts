import { systemClock } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { ABSENT, type OpenRecord } from "../core/ledger/record.js";
import { isTimedKind, nodeWorkName } from "../core/node-work-kinds.js";
import type { NodeWorkStore } from "../core/node-work.js";
import type { Observation } from "../core/ledger/state-machine.js";
import { podFaultKinds } from "../faults/types.js";
import { FieldAccess } from "../kube/field-access.js";
import { DeletedObjectAccess, objectDeleteKind } from "../kube/deleted-object-access.js";
import type { ObjectLifecycle, ObjectPatcher, ObjectReader } from "../kube/objects.js";
import type { PodReader } from "../kube/pods.js";
import type { RecordWriter } from "./context.js";

/**
 * Reads, applies and reverts ledger records of every fault kind: object faults through FieldAccess
 * (conditional JSON patches); a deleted object through DeletedObjectAccess (delete, create again); pod
 * faults through PodRecords.
 */
export class RecordAccess implements RecordWriter {
  private readonly fields: FieldAccess;
  private readonly deleted: DeletedObjectAccess;
  private readonly pods: PodRecords;
  private readonly nodeFaults: NodeFaultRecords | undefined;

  constructor(
    objects: ObjectReader & ObjectPatcher & ObjectLifecycle,
    pods: PodReader,
    nodeWork?: NodeWorkStore,
    clock: Clock = systemClock,
  ) {
    this.fields = new FieldAccess(objects);
    this.deleted = new DeletedObjectAccess(objects);
    this.pods = new PodRecords(pods);
    this.nodeFaults = nodeWork === undefined ? undefined : new NodeFaultRecords(pods, nodeWork, clock);
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
    if (isTimedKind(record.faultKind) && this.nodeFaults !== undefined) return this.nodeFaults;
    if (record.faultKind === objectDeleteKind) return this.deleted;
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

/**
 * A timed node fault's record (ADR 0032): the target is the pod, the path `/node-fault`, the original
 * ABSENT and the injected value the fault's parameters. What the pod "holds" is read from its work object:
 * the injected value while the daemon answers Applied, ABSENT otherwise (never applied, or reverted: by
 * the daemon itself at the end or on halt, which recovery reports as a heal by that daemon). Revert asks
 * the daemon on the work object and waits for its Reverted answer.
 */
class NodeFaultRecords implements RecordWriter {
  constructor(
    private readonly pods: PodReader,
    private readonly store: NodeWorkStore,
    private readonly clock: Clock,
    private readonly waitMs = 30_000,
  ) {}

  async read(record: OpenRecord): Promise<Observation> {
    const pod = await this.pods.read(record.target.namespace, record.target.name);
    if (pod === undefined) return { exists: false };
    const uid = pod.metadata?.uid ?? "";
    const work = await this.store.read(nodeWorkName(record.id));
    if (work?.status?.phase === "Applied") return { exists: true, uid, value: record.injected };
    const status = work?.status;
    if (status === undefined) return { exists: true, uid, value: ABSENT };
    return {
      exists: true,
      uid,
      value: ABSENT,
      lastChange: {
        at: status.revertedAt ?? status.at,
        by: `broadside daemon of node ${status.daemon.node}`,
      },
    };
  }

  apply(record: OpenRecord): Promise<void> {
    return Promise.reject(
      new Error(`node faults are applied by the node daemon, not as records (${record.id})`),
    );
  }

  async revert(record: OpenRecord): Promise<void> {
    const name = nodeWorkName(record.id);
    const work = await this.store.read(name);
    if (work === undefined || work.status?.phase !== "Applied") return;
    if (work.revert === undefined)
      await this.store.requestRevert(work, {
        at: this.clock.now(),
        by: "broadside recover",
        reason: "its record is due",
      });
    const until = this.clock.now() + this.waitMs;
    while (this.clock.now() < until) {
      await this.clock.sleep(250);
      const now = await this.store.read(name);
      if (now === undefined || now.status?.phase !== "Applied") return;
    }
    throw new BroadsideError(
      "BRD_SHOT_REFUSED",
      `the daemon of node ${work.spec.node} did not revert ${name} within ${this.waitMs / 1000} s; the record stays open`,
    );
  }
}
