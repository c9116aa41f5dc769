import type { KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { deferred } from "../core/deferred.js";
import { jsonEqual, type JsonValue, type LedgerRecord, type OpenRecord } from "../core/ledger/record.js";
import type { Observation } from "../core/ledger/state-machine.js";
import { optional } from "../core/objects.js";
import { getAtPointer } from "../kube/field-access.js";
import { creatorOf, objectDeleteKind } from "../kube/deleted-object-access.js";
import { healer } from "../kube/field-owner.js";
import { fieldManager, type KubeObject } from "../kube/objects.js";
import { collectionPath } from "../kube/watch/source.js";
import { Informer, type InformerEvent } from "../kube/watch/informer.js";
import type { WatchSources } from "../kube/watch/source.js";
import type { RecordWriter } from "./context.js";

/** What heals are watched through, and the clock that stamps them. */
export interface HealWatchSources {
  readonly watches: WatchSources;
  readonly clock: Clock;
}

const plurals: Readonly<Record<string, string>> = {
  ConfigMap: "configmaps",
  Secret: "secrets",
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
  Pod: "pods",
};

/** When someone else changed a fault's field, and who (the field manager of their write). */
export interface Heal {
  readonly at: number;
  readonly by?: string;
}

/**
 * Watches each object an object fault changed while the fault lasts, and notes the moment (the watch
 * event's arrival, in ms) its field stopped holding Broadside's value: a GitOps reconciler or a person
 * healed it. Recovery then records that moment and author instead of the moment it looked.
 * Wraps the engine's RecordWriter: reads are answered with the heal attached.
 */
export class HealWatch implements RecordWriter {
  private readonly heals = new Map<string, Heal>();
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly everyHealed = deferred<undefined>();

  private constructor(
    private readonly inner: RecordWriter,
    private readonly records: readonly LedgerRecord[],
  ) {}

  static async start(
    sources: HealWatchSources,
    inner: RecordWriter,
    records: readonly LedgerRecord[],
  ): Promise<HealWatch> {
    const watch = new HealWatch(inner, records);
    await Promise.all(records.map((record) => watch.watchRecord(sources, record)));
    return watch;
  }

  /** Resolves once every record's field has been healed by someone else: nothing is left to wait for. */
  get allHealed(): Promise<undefined> {
    return this.everyHealed.promise;
  }

  heal(recordId: string): Heal | undefined {
    return this.heals.get(recordId);
  }

  async read(record: OpenRecord): Promise<Observation> {
    const observation = await this.inner.read(record);
    const heal = this.heals.get(record.id);
    return observation.exists && heal !== undefined ? { ...observation, lastChange: heal } : observation;
  }

  apply(record: OpenRecord): Promise<void> {
    return this.inner.apply(record);
  }

  revert(record: OpenRecord): Promise<void> {
    return this.inner.revert(record);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  private async watchRecord(sources: HealWatchSources, record: LedgerRecord): Promise<void> {
    const { apiVersion, kind, namespace, name } = record.target;
    const plural = plurals[kind];
    if (plural === undefined) return;
    const source = sources.watches({
      path: collectionPath(apiVersion, plural, namespace),
      fieldSelector: `metadata.name=${name}`,
    });
    const informer = new Informer<KubernetesObject>({
      source,
      clock: sources.clock,
      description: `${kind} ${namespace}/${name}`,
    });
    informer.subscribe((event) => {
      this.onEvent(record, event);
    });
    this.informers.push(informer);
    await informer.start();
  }

  private onEvent(record: LedgerRecord, event: InformerEvent<KubernetesObject>): void {
    if (this.heals.has(record.id) || event.type === "DELETED") return;
    const heal = record.faultKind === objectDeleteKind ? recreation(record, event) : fieldHeal(record, event);
    if (heal === undefined) return;
    this.heals.set(record.id, heal);
    if (this.records.every((r) => this.heals.has(r.id))) this.everyHealed.resolve(undefined);
  }
}

/** The record's field no longer holds Broadside's value in this incarnation: a heal, by its owner. */
function fieldHeal(record: LedgerRecord, event: InformerEvent<KubernetesObject>): Heal | undefined {
  if (event.object.metadata?.uid !== record.target.uid) return undefined;
  const value = getAtPointer(event.object as unknown as JsonValue, record.path);
  if (jsonEqual(value, record.injected)) return undefined;
  const by = healer(event.object, record.path);
  return { at: event.receivedAt, ...optional("by", by) };
}

/**
 * A deleted object back under its name, as another incarnation (the ADDED event of someone's create):
 * a heal, by the field manager that created it. Broadside's own create is its revert, never a heal.
 */
function recreation(record: LedgerRecord, event: InformerEvent<KubernetesObject>): Heal | undefined {
  if (event.object.metadata?.uid === record.target.uid) return undefined;
  const by = creatorOf(event.object as unknown as KubeObject);
  if (by === fieldManager) return undefined;
  return { at: event.receivedAt, ...optional("by", by) };
}
