import { describe, expect, it } from "vitest";
import type { LedgerRecord, Outcome } from "../ledger/record.js";
import { duelView, noDuel } from "./duel-view.js";

/* The board's duel panel from ledger records alone: small in-memory records shaped as the duel writes them. */

function record(
  id: string,
  faultKind: string,
  createdAt: number,
  outcome?: Outcome,
  target: { kind: string; namespace: string; name: string } = {
    kind: "ConfigMap",
    namespace: "demo",
    name: "cfg",
  },
  path = "data.timeout",
): LedgerRecord {
  const fields = {
    id,
    faultKind,
    target: { apiVersion: "v1", ...target, uid: `uid-${id}` },
    path,
    original: "30s",
    injected: "1ms",
    sensitive: false,
    createdAt,
    deadline: createdAt + 10_000,
    actor: { user: "u", host: "h", pid: 1 },
    version: "1",
  };
  return outcome === undefined ? { ...fields, state: "active" } : { ...fields, state: "closed", outcome };
}

const interval = (createdAt: number, outcome?: Outcome): LedgerRecord =>
  record(
    "i",
    "gitops-interval",
    createdAt,
    outcome,
    {
      kind: "Kustomization",
      namespace: "flux-system",
      name: "demo",
    },
    "spec.interval",
  );

describe("the duel view derived from ledger records", () => {
  it("is absent without an open gitops-interval record, even with attack records around", () => {
    expect(duelView([record("a", "config-drift", 100)])).toEqual(noDuel);
    expect(duelView([interval(50, { kind: "reverted", at: 900 }), record("a", "config-drift", 100)])).toEqual(
      noDuel,
    );
  });

  it("lists the attacks since the interval newest first, with restorer, field manager and ms", () => {
    const view = duelView([
      record("old", "config-drift", 10, { kind: "reverted", at: 20 }),
      interval(1_000),
      record("a", "config-drift", 2_000, {
        kind: "healed-externally",
        at: 2_450,
        by: "kustomize-controller",
      }),
      record(
        "b",
        "scale",
        3_000,
        { kind: "reverted", at: 13_000 },
        { kind: "Deployment", namespace: "demo", name: "web" },
        "spec.replicas",
      ),
      record("c", "resource-squeeze", 4_000, {
        kind: "healed-externally",
        at: 4_100,
        by: "kube-controller-manager",
      }),
      record("d", "object-delete", 5_000),
      record("e", "pod-kill", 5_500, { kind: "target-gone", at: 5_600 }),
    ]);
    expect(view.running).toBe(true);
    expect(view.since).toBe(1_000);
    expect(
      view.attacks.map((attack) => [attack.id, attack.restorer, attack.restoredBy, attack.healMs]),
    ).toEqual([
      ["e", "unknown", null, null],
      ["d", "open", null, null],
      ["c", "kubernetes", "kube-controller-manager", 100],
      ["b", "broadside", "broadside", 10_000],
      ["a", "gitops", "kustomize-controller", 450],
    ]);
    expect(view.attacks.find((attack) => attack.id === "b")?.target).toBe(
      "deployment demo/web spec.replicas",
    );
    expect(view.attacks.find((attack) => attack.id === "b")?.kind).toBe("scale");
    expect(view.tally).toEqual({ healsByGitOps: 1, healsByKubernetes: 1, misses: 1 });
  });

  it("keeps the tally over all attacks but lists only the newest up to the limit", () => {
    const attacks = [1, 2, 3].map((n) =>
      record(`a${n}`, "config-drift", 1_000 + n, {
        kind: "healed-externally",
        at: 2_000 + n,
        by: "helm-controller",
      }),
    );
    const view = duelView([interval(1_000), ...attacks], 2);
    expect(view.attacks.map((attack) => attack.id)).toEqual(["a3", "a2"]);
    expect(view.tally.healsByGitOps).toBe(3);
  });

  it("counts a heal by kubectl or an unnamed writer as a miss for GitOps", () => {
    const view = duelView([
      interval(0),
      record("k", "config-drift", 1, { kind: "healed-externally", at: 5, by: "kubectl-edit" }),
      record("x", "config-drift", 2, { kind: "healed-externally", at: 6 }),
    ]);
    expect(view.attacks.map((attack) => attack.restorer)).toEqual(["other", "kubectl"]);
    expect(view.tally).toEqual({ healsByGitOps: 0, healsByKubernetes: 0, misses: 2 });
  });
});
