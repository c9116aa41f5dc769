import { describe, expect, it } from "vitest";
import type { DuelAttackView, DuelView } from "./protocol.js";
import { restorerText, restoreText, tallyText } from "./duel-text.js";

const attack = (fields: Partial<DuelAttackView>): DuelAttackView => ({
  id: "a",
  kind: "config-drift",
  target: "configmap demo/cfg data.timeout",
  restorer: "open",
  restoredBy: null,
  healMs: null,
  ...fields,
});

describe("the duel panel's words", () => {
  it("names who restored an attack, with the field manager when the record has one", () => {
    expect(restorerText(attack({ restorer: "gitops", restoredBy: "kustomize-controller" }))).toBe(
      "GitOps (kustomize-controller)",
    );
    expect(restorerText(attack({ restorer: "kubectl", restoredBy: "kubectl-edit" }))).toBe(
      "a person with kubectl (kubectl-edit)",
    );
    expect(restorerText(attack({ restorer: "broadside", restoredBy: "broadside" }))).toBe(
      "Broadside's revert (a miss)",
    );
    expect(restorerText(attack({ restorer: "open" }))).toBe("holding");
    expect(restorerText(attack({ restorer: "unknown" }))).toBe("unknown");
  });

  it("gives the time to restore in ms, and a dash while the drift holds", () => {
    expect(restoreText(attack({ restorer: "gitops", healMs: 2_269 }))).toBe("2269 ms");
    expect(restoreText(attack({}))).toBe("-");
  });

  it("sums up the duel: heals by GitOps and Kubernetes, misses, attacks holding", () => {
    const duel: DuelView = {
      running: true,
      since: 0,
      attacks: [attack({}), attack({ id: "b", restorer: "gitops", healMs: 10 })],
      tally: { healsByGitOps: 1, healsByKubernetes: 2, misses: 3 },
    };
    expect(tallyText(duel)).toBe("1 heal by GitOps, 2 by Kubernetes, 3 misses, 1 holding");
  });
});
