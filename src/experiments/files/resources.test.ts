import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { isRecord } from "../../core/objects.js";
import { celRules } from "./cel.js";
import { cronShape } from "./chaos-mesh/schedule.js";
import { parseCron } from "./cron.js";
import { parseExperimentFile } from "./load.js";
import type { ResourceKind } from "./resources.js";
import { resourceKinds, resourceSpecs } from "./resources.js";

/**
 * The in-cluster resources read with the files' schemas: every example under examples/in-cluster/ is a
 * valid resource, and each spec refuses what the agent does not serve, in zod's words as in the CRD's.
 */

const inClusterDir = join(import.meta.dirname, "..", "..", "..", "examples", "in-cluster");
const examples = readdirSync(inClusterDir).filter((file) => file.endsWith(".yaml"));

function isResourceKind(kind: unknown): kind is ResourceKind {
  return typeof kind === "string" && (resourceKinds as readonly string[]).includes(kind);
}

function resource(file: string): { kind: ResourceKind; spec: unknown; text: string } {
  const text = readFileSync(join(inClusterDir, file), "utf8");
  const document: unknown = parse(text);
  if (!isRecord(document) || !isResourceKind(document.kind)) throw new Error(`${file}: no resource kind`);
  expect(document.apiVersion).toBe("broadside.dev/v1alpha1");
  return { kind: document.kind, spec: document.spec, text };
}

describe("examples/in-cluster/", () => {
  it("has an example of every kind", () => {
    const kinds = new Set(examples.map((file) => resource(file).kind));
    expect([...kinds].sort()).toEqual([...resourceKinds].sort());
  });

  it.each(examples)("%s is a valid resource of its kind", (file) => {
    const { kind, spec, text } = resource(file);
    const result = resourceSpecs[kind].safeParse(spec);
    expect(result.error?.issues ?? []).toEqual([]);
    // PodChaos, Schedule and NetworkChaos also run from the file, read by the loader of Chaos Mesh's manifests.
    if (kind === "PodChaos" || kind === "Schedule" || kind === "Experiment" || kind === "NetworkChaos")
      expect(parseExperimentFile(text, file).kind).toBe(kind);
  });
});

describe("a Schedule of pod-failure, which the agent serves", () => {
  it("is a valid Schedule with its duration", () => {
    const podChaos = {
      action: "pod-failure",
      mode: "one",
      selector: { namespaces: ["shop"] },
      duration: "1m",
    };
    const result = resourceSpecs.Schedule.safeParse({ schedule: "@hourly", type: "PodChaos", podChaos });
    expect(result.error?.issues ?? []).toEqual([]);
  });
});

describe("container-kill, which the agent serves through the node daemons", () => {
  const podChaos = {
    action: "container-kill",
    mode: "one",
    selector: { namespaces: ["shop"] },
    containerNames: ["app"],
  };

  it("is a valid PodChaos, and a valid Schedule's podChaos, with its containerNames", () => {
    expect(resourceSpecs.PodChaos.safeParse(podChaos).error?.issues ?? []).toEqual([]);
    const schedule = { schedule: "@hourly", type: "PodChaos", podChaos };
    expect(resourceSpecs.Schedule.safeParse(schedule).error?.issues ?? []).toEqual([]);
  });

  it("has the API server refuse it without containerNames (a CEL rule on the spec)", () => {
    const rules = celRules.get(resourceSpecs.PodChaos)?.rules ?? [];
    expect(rules).toContainEqual(
      expect.objectContaining({
        rule: "self.action != 'container-kill' || (has(self.containerNames) && size(self.containerNames) > 0)",
        fieldPath: ".containerNames",
      }),
    );
  });
});

describe("each spec refuses what the agent does not serve", () => {
  const podChaos = { action: "pod-kill", mode: "one", selector: { namespaces: ["shop"] } };

  it.each([
    ["PodChaos", { ...podChaos, action: "pod-explode" }, ["action"]],
    [
      "Schedule",
      {
        schedule: "@hourly",
        type: "PodChaos",
        podChaos: { ...podChaos, action: "pod-explode", containerNames: ["app"] },
      },
      ["podChaos"],
    ],
    [
      "Schedule",
      { schedule: "@hourly", type: "NetworkChaos", networkChaos: {} },
      ["type", "podChaos", "networkChaos"],
    ],
    ["Schedule", { schedule: "every minute", type: "PodChaos", podChaos }, ["schedule"]],
    ["ConfigDrift", { namespace: "shop", kind: "configmap", name: "c", key: "k" }, ["value"]],
    [
      "Scale",
      { namespace: "shop", kind: "daemonset", name: "d", replicas: 1, duration: "-1s" },
      ["kind", "duration"],
    ],
  ] as const)("a %s %j, naming %j", (kind, spec, fields) => {
    const result = resourceSpecs[kind].safeParse(spec);
    expect(result.success).toBe(false);
    const named = result.error?.issues.flatMap((issue) =>
      issue.code === "unrecognized_keys" ? issue.keys : [String(issue.path[0])],
    );
    expect(named).toEqual(fields);
  });
});

describe("the cron shape the API server checks", () => {
  it.each([
    "*/30 * * * * *",
    "0 9-17 * * MON-FRI",
    "TZ=Europe/Berlin 0 9 * * *",
    "CRON_TZ=UTC 5/15 * * * *",
    "@hourly",
    "@every 1m30s",
    "  0 0 1 1 *  ",
  ])("admits %j, which parseCron reads", (text) => {
    expect(parseCron(text).ok).toBe(true);
    expect(cronShape.test(text)).toBe(true);
  });

  it.each(["every minute", "* * * *", "* * * * * * *", "@ hourly", ""])(
    "refuses %j, which parseCron refuses too",
    (text) => {
      expect(parseCron(text).ok).toBe(false);
      expect(cronShape.test(text)).toBe(false);
    },
  );
});
