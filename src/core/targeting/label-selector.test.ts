import { describe, expect, it } from "vitest";
import { BroadsideError } from "../errors.js";
import {
  formatRequirement,
  labelKeyProblem,
  labelValueProblem,
  matchesLabels,
  parseLabelSelector,
  requirementMismatch,
  selectorMatches,
} from "./label-selector.js";
import type { LabelRequirement } from "./types.js";

describe("parseLabelSelector", () => {
  it.each<[string, LabelRequirement[]]>([
    ["", []],
    ["   ", []],
    ["app=web", [{ key: "app", operator: "In", values: ["web"] }]],
    ["app==web", [{ key: "app", operator: "In", values: ["web"] }]],
    ["app!=web", [{ key: "app", operator: "NotIn", values: ["web"] }]],
    ["tier in (front, back)", [{ key: "tier", operator: "In", values: ["front", "back"] }]],
    ["tier notin (db)", [{ key: "tier", operator: "NotIn", values: ["db"] }]],
    ["canary", [{ key: "canary", operator: "Exists", values: [] }]],
    ["!canary", [{ key: "canary", operator: "DoesNotExist", values: [] }]],
    ["app=", [{ key: "app", operator: "In", values: [""] }]],
    [" app = web ", [{ key: "app", operator: "In", values: ["web"] }]],
    [
      "app.kubernetes.io/name=web,!canary, tier in (a,b)",
      [
        { key: "app.kubernetes.io/name", operator: "In", values: ["web"] },
        { key: "canary", operator: "DoesNotExist", values: [] },
        { key: "tier", operator: "In", values: ["a", "b"] },
      ],
    ],
  ])("reads %j as kubectl does", (text, requirements) => {
    expect(parseLabelSelector(text)).toEqual(requirements);
  });

  // Each error says what is wrong and where, so a user can fix a long selector without guessing.
  it.each([
    ["app=web,", 'expected a label key, found the end of the selector at column 9 of "app=web,"'],
    [",app", 'expected a label key, found "," at column 1 of ",app"'],
    ["!", 'expected a label key, found the end of the selector at column 2 of "!"'],
    ["app web", 'expected =, ==, !=, in or notin after "app", found "web" at column 5 of "app web"'],
    ["app in web", 'expected "(" after "in", found "web" at column 8 of "app in web"'],
    ["app in ()", '"in" needs at least one value at column 9 of "app in ()"'],
    ["app in (a,b", 'expected "," or ")" in the value list, found the end of the selector at column 12'],
    ["app in (a b)", 'expected "," or ")" in the value list, found "b" at column 11'],
    ["app=(x)", 'expected a label value, found "(" at column 5'],
    ["app=web=x", 'expected "," or the end of the selector, found "=" at column 8'],
    ["!app=web", 'expected "," or the end of the selector, found "=" at column 5'],
    ["replicas>1", 'the numeric operator ">" is not supported for pods at column 9'],
    ["-app=web", 'label key "-app": must be 1 to 63 letters, digits'],
    ["app=-web", 'label value "-web": must be at most 63 letters, digits'],
    ["a/b/c", `label key "a/b/c": must contain at most one '/' at column 1`],
    ["Example.com/app", `label key "Example.com/app": the prefix before '/' must be a DNS subdomain`],
    [`${"k".repeat(64)}=v`, `label key "${"k".repeat(64)}": must be 1 to 63 letters`],
  ])("refuses %j: %s", (text, message) => {
    expect(() => parseLabelSelector(text)).toThrow(BroadsideError);
    expect(() => parseLabelSelector(text)).toThrow(`--selector: ${message}`);
  });

  it("names the field it was given, for selectors read from manifests", () => {
    expect(() => parseLabelSelector("app web", "spec.selector")).toThrow(/^spec\.selector: /);
  });
});

describe("label keys and values", () => {
  it.each([
    ["app", undefined],
    ["app.kubernetes.io/name", undefined],
    ["a", undefined],
    ["app_", "must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"],
    ["/app", "the prefix before '/' must be a DNS subdomain: lowercase letters, digits, '-' and '.'"],
    [
      "example.com/",
      "must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ],
  ])("key %j: %s", (key, problem) => {
    expect(labelKeyProblem(key)).toBe(problem);
  });

  it.each([
    ["", undefined],
    ["web-1", undefined],
    [
      "a b",
      "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ],
  ])("value %j: %s", (value, problem) => {
    expect(labelValueProblem(value)).toBe(problem);
  });
});

describe("requirementMismatch", () => {
  const web = { app: "web", tier: "front" };
  it.each([
    ["app=web", web, undefined],
    ["app=web", { app: "db" }, 'label app is "db"'],
    ["app=web", {}, "label app is missing"],
    ["app!=web", { app: "db" }, undefined],
    // Kubernetes: a pod without the label satisfies != and notin.
    ["app!=web", {}, undefined],
    ["app!=web", web, 'label app is "web"'],
    ["tier in (front,back)", web, undefined],
    ["tier in (back)", web, 'label tier is "front"'],
    ["tier notin (front)", web, 'label tier is "front"'],
    ["canary", web, "label canary is missing"],
    ["!canary", { canary: "" }, 'label canary is present ("")'],
    ["!canary", web, undefined],
    // Labels are plain records: inherited properties are not labels.
    ["constructor", {}, "label constructor is missing"],
  ])("%s against %j: %s", (text, labels, problem) => {
    const [requirement] = parseLabelSelector(text);
    if (requirement === undefined) throw new Error("test selector parsed to nothing");
    expect(requirementMismatch(labels, requirement)).toBe(problem);
  });

  it("matches only when every requirement holds", () => {
    expect(matchesLabels({ app: "web" }, parseLabelSelector("app=web,!canary"))).toBe(true);
    expect(matchesLabels({ app: "web", canary: "1" }, parseLabelSelector("app=web,!canary"))).toBe(false);
    expect(matchesLabels({}, [])).toBe(true);
  });
});

describe("formatRequirement", () => {
  it.each(["app=web", "app!=web", "tier in (a,b)", "tier notin (a,b)", "canary", "!canary", "app="])(
    "prints %j back as it was written",
    (text) => {
      expect(parseLabelSelector(text).map(formatRequirement)).toEqual([text]);
    },
  );
});

describe("an API label selector (which PodDisruptionBudgets cover a pod)", () => {
  const labels = { app: "web", tier: "front" };

  it("matches matchLabels and matchExpressions together", () => {
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "db" } }, labels)).toBe(false);
    expect(
      selectorMatches(
        { matchLabels: { app: "web" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels),
    ).toBe(false);
  });

  it("reads an empty selector as every pod and an absent one as none, as policy/v1 does", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });

  it("matches nothing with an operator Kubernetes does not know", () => {
    expect(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, labels),
    ).toBe(false);
  });
});
