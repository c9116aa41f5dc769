import { describe, expect, it } from "vitest";
import type { DuelView } from "../core/board/duel-view.js";
import { noDuel } from "../core/board/duel-view.js";
import { FakeClock } from "../core/fake-clock.js";
import type { LedgerRecord, Outcome } from "../core/ledger/record.js";
import type { BroadsideError } from "../core/errors.js";
import {
  broadsideNamespace,
  faultKindLabel,
  ledgerLabel,
  recordKey,
  stateLabel,
} from "../kube/ledger-store.js";
import { MemoryCluster } from "../kube/memory-cluster.js";
import { kubeDuelFeed } from "./kube-duel-feed.js";

/*
 * The board's duel view kept from the ledger's ConfigMaps through an informer (MemoryCluster's watch):
 * the records are written here as the ledger store writes them, standing in for a running duel.
 */

function ledgerConfigMap(record: Omit<LedgerRecord, "version">) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `ledger-${record.id}`,
      namespace: broadsideNamespace,
      labels: { [ledgerLabel]: "record", [stateLabel]: record.state, [faultKindLabel]: record.faultKind },
    },
    data: { [recordKey]: JSON.stringify(record) },
  };
}

function record(
  id: string,
  faultKind: string,
  createdAt: number,
  outcome?: Outcome,
): Omit<LedgerRecord, "version"> {
  const fields = {
    id,
    faultKind,
    target: { apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "cfg", uid: `uid-${id}` },
    path: "data.timeout",
    original: "30s",
    injected: "90s",
    sensitive: false,
    createdAt,
    deadline: createdAt + 30_000,
    actor: { user: "u", host: "h", pid: 1 },
  };
  return outcome === undefined ? { ...fields, state: "active" } : { ...fields, state: "closed", outcome };
}

async function settled(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe("the board's duel feed over the ledger", () => {
  it("shows a duel while its interval record is open, each attack as it closes, and none once it ends", async () => {
    const clock = new FakeClock(1_000_000);
    const cluster = new MemoryCluster(clock);
    cluster.put(
      ledgerConfigMap(record("20261207t200000-000000", "config-drift", 10, { kind: "reverted", at: 20 })),
    );
    const errors: BroadsideError[] = [];
    const feed = kubeDuelFeed({ watches: cluster.watches, clock, onError: (error) => errors.push(error) });
    const views: DuelView[] = [];
    feed.subscribe((view) => views.push(view));
    await feed.start();
    expect(feed.view()).toEqual(noDuel);
    expect(views).toEqual([]);

    cluster.put(ledgerConfigMap(record("20261207t200100-111111", "gitops-interval", 1_000)));
    cluster.put(ledgerConfigMap(record("20261207t200101-222222", "config-drift", 1_100)));
    await settled();
    expect(feed.view()).toMatchObject({
      running: true,
      since: 1_000,
      attacks: [{ id: "20261207t200101-222222", restorer: "open", healMs: null }],
    });

    const healed = { kind: "healed-externally", at: 3_369, by: "kustomize-controller" } as const;
    cluster.put(ledgerConfigMap(record("20261207t200101-222222", "config-drift", 1_100, healed)));
    await settled();
    expect(feed.view().attacks[0]).toMatchObject({
      restorer: "gitops",
      restoredBy: "kustomize-controller",
      healMs: 2_269,
    });
    expect(feed.view().tally).toEqual({ healsByGitOps: 1, healsByKubernetes: 0, misses: 0 });

    cluster.put(
      ledgerConfigMap(
        record("20261207t200100-111111", "gitops-interval", 1_000, { kind: "reverted", at: 9_000 }),
      ),
    );
    await settled();
    expect(feed.view()).toEqual(noDuel);
    // Told once per change of the view: the duel begun, its attack, the attack's heal, the end.
    expect(views.map((view) => [view.running, view.attacks.length, view.tally.healsByGitOps])).toEqual([
      [true, 0, 0],
      [true, 1, 0],
      [true, 1, 1],
      [false, 0, 0],
    ]);
    expect(errors).toEqual([]);
    await feed.stop();
  });

  it("leaves out a record that does not parse, says so once, and shows the rest", async () => {
    const clock = new FakeClock(1_000_000);
    const cluster = new MemoryCluster(clock);
    cluster.put(ledgerConfigMap(record("20261207t200100-111111", "gitops-interval", 1_000)));
    const broken = ledgerConfigMap(record("20261207t200101-222222", "config-drift", 1_100));
    cluster.put({ ...broken, data: { [recordKey]: "{not json" } });
    const errors: BroadsideError[] = [];
    const feed = kubeDuelFeed({ watches: cluster.watches, clock, onError: (error) => errors.push(error) });
    await feed.start();
    expect(feed.view()).toMatchObject({ running: true, attacks: [] });
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringContaining("ledger-20261207t200101-222222"),
    ]);
    // A deleted record leaves the view.
    cluster.remove("ConfigMap", broadsideNamespace, "ledger-20261207t200100-111111");
    await settled();
    expect(feed.view()).toEqual(noDuel);
    expect(errors).toHaveLength(1);
    await feed.stop();
  });
});
