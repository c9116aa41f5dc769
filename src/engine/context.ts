import type { Clock } from "../core/clock.js";
import type { HaltSwitch } from "../core/halt.js";
import type { Actor, OpenRecord } from "../core/ledger/record.js";
import type { TargetAccess } from "../core/ledger/recovery.js";
import type { LedgerStore } from "../core/ledger/store.js";
import type { NodeWorkStore } from "../core/node-work.js";
import type { WorkloadDownCap } from "../core/limits/down-cap.js";
import type { Rails, RandomSource } from "../core/targeting/types.js";
import type { NamespaceReader, ObjectReader } from "../kube/objects.js";
import type { PodFactsSource } from "../kube/pod-facts.js";
import type { PodReader, PodShots } from "../kube/pods.js";
import type { WatchSources } from "../kube/watch/source.js";

/**
 * Applies a ledger record's injected value to its target, conditionally (see FieldAccess). apply rejects
 * with ConflictError exactly when the target no longer holds what the record expects (a failed JSON Patch
 * `test`, HTTP 422 or 409, or the target gone); any other failure keeps its own error.
 */
export interface RecordWriter extends TargetAccess {
  apply(record: OpenRecord): Promise<void>;
}

/**
 * Everything the engine needs, built once by the entry point (cli/engine-setup.ts) and passed down. The
 * cluster comes as the small interfaces the engine and the faults use, never as the whole client, so the
 * engine runs as well against the in-memory cluster of its unit tests.
 */
export interface EngineContext {
  /** Shots at pods (delete, evict, both conditional on the uid) and reads of pods. */
  readonly pods: PodShots & PodReader;
  /** The pods pod faults plan from, with their owners and namespace annotations. */
  readonly podFacts: PodFactsSource;
  /** Reads the objects object faults plan from. */
  readonly objects: ObjectReader;
  /** Namespace annotations, for the rails of object faults. */
  readonly namespaces: NamespaceReader;
  /** Where recovery timing and heal watching get their informers' objects. */
  readonly watches: WatchSources;
  readonly ledger: LedgerStore;
  /** Work for the node daemons (container-kill, ADR 0029); absent where no daemon is reachable. */
  readonly nodeWork?: NodeWorkStore;
  /** The kill switch: while it is held, no new mutation is made (reverts go on). */
  readonly halt: HaltSwitch;
  /** Reads, applies and reverts records of every fault kind. */
  readonly targets: RecordWriter;
  /** API requests this process has sent so far (watch streams excluded). */
  readonly apiRequests: () => number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly actor: Actor;
  readonly rails: Rails;
  /**
   * Pods down per workload, shot by any run of this process and not yet recovered: one per process, so the
   * blast-radius cap holds across concurrent runs (the agent's PodChaos and Schedules), not only within one.
   */
  readonly downCap: WorkloadDownCap;
  /** Progress for humans (stderr); never receives secret values. */
  readonly progress: (message: string) => void;
  /**
   * Called at named points of a fault's life ("record-written", "applied", "injected"). Production passes
   * a no-op; Broadside's crash tests make it kill the process there, to prove the ledger recovers.
   */
  readonly failpoint: (name: Failpoint) => void;
}

export const failpoints = ["record-written", "applied", "injected"] as const;
export type Failpoint = (typeof failpoints)[number];
