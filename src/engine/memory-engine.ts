import { FakeClock } from "../core/fake-clock.js";
import { MemoryHaltSwitch } from "../core/halt.js";
import { MemoryLedgerStore } from "../core/ledger/store.js";
import { WorkloadDownCap } from "../core/limits/down-cap.js";
import { defaultRails, type RailOverrides } from "../core/targeting/rails.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { MemoryCluster } from "../kube/memory-cluster.js";
import type { EngineContext, Failpoint } from "./context.js";
import { RecordAccess } from "./record-access.js";

/*
 * For unit tests: the engine wired as cli/engine-setup.ts wires it, but over an in-memory cluster
 * (kube/memory-cluster.ts), an in-memory ledger and a FakeClock. The whole life of a fault runs through
 * the same small interfaces as in production; no module is mocked.
 */

export interface MemoryEngine {
  readonly ctx: EngineContext;
  readonly cluster: MemoryCluster;
  readonly ledger: MemoryLedgerStore;
  readonly halt: MemoryHaltSwitch;
  readonly clock: FakeClock;
  /** Every progress line, in order. */
  readonly progress: string[];
  /** Every failpoint passed, in order. */
  readonly failpoints: Failpoint[];
}

export const memoryEpoch = Date.UTC(2026, 0, 15, 9, 0, 0);

export function memoryEngine(rails: RailOverrides = {}): MemoryEngine {
  const clock = new FakeClock(memoryEpoch);
  const cluster = new MemoryCluster(clock);
  const ledger = new MemoryLedgerStore();
  const halt = new MemoryHaltSwitch();
  const progress: string[] = [];
  const failpoints: Failpoint[] = [];
  const ctx: EngineContext = {
    pods: cluster,
    podFacts: cluster,
    objects: cluster,
    namespaces: cluster,
    watches: cluster.watches,
    ledger,
    halt,
    targets: new RecordAccess(cluster, cluster),
    apiRequests: () => cluster.requests,
    clock,
    random: () => 0,
    actor: { user: "tester", host: "memory", pid: 1 },
    rails: defaultRails(broadsideNamespace, rails),
    downCap: new WorkloadDownCap(),
    progress: (message) => progress.push(message),
    failpoint: (name) => failpoints.push(name),
  };
  return { ctx, cluster, ledger, halt, clock, progress, failpoints };
}
