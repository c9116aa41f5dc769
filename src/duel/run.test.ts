import { describe, expect, it } from "vitest";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import type { KubeObject } from "../kube/objects.js";
import { parseDuelFile } from "./file.js";
import { FluxDefender } from "./flux.js";
import { buildDuelReport, renderDuelReport } from "./report.js";
import { planDuel, runDuel, type DuelRun } from "./run.js";

const duel = `apiVersion: broadside.dev/v1alpha1
kind: Duel
metadata: {name: d}
spec:
  gitops: {controller: flux, name: fleet}
  legs: [{name: fast, interval: 10s, deadline: 30s}]
  attacks:
    - {name: defined, kind: drift, params: {namespace: shop, kind: configmap, name: app, key: A, value: "2"}}
    - {name: undefined-key, kind: drift, params: {namespace: shop, kind: configmap, name: app, key: B, value: x}}
`;

/** Flux over the memory cluster, whose managedFields carry no fieldsV1: Git defines data.A only. */
class MemoryFlux extends FluxDefender {
  override defines(_object: KubeObject, pointer: string): boolean {
    return pointer === "/data/A";
  }
}

function fleet(engine: MemoryEngine): void {
  engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } });
  engine.cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "shop", name: "app" },
    data: { A: "1" },
  });
  engine.cluster.put({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { namespace: "flux-system", name: "fleet" },
    spec: { interval: "1m" },
    status: { conditions: [{ type: "Ready", status: "True", message: "Applied" }] },
  });
}

function defender(engine: MemoryEngine): MemoryFlux {
  return new MemoryFlux({
    objects: engine.cluster,
    clock: engine.clock,
    namespace: "flux-system",
    name: "fleet",
  });
}

async function until(engine: MemoryEngine, what: () => Promise<boolean>): Promise<void> {
  for (let step = 0; step < 100; step += 1) {
    if (await what()) return;
    await engine.clock.advance(0);
  }
  throw new Error("never happened");
}

describe("a duel over the memory cluster", () => {
  it("sets the interval through the ledger, credits GitOps with its heal, reverts what Git lacks at the deadline", async () => {
    const engine = memoryEngine();
    fleet(engine);
    const file = parseDuelFile(duel, "d.yaml");
    const never = new Promise<void>(() => undefined);
    const running = runDuel({ ctx: engine.ctx, defender: defender(engine), stop: never }, file);
    // The interval record and the two attacks' records are open: the attacks are in.
    await until(engine, async () => (await engine.ledger.list({ state: "open" })).length === 3);
    expect(engine.cluster.get("Kustomization", "flux-system", "fleet")?.spec).toEqual({ interval: "10s" });
    expect(engine.cluster.get("ConfigMap", "shop", "app")?.data).toEqual({ A: "2", B: "x" });

    // 8 s later kustomize-controller applies Git: A back, B (not in Git) left alone.
    await engine.clock.advance(8000);
    engine.cluster.put(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { namespace: "shop", name: "app" },
        data: { A: "1", B: "x" },
      },
      "kustomize-controller",
    );
    await engine.clock.advance(30_000);
    const run: DuelRun = await running;

    const [defined, undefinedKey] = run.outcomes;
    expect(defined).toMatchObject({
      healer: "gitops",
      restoredBy: "kustomize-controller",
      gitDefines: true,
      podsStarted: 0,
    });
    expect((defined?.restoredAt ?? 0) - (defined?.injectedAt ?? 0)).toBe(8000);
    expect(undefinedKey).toMatchObject({ healer: "broadside", restoredBy: "broadside", gitDefines: false });
    expect(engine.cluster.get("ConfigMap", "shop", "app")?.data).toEqual({ A: "1" });
    expect(engine.cluster.get("Kustomization", "flux-system", "fleet")?.spec).toEqual({ interval: "1m" });
    expect(run.intervals).toMatchObject([{ leg: "fast", from: "1m", to: "10s", reverted: true }]);
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
    const faultKinds = (await engine.ledger.list()).map((record) => record.faultKind).sort();
    expect(faultKinds).toEqual(["config-drift", "config-drift", "gitops-interval"]);

    const report = buildDuelReport(
      file,
      { controller: "flux", description: "Flux Kustomization flux-system/fleet" },
      run,
    );
    expect(report.scoreboard.overall).toMatchObject({
      attacks: 2,
      misses: 1,
      cannotHeal: 1,
      selfHealRate: 0.5,
      winner: "draw",
    });
    expect(report.scoreboard.overall.healsByGitOps).toEqual({
      count: 1,
      p50Ms: 8000,
      p95Ms: 8000,
      maxMs: 8000,
    });
    const text = renderDuelReport(report, "text");
    expect(text).toContain("undefined-key: configmap shop/app data.B");
    expect(text).toContain("GitOps cannot heal this");
    const html = renderDuelReport(report, "html");
    expect(html).toContain('data-healer="gitops"');
    expect(html).toContain('data-healer="broadside"');
    const junit = renderDuelReport(report, "junit");
    expect(junit).toContain('tests="2" failures="1"');
    expect(JSON.parse(renderDuelReport(report, "json"))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(renderDuelReport(report, "md")).toContain("| fast drift |");
  });

  it("a deleted ConfigMap: GitOps recreating it is a heal, timed from the watch's ADDED event", async () => {
    const engine = memoryEngine();
    fleet(engine);
    engine.cluster.put(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "shop", name: "cfg" }, data: { K: "v" } },
      "kustomize-controller",
    );
    const file = parseDuelFile(
      `apiVersion: broadside.dev/v1alpha1
kind: Duel
metadata: {name: d}
spec:
  gitops: {controller: flux, name: fleet}
  legs: [{name: fast, interval: 10s, deadline: 30s, rounds: 2}]
  attacks:
    - {name: delete-cfg, kind: delete, params: {namespace: shop, kind: configmap, name: cfg}}
`,
      "d.yaml",
    );
    class WholeObjectFlux extends FluxDefender {
      override defines(_object: KubeObject, pointer: string): boolean {
        return pointer === "/metadata";
      }
    }
    const flux = new WholeObjectFlux({
      objects: engine.cluster,
      clock: engine.clock,
      namespace: "flux-system",
      name: "fleet",
    });
    const running = runDuel(
      { ctx: engine.ctx, defender: flux, stop: new Promise<void>(() => undefined) },
      file,
    );
    const deleted = async () =>
      (await engine.ledger.list({ state: "open" })).length === 2 &&
      engine.cluster.get("ConfigMap", "shop", "cfg") === undefined;
    // Round 1: kustomize-controller recreates it 4 s after the delete.
    await until(engine, deleted);
    await engine.clock.advance(4000);
    engine.cluster.put(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "shop", name: "cfg" }, data: { K: "v" } },
      "kustomize-controller",
    );
    // Round 2: nobody does; Broadside's revert creates it at the deadline.
    await until(engine, deleted);
    await engine.clock.advance(30_000);
    const run = await running;

    expect(
      run.outcomes.map((outcome) => [
        outcome.round,
        outcome.kind,
        outcome.healer,
        outcome.restoredBy,
        outcome.gitDefines,
      ]),
    ).toEqual([
      [1, "delete", "gitops", "kustomize-controller", true],
      [2, "delete", "broadside", "broadside", true],
    ]);
    const [first] = run.outcomes;
    expect((first?.restoredAt ?? 0) - (first?.injectedAt ?? 0)).toBe(4000);
    expect(engine.cluster.get("ConfigMap", "shop", "cfg")?.data).toEqual({ K: "v" });
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
    const kinds = (await engine.ledger.list()).map((record) => record.faultKind).sort();
    expect(kinds).toEqual(["gitops-interval", "object-delete", "object-delete"]);
  });

  it("plans without writing, and refuses a missing object naming the attack's field", async () => {
    const engine = memoryEngine();
    fleet(engine);
    const deps = { ctx: engine.ctx, defender: defender(engine), stop: new Promise<void>(() => undefined) };
    const lines = await planDuel(deps, parseDuelFile(duel, "d.yaml"));
    expect(lines).toContain(
      'leg fast: kustomization flux-system/fleet spec.interval: "1m" -> "10s"; 1 round(s), each attack reverted after 30s',
    );
    expect(
      lines.some((line) => line.includes("undefined-key") && line.includes("GitOps cannot heal this")),
    ).toBe(true);
    expect(engine.cluster.writes).toEqual([]);

    const missing = parseDuelFile(duel.replace("name: app, key: B", "name: gone, key: B"), "d.yaml");
    await expect(runDuel(deps, missing)).rejects.toThrow(/spec\.attacks\[1\]\.params\.name/);
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("refuses a Kustomization that is not Ready before anything is written", async () => {
    const engine = memoryEngine();
    fleet(engine);
    engine.cluster.put({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { namespace: "flux-system", name: "fleet" },
      spec: { interval: "1m" },
      status: { conditions: [{ type: "Ready", status: "False", message: "kustomize build failed" }] },
    });
    const deps = { ctx: engine.ctx, defender: defender(engine), stop: new Promise<void>(() => undefined) };
    await expect(runDuel(deps, parseDuelFile(duel, "d.yaml"))).rejects.toMatchObject({
      code: "BRD_DUEL_GITOPS",
      message: expect.stringContaining("Ready is False: kustomize build failed") as unknown,
    });
    expect(await engine.ledger.list()).toEqual([]);
  });
});
