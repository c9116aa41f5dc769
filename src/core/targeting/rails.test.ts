import { describe, expect, it } from "vitest";
import { readyPodFacts } from "./facts-fixture.js";
import { firstFailure } from "./predicates.js";
import {
  applyBlastRadiusCap,
  capFor,
  defaultRails,
  railPredicates,
  readyPerWorkload,
  workloadOf,
} from "./rails.js";
import type { PodFacts } from "./types.js";

function barePod(name: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return readyPodFacts("demo", name, { uid: `uid-${name}`, ...overrides });
}

/** A pod of Deployment demo/web unless the overrides say otherwise. */
function pod(name: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return barePod(name, { owner: { kind: "Deployment", name: "web" }, ...overrides });
}

const rails = defaultRails("broadside");

describe("defaultRails", () => {
  it("protects the system namespaces, caps at half and leaves opt-in and --unsafe off", () => {
    expect(rails).toEqual({
      protectedNamespaces: ["kube-system", "kube-public", "kube-node-lease"],
      broadsideNamespace: "broadside",
      optIn: false,
      maxFractionOfReadyPerWorkload: 0.5,
      unsafe: false,
      selfPodUids: [],
      watchedNamespaces: "all",
    });
  });

  it("takes overrides but always its own namespace", () => {
    expect(defaultRails("b", { optIn: true, unsafe: true }).optIn).toBe(true);
  });

  it.each([-0.1, 1.5, Number.NaN])("refuses a cap fraction of %d", (fraction) => {
    expect(() => defaultRails("b", { maxFractionOfReadyPerWorkload: fraction })).toThrow(RangeError);
  });
});

describe("per-pod rails", () => {
  const optIn = defaultRails("broadside", { optIn: true, selfPodUids: ["uid-broadside-0"] });
  it.each<[string, PodFacts, typeof rails, string | undefined]>([
    ["an ordinary pod passes", pod("web-1"), rails, undefined],
    [
      "kube-system is protected",
      pod("coredns-1", { namespace: "kube-system" }),
      rails,
      "namespace kube-system is protected",
    ],
    [
      "kube-public is protected",
      pod("x", { namespace: "kube-public" }),
      rails,
      "namespace kube-public is protected",
    ],
    [
      "kube-node-lease is protected",
      pod("x", { namespace: "kube-node-lease" }),
      rails,
      "namespace kube-node-lease is protected",
    ],
    [
      "Broadside's namespace is protected",
      pod("broadside-0", { namespace: "broadside" }),
      rails,
      "namespace broadside is Broadside's own",
    ],
    [
      "--unsafe does not lift protected namespaces",
      pod("coredns-1", { namespace: "kube-system" }),
      defaultRails("broadside", { unsafe: true }),
      "namespace kube-system is protected",
    ],
    [
      "opt-in refuses a namespace without the annotation",
      pod("web-1"),
      optIn,
      "namespace demo has not opted in; annotate it broadside.dev/chaos=enabled",
    ],
    [
      "opt-in refuses any other value",
      pod("web-1", { namespaceAnnotations: { "broadside.dev/chaos": "disabled" } }),
      optIn,
      "namespace demo has not opted in; annotate it broadside.dev/chaos=enabled",
    ],
    [
      "an agent in namespaced mode refuses a namespace outside its list",
      pod("web-1", { namespace: "billing", namespaceAnnotations: { "broadside.dev/chaos": "enabled" } }),
      defaultRails("broadside", { optIn: true, watchedNamespaces: ["demo", "shop"] }),
      "namespace billing is outside this agent's namespaces (--watch-namespaces demo,shop)",
    ],
    [
      "an agent in namespaced mode takes a listed namespace, opted in",
      pod("web-1", { namespaceAnnotations: { "broadside.dev/chaos": "enabled" } }),
      defaultRails("broadside", { optIn: true, watchedNamespaces: ["demo", "shop"] }),
      undefined,
    ],
    [
      "a listed namespace is still protected: the list never widens the rails",
      pod("x", { namespace: "kube-system" }),
      defaultRails("broadside", { watchedNamespaces: ["kube-system"] }),
      "namespace kube-system is protected",
    ],
    [
      "opt-in admits an annotated namespace",
      pod("web-1", { namespaceAnnotations: { "broadside.dev/chaos": "enabled" } }),
      optIn,
      undefined,
    ],
    [
      "Broadside's own pods are never chosen, wherever they run",
      pod("broadside-0", {
        uid: "uid-broadside-0",
        namespaceAnnotations: { "broadside.dev/chaos": "enabled" },
      }),
      optIn,
      "pod is part of Broadside itself",
    ],
    ["pods already being deleted", pod("web-1", { deleting: true }), rails, "pod is already being deleted"],
    ["not Ready pods stay eligible", pod("web-1", { ready: false }), rails, undefined],
  ])("%s", (_story, facts, railsUnderTest, reason) => {
    expect(firstFailure(facts, railPredicates(railsUnderTest))).toBe(reason);
  });
});

describe("workloads", () => {
  it("names a workload by kind, namespace and name", () => {
    expect(workloadOf(pod("web-1"))).toBe("Deployment demo/web");
    expect(workloadOf(pod("db-0", { owner: { kind: "StatefulSet", name: "db" } }))).toBe(
      "StatefulSet demo/db",
    );
  });

  it("counts a pod without owner as its own workload", () => {
    expect(workloadOf(barePod("solo"))).toBe("Pod demo/solo");
  });

  it("counts ready pods per workload; deleting pods are not ready for the cap", () => {
    const counts = readyPerWorkload([
      pod("web-1"),
      pod("web-2", { ready: false }),
      pod("web-3", { deleting: true }),
      pod("web-4"),
      pod("web-1", { namespace: "other" }),
    ]);
    expect(Object.fromEntries(counts)).toEqual({ "Deployment demo/web": 2, "Deployment other/web": 1 });
  });
});

describe("capFor: floor(fraction × ready)", () => {
  it.each([
    [0.5, 3, 1],
    [0.5, 4, 2],
    [0.5, 1, 0],
    [0.5, 0, 0],
    [1, 3, 3],
    [0, 5, 0],
    // 0.29 × 100 is 28.999999999999996 in floating point; the user meant 29.
    [0.29, 100, 29],
    [0.1, 3, 0],
  ])("fraction %d of %d ready allows %d", (fraction, ready, cap) => {
    expect(capFor(defaultRails("b", { maxFractionOfReadyPerWorkload: fraction }), ready)).toBe(cap);
  });
});

describe("applyBlastRadiusCap", () => {
  const [web1, web2, web3] = [pod("web-1"), pod("web-2"), pod("web-3")];
  const web = [web1, web2, web3];

  it("keeps the first pods of a workload up to the cap and names the cap in the reason", () => {
    const outcome = applyBlastRadiusCap(web, web, rails);
    expect(outcome.kept.map((p) => p.name)).toEqual(["web-1"]);
    expect(outcome.dropped).toEqual([
      {
        pod: web2,
        by: "rail",
        reason:
          "blast-radius cap: at most 1 of 3 ready pods of Deployment demo/web at once; --unsafe lifts it",
      },
      {
        pod: web3,
        by: "rail",
        reason:
          "blast-radius cap: at most 1 of 3 ready pods of Deployment demo/web at once; --unsafe lifts it",
      },
    ]);
    expect(outcome.warnings).toEqual(["blast-radius cap dropped 2 of 3 chosen pods of Deployment demo/web"]);
  });

  it("counts ready pods among all listed pods, not only the chosen ones", () => {
    const all = [...web, pod("web-4")];
    expect(applyBlastRadiusCap([web1, web2], all, rails).kept).toEqual([web1, web2]);
  });

  it("lifts the cap with --unsafe and says so", () => {
    const outcome = applyBlastRadiusCap(web, web, defaultRails("b", { unsafe: true }));
    expect(outcome.kept).toEqual(web);
    expect(outcome.dropped).toEqual([]);
    expect(outcome.warnings).toEqual(["--unsafe: 3 pods of Deployment demo/web chosen, over the cap of 1"]);
  });

  it("is silent when every workload is within its cap", () => {
    const db = pod("db-0", { owner: { kind: "StatefulSet", name: "db" } });
    const db1 = pod("db-1", { owner: { kind: "StatefulSet", name: "db" } });
    const outcome = applyBlastRadiusCap([web1, db], [...web, db, db1], rails);
    expect(outcome).toEqual({ kept: [web1, db], dropped: [], warnings: [] });
  });
});
