import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { parseDuelFile } from "./file.js";

const examplesDir = join(import.meta.dirname, "..", "..", "examples");

const valid = `apiVersion: broadside.dev/v1alpha1
kind: Duel
metadata:
  name: d
spec:
  gitops: {controller: flux, name: fleet}
  legs:
    - {name: slow, interval: 5m, deadline: 30s, rounds: 2}
  attacks:
    - kind: drift
      params: {namespace: shop, kind: configmap, name: app, key: LOG_LEVEL, value: debug}
    - name: gone
      kind: remove-key
      params: {namespace: shop, kind: configmap, name: app, key: MODE}
    - kind: squeeze
      params: {namespace: shop, kind: deployment, name: web, cpu: 50m, memory: 64Mi}
    - kind: scale
      params: {namespace: shop, kind: deployment, name: web, replicas: 1}
    - kind: kill-pods
      params:
        selector: {namespaces: [shop], labelSelectors: {app: web}}
        mode: one
`;

function problemsOf(text: string): string {
  try {
    parseDuelFile(text, "duel.yaml");
  } catch (error) {
    if (error instanceof BroadsideError && error.code === "BRD_USAGE") return error.message;
    throw error;
  }
  throw new Error("the file was accepted");
}

describe("the Duel file", () => {
  it("reads legs and attacks, each attack's parameters as the engine's fault takes them", () => {
    const file = parseDuelFile(valid, "duel.yaml");
    expect(file.gitops).toEqual({ controller: "flux", namespace: "flux-system", name: "fleet" });
    expect(
      file.legs.map((leg) => [leg.name, leg.interval.toString(), leg.deadline.toString(), leg.rounds]),
    ).toEqual([["slow", "5m", "30s", 2]]);
    expect(file.attacks.map((attack) => [attack.name, attack.kind])).toEqual([
      ["drift-0", "drift"],
      ["gone", "remove-key"],
      ["squeeze-2", "squeeze"],
      ["scale-3", "scale"],
      ["kill-pods-4", "kill-pods"],
    ]);
    const removal = file.attacks[1];
    expect(removal?.kind === "remove-key" ? removal.params.remove : undefined).toBe(true);
    const kill = file.attacks[4];
    expect(kill?.kind === "kill-pods" ? [kill.selector.namespaces, kill.mode] : undefined).toEqual([
      ["shop"],
      { kind: "one" },
    ]);
  });

  it("names every bad field, with its line, and the fault's own parameter checks", () => {
    const text = valid
      .replace("interval: 5m", "interval: 1s")
      .replace("replicas: 1}", "replicas: -1}")
      .replace("key: MODE}", "key: MODE, value: x}")
      .replace("controller: flux", "controller: argocd");
    const message = problemsOf(text);
    expect(message).toContain("duel.yaml: spec.gitops.controller:");
    expect(message).toContain("duel.yaml: spec.legs[0].interval: must be at least 5s");
    expect(message).toMatch(/spec\.attacks\[3\]\.params\.replicas: must not be negative/);
    expect(message).toContain("duel.yaml: spec.attacks[1].params.value: a remove-key attack takes no value");
  });

  it("refuses unknown fields, unknown attack kinds, twice-used names and too many legs", () => {
    expect(problemsOf(valid.replace("  gitops:", "  colour: red\n  gitops:"))).toContain(
      "spec.colour: unknown field",
    );
    expect(problemsOf(valid.replace("kind: scale", "kind: nuke"))).toMatch(
      /spec\.attacks\[3\]\.kind: must be one of/,
    );
    expect(problemsOf(valid.replace("name: gone", "name: drift-0"))).toContain(
      'spec.attacks[1].name: "drift-0" is used twice',
    );
    const legs = Array.from({ length: 5 }, (_, i) => `    - {name: l${i}, interval: 10s, deadline: 5s}`).join(
      "\n",
    );
    expect(
      problemsOf(valid.replace("    - {name: slow, interval: 5m, deadline: 30s, rounds: 2}", legs)),
    ).toContain("spec.legs: must have at most 4 items");
  });

  it("reads a delete attack, and refuses a kind it cannot delete or a key it does not take", () => {
    const text = valid.replace(
      "    - kind: kill-pods",
      "    - {name: delete-app, kind: delete, params: {namespace: shop, kind: configmap, name: app}}\n    - kind: kill-pods",
    );
    const attack = parseDuelFile(text, "duel.yaml").attacks[4];
    expect(attack).toEqual({
      name: "delete-app",
      kind: "delete",
      params: { namespace: "shop", kind: "configmap", name: "app" },
    });
    expect(problemsOf(text.replace("kind: configmap, name: app}}", "kind: secret, name: app}}"))).toMatch(
      /duel\.yaml: spec\.attacks\[4\]\.params\.kind: /,
    );
    expect(problemsOf(text.replace("name: app}}", "name: app, key: K}}"))).toMatch(
      /spec\.attacks\[4\]\.params/,
    );
  });

  it("refuses a kill without a selector, and a drift that asks to remove", () => {
    expect(
      problemsOf(valid.replace("selector: {namespaces: [shop], labelSelectors: {app: web}}", "foo: 1")),
    ).toMatch(/spec\.attacks\[4\]\.params/);
    expect(problemsOf(valid.replace("value: debug}", "value: debug, remove: true}"))).toContain(
      "spec.attacks[0].params.remove: use kind remove-key to remove a key",
    );
  });

  it("reads every duel example under examples/", async () => {
    const files = (await readdir(examplesDir)).filter((file) => file.startsWith("duel-"));
    expect(files).toContain("duel-flux-interval.yaml");
    for (const file of files) {
      const text = await readFile(join(examplesDir, file), "utf8");
      const parsed = parseDuelFile(text, file);
      expect(parsed.attacks.length).toBeGreaterThan(0);
      expect(text).toMatch(new RegExp(`^# broadside duel examples/${file} `, "m"));
    }
  });
});
