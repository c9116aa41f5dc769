import { describe, expect, it } from "vitest";
import { buildRunReport, figureMismatches, recompute } from "./build.js";
import { objectFaultInput } from "./fault-facts.js";
import { parseRunReport, renderJson } from "./json.js";
import type { RunReport } from "./run-report.js";
import { exampleOrigin, examplePodFailureInput, exampleRunInput, withoutRegained } from "./synthetic.js";

describe("the run report of a pod kill with a 1.5 s front-door outage", () => {
  const input = exampleRunInput();
  const report = buildRunReport(input);

  it("is a versioned document", () => {
    expect(report).toMatchObject({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "RunReport",
      schemaVersion: 2,
    });
  });

  it("finds the outage in the chaos phase and over the whole run, within one interval plus 50 ms", () => {
    for (const figures of [report.phases.chaos.probes[0], report.overall.probes[0]]) {
      expect(Math.abs((figures?.longestUnreachable?.ms ?? 0) - 1500)).toBeLessThanOrEqual(200 + 50);
    }
    expect(report.phases.baseline.probes[0]?.failures).toBe(0);
    expect(report.phases.recovery.probes[0]?.failures).toBe(0);
  });

  it("counts every sample once: the phases add up to the whole run", () => {
    const sent = (["baseline", "chaos", "recovery"] as const).map(
      (phase) => report.phases[phase].probes[0]?.sent ?? 0,
    );
    expect(sent.reduce((a, b) => a + b, 0)).toBe(report.overall.probes[0]?.sent);
    expect(report.overall.probes[0]?.sent).toBe(report.samples.length);
    const failed = report.samples.filter((sample) => !sample.ok).length;
    expect(report.overall.probes[0]?.availability).toBe(
      Math.round(((report.samples.length - failed) / report.samples.length) * 10_000) / 10_000,
    );
  });

  it("carries the engine's recovery figures and derives the fault's recovery time", () => {
    const [pod, object] = report.faults;
    expect(pod).toMatchObject({ type: "pod", kind: "pod-kill", recovered: true, recoveryMs: 2450 });
    expect(pod?.targets).toEqual(["demo/web-7c9d8-abcde"]);
    expect(object).toMatchObject({ type: "object", kind: "config-drift", recovered: true, recoveryMs: 4100 });
    expect(report.replacements).toEqual([
      {
        fault: 0,
        victim: "demo/web-7c9d8-abcde",
        pod: "demo/web-7c9d8-fghij",
        node: "kwok-node-2",
        createdMs: 31,
        scheduledMs: 58,
        readyMs: 2380,
      },
    ]);
    expect(report.restarts?.isolationHeld).toBe(true);
    expect(report.restarts?.targets[0]?.change).toBeNull();
  });

  it("evaluates the hypothesis checks and passes", () => {
    expect(report.checks.map((check) => check.passed)).toEqual([true, true, true, true]);
    expect(report.checks[3]?.observed).toBe(2450);
    expect(report.verdict).toEqual({ result: "passed" });
  });

  it("recomputes to exactly the same figures from its own samples", () => {
    expect(recompute(report)).toStrictEqual(report);
    expect(figureMismatches(report)).toEqual([]);
  });

  it("round-trips through JSON and the schema unchanged", () => {
    const back = parseRunReport(renderJson(report), "run.json");
    expect(back).toStrictEqual(report);
    expect(figureMismatches(back)).toEqual([]);
  });

  it("names the figures a hand edit made disagree with the samples", () => {
    const edited: RunReport = {
      ...report,
      overall: {
        ...report.overall,
        probes: report.overall.probes.map((figures) => ({ ...figures, availability: 1 })),
      },
    };
    expect(figureMismatches(edited)).toEqual(["overall.probes[0].availability"]);
  });
});

describe("the verdict", () => {
  it("fails with a reason per failed check", () => {
    const input = exampleRunInput();
    const report = buildRunReport({
      ...input,
      checks: [
        {
          name: "five nines",
          subject: { type: "probe", probe: "front-door", scope: "chaos", figure: "availability" },
          tolerance: { op: ">=", limit: 0.99999 },
        },
      ],
    });
    expect(report.checks[0]?.passed).toBe(false);
    expect(report.verdict).toEqual({
      result: "failed",
      reasons: [
        'check "five nines" failed: availability of probe front-door during chaos was 0.8293 (wanted >= 1.0000)',
      ],
    });
  });

  it("fails a check whose figure has no value: no evidence confirms nothing", () => {
    const report = buildRunReport({
      ...exampleRunInput(),
      samples: [],
      checks: [
        {
          name: "p99 under 1 s",
          subject: { type: "probe", probe: "front-door", scope: "overall", figure: "p99Ms" },
          tolerance: { op: "<=", limit: 1000 },
        },
      ],
    });
    expect(report.checks[0]).toMatchObject({ observed: null, passed: false });
    expect(report.verdict.result).toBe("failed");
  });

  it("fails when a workload did not come back, and the fault has no recovery time", () => {
    const input = exampleRunInput();
    const [pod, object] = input.faults;
    if (pod?.type !== "pod" || object === undefined) throw new Error("example changed");
    const workload = pod.recovery.workloads[0];
    if (workload === undefined) throw new Error("example changed");
    const report = buildRunReport({
      ...input,
      faults: [
        {
          ...pod,
          recovery: {
            ...pod.recovery,
            complete: false,
            workloads: [
              {
                ...workload,
                status: "not-restored",
                available: 1,
                restoredAt: undefined,
                restoredMs: undefined,
              },
            ],
          },
        },
        object,
      ],
    });
    expect(report.faults[0]).toMatchObject({ recovered: false, recoveryMs: null });
    expect(report.checks[3]).toMatchObject({
      name: "Deployment back within 5 s",
      observed: null,
      passed: false,
    });
    expect(report.verdict.result === "failed" ? report.verdict.reasons : []).toContain(
      "fault 1 (pod-kill): Deployment demo/web was not back at its desired available replicas",
    );
  });

  it("fails when a node-mate restarted: isolation did not hold", () => {
    const input = exampleRunInput();
    const report = buildRunReport({
      ...input,
      restarts: [
        { namespace: "demo", name: "cache-0", node: "kwok-node-1", role: "node-mate", before: 1, after: 3 },
      ],
    });
    expect(report.restarts?.isolationHeld).toBe(false);
    expect(report.verdict).toEqual({
      result: "failed",
      reasons: ["isolation: node-mate demo/cache-0 restarted 2 times"],
    });
  });

  it("is aborted with its reason, whatever the checks say", () => {
    const report = buildRunReport({ ...exampleRunInput(), aborted: "interrupted (Ctrl-C) during chaos" });
    expect(report.verdict).toEqual({ result: "aborted", reason: "interrupted (Ctrl-C) during chaos" });
    expect(recompute(report)).toStrictEqual(report);
  });
});

describe("object faults from the engine's records and recovery summaries", () => {
  it("pair each summary with its record's injection time and say who healed it", () => {
    const target = { apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "cfg", uid: "u1" };
    const fault = objectFaultInput(
      "config-drift",
      [
        {
          id: "r1",
          faultKind: "config-drift",
          target,
          path: "data.MODE",
          original: "a",
          injected: "b",
          sensitive: false,
          createdAt: exampleOrigin + 1000,
          deadline: exampleOrigin + 60_000,
          actor: { user: "u", host: "h", pid: 1 },
          version: "1",
          state: "active",
        },
      ],
      [
        {
          id: "r1",
          faultKind: "config-drift",
          target,
          path: "data.MODE",
          result: "left-open",
          at: exampleOrigin + 9000,
          detail: "conflict",
        },
      ],
    );
    const report = buildRunReport({ ...exampleRunInput(), checks: [], faults: [fault] });
    expect(report.faults[0]).toMatchObject({
      recovered: false,
      recoveryMs: null,
      problems: ["ConfigMap demo/cfg data.MODE was not recovered (left-open: conflict)"],
    });
    expect(report.faults[0]?.type === "object" ? report.faults[0].changes[0]?.injectedAt : 0).toBe(
      exampleOrigin + 1000,
    );
  });
});

describe("a pod-failure: what users felt", () => {
  const t = (seconds: number): number => exampleOrigin + Math.round(seconds * 1000);
  const pausedRun = () => buildRunReport(examplePodFailureInput());

  it("keeps each paused pod's milestones and restarts, and the time until traffic returned", () => {
    const report = pausedRun();
    const fault = report.faults[0];
    if (fault?.type !== "object") throw new Error("expected an object fault");
    expect(fault.pods?.[0]).toMatchObject({ readyLostMs: 400, readyRegainedMs: 10_700, restartsAfter: 2 });
    expect(fault.traffic).toEqual([
      { probe: "front-door", failures: 52, lostAt: t(2.6), lastFailedAt: t(12.8), returnedMs: 11_000 },
    ]);
    expect(fault.recovered).toBe(true);
    expect(report.overall.probes[0]?.outage).toEqual({
      from: t(2.6),
      lastFailedAt: t(12.8),
      to: t(13),
      failures: 52,
      stillFailing: false,
    });
    expect(recompute(report)).toStrictEqual(report);
    expect(figureMismatches(parseRunReport(renderJson(report), "run.json"))).toEqual([]);
  });

  it("does not count as recovered when a pod lost readiness and never regained it", () => {
    const report = pausedRun();
    const fault = report.faults[0];
    if (fault?.type !== "object" || fault.pods?.[0] === undefined) throw new Error("expected paused pods");
    const never = withoutRegained(fault.pods[0]);
    const edited = recompute({ ...report, faults: [{ ...fault, pods: [never] }] });
    expect(edited.faults[0]).toMatchObject({
      recovered: false,
      problems: ["pod shop/web-1 lost readiness and was not seen regaining it"],
    });
  });
});
