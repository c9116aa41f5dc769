import type { Clock } from "../core/clock.js";
import type { Actor, OpenRecord } from "../core/ledger/record.js";
import type { TargetAccess } from "../core/ledger/recovery.js";
import type { LedgerStore } from "../core/ledger/store.js";
import type { Rails, RandomSource } from "../core/targeting/types.js";
import type { KubeClients } from "../kube/client.js";

/** Applies a ledger record's injected value to its target, conditionally (see FieldAccess). */
export interface RecordWriter extends TargetAccess {
  apply(record: OpenRecord): Promise<void>;
}

/** Everything the engine needs, built once by the entry point and passed down. */
export interface EngineContext {
  readonly kube: KubeClients;
  readonly ledger: LedgerStore;
  /** Reads, applies and reverts records of every fault kind. */
  readonly targets: RecordWriter;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly actor: Actor;
  readonly rails: Rails;
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
