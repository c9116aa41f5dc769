import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { objectFaultInput } from "./fault-facts.js";
import {
  buildRunReport,
  figureMismatches,
  parseRunReport,
  recompute,
  renderJson,
  type RunInput,
  type RunReport,
} from "./run-report.js";
import { exampleOrigin, exampleRunInput, syntheticSamples } from "./synthetic.js";

function usageMessage(action: () => unknown): string {
  try {
    action();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(BroadsideError);
    if (error instanceof BroadsideError) {
      expect(error.code).toBe("BRD_USAGE");
      return error.message;
    }
  }
  throw new Error("expected a usage error");
}

/** The example report as parsed JSON, to be damaged by a test. */
function exampleJson(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(renderJson(buildRunReport(exampleRunInput())));
  if (typeof parsed !== "object" || parsed === null) throw new Error("the example is not an object");
  return { ...parsed };
}

describe("the run report of a pod kill with a 1.5 s front-door outage", () => {
  const input = exampleRunInput();
  const report = buildRunReport(input);

  it("is a versioned document", () => {
    expect(report).toMatchObject({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "RunReport",
      schemaVersion: 1,
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

describe("reading a report back", () => {
  it("names the path of a bad field", () => {
    const json = exampleJson();
    const samples = json.samples;
    if (!Array.isArray(samples)) throw new Error("no samples");
    const damaged = samples.map((s: unknown, index) =>
      index === 3 && typeof s === "object" ? { ...s, ok: "yes" } : s,
    );
    const message = usageMessage(() =>
      parseRunReport(JSON.stringify({ ...json, samples: damaged }), "run.json"),
    );
    expect(message).toMatch(/^run\.json: samples\[3\]\.ok: /);
    expect(message).toContain("boolean");
  });

  it("names nested paths inside phases", () => {
    const json = exampleJson();
    const phases = json.phases as { chaos: { probes: Record<string, unknown>[] } };
    const figures = phases.chaos.probes[0];
    phases.chaos.probes[0] = { ...figures, sent: "many" };
    const message = usageMessage(() => parseRunReport(JSON.stringify(json), "run.json"));
    expect(message).toMatch(/^run\.json: phases\.chaos\.probes\[0\]\.sent: /);
  });

  it("refuses another schema version with a message saying so", () => {
    const message = usageMessage(() =>
      parseRunReport(JSON.stringify({ ...exampleJson(), schemaVersion: 2 }), "run.json"),
    );
    expect(message).toContain("schemaVersion: this Broadside reads schemaVersion 1");
  });

  it("refuses a document that is not a run report", () => {
    const message = usageMessage(() => parseRunReport('{"kind":"Pod"}', "pod.json"));
    expect(message).toMatch(/^pod\.json: apiVersion: /);
    expect(message).toContain("more");
  });

  it("refuses text that is not JSON", () => {
    expect(usageMessage(() => parseRunReport("{not json", "run.json"))).toMatch(/^run\.json: is not JSON: /);
  });

  it("names the whole document when it is not an object", () => {
    expect(usageMessage(() => parseRunReport("[]", "run.json"))).toMatch(/^run\.json: \(the document\): /);
  });

  it("refuses samples of a probe the report does not declare, naming the sample", () => {
    const json = exampleJson();
    const samples = json.samples as Record<string, unknown>[];
    samples[5] = { ...samples[5], probe: "ghost" };
    const message = usageMessage(() => parseRunReport(JSON.stringify(json), "run.json"));
    expect(message).toBe('run.json: samples[5].probe: names undeclared probe "ghost"');
  });

  it("drops fields it does not know, so an additive change does not break older readers", () => {
    const text = JSON.stringify({ ...exampleJson(), addedLater: { anything: true } });
    expect(parseRunReport(text, "run.json")).not.toHaveProperty("addedLater");
  });
});

describe("building a report refuses evidence that contradicts itself", () => {
  it("overlapping chaos windows are a bug in the runner", () => {
    const input: RunInput = {
      ...exampleRunInput(),
      chaosWindows: [
        { start: exampleOrigin + 1000, end: exampleOrigin + 3000 },
        { start: exampleOrigin + 2000, end: exampleOrigin + 4000 },
      ],
    };
    expect(() => buildRunReport(input)).toThrow(/chaosWindows\[1\]: overlaps/);
  });

  it("a check on a fault that does not exist", () => {
    const input: RunInput = {
      ...exampleRunInput(),
      checks: [
        { name: "x", subject: { type: "fault-recovery", fault: 9 }, tolerance: { op: "<=", limit: 1 } },
      ],
    };
    expect(() => buildRunReport(input)).toThrow(/checks\[0\]\.subject\.fault: there is no fault 9/);
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

describe("synthetic samples", () => {
  it("are reproducible from their seed", () => {
    const spec = { probe: "p", start: 0, end: 2000, intervalMs: 200, jitterMs: 20, seed: 9 };
    expect(syntheticSamples(spec)).toEqual(syntheticSamples(spec));
  });
});
