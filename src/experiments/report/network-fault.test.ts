import { describe, expect, it } from "vitest";
import type { NetworkFaultRun } from "../../engine/network-chaos.js";
import { buildRunReport } from "./build.js";
import { faultFacts, timedFaultInput } from "./fault-facts.js";
import { exampleRunInput } from "./synthetic.js";

/**
 * A network fault in a run's report (issue 12): each pod's fault as its ledger record tells it, a change
 * of the pod's `/node-fault` held from the daemon's stamp of applying it to its Reverted answer; a fault
 * the daemon was not seen reverting is not recovered, and the verdict says so.
 */

const appliedAt = 1_765_000_000_000;
const daemon = { node: "kwok-node-0", host: "node-0", pid: 4242 };

function run(pod: string, answered: boolean): NetworkFaultRun {
  return {
    target: {
      pod: { namespace: "shop", name: pod, uid: `uid-${pod}` },
      node: "kwok-node-0",
      container: "web",
      podIp: undefined,
      ports: [8080],
    },
    ledgerId: `20261207t000000-${pod}`,
    work: `nodework-20261207t000000-${pod}`,
    applied: {
      phase: "Applied",
      message: "delay 300ms applied",
      actedAt: appliedAt,
      endsAt: appliedAt + 12_000,
      at: appliedAt,
      daemon,
    },
    final: answered
      ? {
          phase: "Reverted",
          message: "delay 300ms reverted: its duration ended",
          actedAt: appliedAt,
          revertedAt: appliedAt + 12_040,
          at: appliedAt + 12_040,
          daemon,
        }
      : undefined,
    problem: answered
      ? undefined
      : "the daemon of node kwok-node-0 did not answer Reverted; the record stays open for `broadside recover`",
  };
}

describe("a network fault in the report", () => {
  it("is each pod's change of /node-fault, held from the daemon's Applied stamp to its Reverted answer", () => {
    const facts = faultFacts(timedFaultInput("delay", [run("web-1", true)]));
    expect(facts).toEqual({
      type: "object",
      kind: "delay",
      changes: [
        {
          ledgerId: "20261207t000000-web-1",
          target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "uid-web-1" },
          path: "/node-fault",
          injectedAt: appliedAt,
          result: "reverted",
          resolvedAt: appliedAt + 12_040,
          by: "broadside daemon of node kwok-node-0",
          detail: "delay 300ms reverted: its duration ended",
        },
      ],
    });
  });

  it("held 12.04 s: the fault's recovery; a fault not seen reverted fails the verdict, naming the pod and why", () => {
    const held = buildRunReport({
      ...exampleRunInput(),
      faults: [timedFaultInput("delay", [run("web-1", true)])],
    });
    expect(held.faults[0]).toMatchObject({
      kind: "delay",
      recovered: true,
      recoveryMs: 12_040,
      problems: [],
    });

    const report = buildRunReport({
      ...exampleRunInput(),
      faults: [timedFaultInput("delay", [run("web-1", true), run("web-2", false)])],
    });
    expect(report.faults[0]?.recovered).toBe(false);
    expect(report.faults[0]?.problems).toEqual([
      "Pod shop/web-2 /node-fault was not recovered (left-open: the daemon of node kwok-node-0 did not answer Reverted; the record stays open for `broadside recover`)",
    ]);
    expect(report.verdict.result).toBe("failed");
  });
});
