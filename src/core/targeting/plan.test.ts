import { describe, expect, it } from "vitest";
import { BroadsideError } from "../errors.js";
import { planTargets } from "./plan.js";
import { readyPodFacts } from "./facts-fixture.js";
import { defaultRails, indexPods } from "./rails.js";
import type { Mode, PodFacts, RandomSource, Selector, TargetPlan } from "./types.js";

function barePod(namespace: string, name: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return readyPodFacts(namespace, name, {
    uid: `uid-${namespace}-${name}`,
    labels: { app: "web" },
    ...overrides,
  });
}

function webPod(name: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return barePod("demo", name, { owner: { kind: "Deployment", name: "web" }, ...overrides });
}

function sequence(...values: number[]): RandomSource {
  let index = 0;
  return () => {
    const value = values[index];
    index += 1;
    if (value === undefined)
      throw new Error(`random source asked for draw ${index}, test provided ${values.length}`);
    return value;
  };
}

const noDraws = sequence();

/** A small cluster: a web Deployment, a db StatefulSet, a bare pod, system pods and Broadside itself. */
const cluster: PodFacts[] = [
  webPod("web-1"),
  webPod("web-2"),
  webPod("web-3"),
  webPod("web-4", { ready: false, phase: "Pending" }),
  webPod("web-old", { deleting: true }),
  barePod("demo", "db-0", { labels: { app: "db" }, owner: { kind: "StatefulSet", name: "db" } }),
  barePod("demo", "solo"),
  barePod("kube-system", "coredns-1", { owner: { kind: "Deployment", name: "coredns" } }),
  barePod("broadside", "broadside-0", { uid: "uid-self", owner: { kind: "Deployment", name: "broadside" } }),
];

const rails = defaultRails("broadside", { selfPodUids: ["uid-self"] });
/** Rails without the cap's bite, to look at the mode alone. */
const wideRails = defaultRails("broadside", { maxFractionOfReadyPerWorkload: 1 });

/** The plan as a dry run prints it: names and reasons. */
function summary(plan: TargetPlan): { selected: string[]; excluded: string[]; warnings: readonly string[] } {
  return {
    selected: plan.selected.map((pod) => `${pod.namespace}/${pod.name}`),
    excluded: plan.excluded.map(({ pod, by, reason }) => `${pod.namespace}/${pod.name} [${by}] ${reason}`),
    warnings: plan.warnings,
  };
}

describe("planTargets: a dry run explains every pod", () => {
  it("selectors, then rails, then the mode, then the blast-radius cap", () => {
    const plan = planTargets(cluster, { labelSelector: "app=web" }, { kind: "all" }, rails, noDraws);
    expect(summary(plan)).toEqual({
      selected: ["demo/web-1"],
      excluded: [
        'demo/db-0 [selector] label selector app=web: label app is "db"',
        "demo/web-old [rail] pod is already being deleted",
        "kube-system/coredns-1 [rail] namespace kube-system is protected",
        "broadside/broadside-0 [rail] namespace broadside is Broadside's own",
        // web-4 is not Ready: it is still chosen, but does not count towards the 3 ready pods.
        "demo/web-2 [rail] blast-radius cap: at most 1 of 3 ready pods of Deployment demo/web at once; --unsafe lifts it",
        "demo/web-3 [rail] blast-radius cap: at most 1 of 3 ready pods of Deployment demo/web at once; --unsafe lifts it",
        "demo/web-4 [rail] blast-radius cap: at most 1 of 3 ready pods of Deployment demo/web at once; --unsafe lifts it",
        // A pod without owner is its own workload of one: half of one ready pod is none.
        "demo/solo [rail] blast-radius cap: at most 0 of 1 ready pod of Pod demo/solo at once; --unsafe lifts it",
      ],
      warnings: [
        "blast-radius cap dropped 3 of 4 chosen pods of Deployment demo/web",
        "blast-radius cap dropped 1 of 1 chosen pod of Pod demo/solo",
      ],
    });
  });

  it("with --unsafe hits everything the rails allow, and warns per workload over the cap", () => {
    const unsafe = defaultRails("broadside", { selfPodUids: ["uid-self"], unsafe: true });
    const plan = planTargets(cluster, { labelSelector: "app=web" }, { kind: "all" }, unsafe, noDraws);
    expect(summary(plan).selected).toEqual([
      "demo/web-1",
      "demo/web-2",
      "demo/web-3",
      "demo/web-4",
      "demo/solo",
    ]);
    expect(plan.warnings).toEqual([
      "--unsafe: 4 pods of Deployment demo/web chosen, over the cap of 1",
      "--unsafe: 1 pod of Pod demo/solo chosen, over the cap of 0",
    ]);
  });

  it("excludes a pod by the first stage that rejects it: a selector miss outranks a rail", () => {
    const plan = planTargets(cluster, { namespaces: ["demo"] }, { kind: "all" }, rails, noDraws);
    expect(summary(plan).excluded).toContain(
      "kube-system/coredns-1 [selector] namespace kube-system is not in [demo]",
    );
  });

  it("refuses an invalid label selector before planning anything", () => {
    expect(() =>
      planTargets(cluster, { labelSelector: "app=web," }, { kind: "all" }, rails, noDraws),
    ).toThrow(BroadsideError);
    expect(() =>
      planTargets(cluster, { labelSelector: "app in web" }, { kind: "all" }, rails, noDraws),
    ).toThrow(/^--selector: /);
  });
});

describe("planTargets: every rail", () => {
  const optIn = defaultRails("broadside", { optIn: true, maxFractionOfReadyPerWorkload: 1 });
  const enabled = { "broadside.dev/chaos": "enabled" };
  it.each<[string, PodFacts, typeof rails, string | undefined]>([
    ["protected namespace", barePod("kube-system", "x"), wideRails, "namespace kube-system is protected"],
    ["Broadside's namespace", barePod("broadside", "x"), wideRails, "namespace broadside is Broadside's own"],
    [
      "opt-in without the annotation",
      webPod("web-1"),
      optIn,
      "namespace demo has not opted in; annotate it broadside.dev/chaos=enabled",
    ],
    ["opt-in with the annotation", webPod("web-1", { namespaceAnnotations: enabled }), optIn, undefined],
    [
      "Broadside's own pod outside its namespace",
      webPod("web-1", { uid: "uid-self" }),
      defaultRails("broadside", { selfPodUids: ["uid-self"], maxFractionOfReadyPerWorkload: 1 }),
      "pod is part of Broadside itself",
    ],
    [
      "a pod already being deleted",
      webPod("web-1", { deleting: true }),
      wideRails,
      "pod is already being deleted",
    ],
    ["a healthy pod", webPod("web-1"), wideRails, undefined],
  ])("%s", (_story, pod, railsUnderTest, reason) => {
    const plan = planTargets([pod], {}, { kind: "all" }, railsUnderTest, noDraws);
    if (reason === undefined) expect(plan.selected).toEqual([pod]);
    else expect(plan.excluded).toEqual([{ pod, by: "rail", reason }]);
  });
});

describe("planTargets: modes pick among the eligible pods", () => {
  const five = ["web-1", "web-2", "web-3", "web-4", "web-5"].map((name) => webPod(name));

  it.each<[string, Mode, number[], string[], string | undefined]>([
    ["one, first draw", { kind: "one" }, [0], ["web-1"], "mode one: not the one chosen"],
    ["one, last draw", { kind: "one" }, [0.99], ["web-5"], "mode one: not the one chosen"],
    ["all", { kind: "all" }, [], ["web-1", "web-2", "web-3", "web-4", "web-5"], undefined],
    [
      "fixed 2",
      { kind: "fixed", count: 2 },
      [0.5, 0],
      ["web-2", "web-3"],
      "mode fixed 2: not among the 2 chosen",
    ],
    [
      "fixed 9 takes all five",
      { kind: "fixed", count: 9 },
      [],
      ["web-1", "web-2", "web-3", "web-4", "web-5"],
      undefined,
    ],
    [
      "fixed-percent 50 of 5 rounds up to 3",
      { kind: "fixed-percent", percent: 50 },
      [0, 0, 0],
      ["web-1", "web-2", "web-3"],
      "mode fixed-percent 50: not among the 3 chosen (50% of 5 eligible, rounded up)",
    ],
    [
      "fixed-percent 1 of 5 still hits one",
      { kind: "fixed-percent", percent: 1 },
      [0],
      ["web-1"],
      "mode fixed-percent 1: not among the 1 chosen (1% of 5 eligible, rounded up)",
    ],
    [
      "random-max-percent 40 drawing 40%",
      { kind: "random-max-percent", maxPercent: 40 },
      [0.99, 0, 0],
      ["web-1", "web-2"],
      "mode random-max-percent 40: not among the 2 chosen (drew 40% of 5 eligible, rounded up)",
    ],
    [
      "random-max-percent 40 drawing 0%",
      { kind: "random-max-percent", maxPercent: 40 },
      [0],
      [],
      "mode random-max-percent 40: drew 0%, so none of 5 eligible pods is chosen",
    ],
  ])("%s", (_story, mode, draws, selected, reason) => {
    const plan = planTargets(five, {}, mode, wideRails, sequence(...draws));
    expect(plan.selected.map((pod) => pod.name)).toEqual(selected);
    const notChosen = five.filter((pod) => !plan.selected.includes(pod));
    expect(plan.excluded).toEqual(notChosen.map((pod) => ({ pod, by: "mode", reason })));
  });

  it("takes percentages of the eligible pods, not of all matched ones", () => {
    const pods = [...five.slice(0, 2), ...five.slice(2).map((pod) => ({ ...pod, deleting: true }))];
    const plan = planTargets(pods, {}, { kind: "fixed-percent", percent: 50 }, wideRails, sequence(0));
    // 2 eligible × 50% = 1, where 5 matched × 50% would have been 3.
    expect(plan.selected.map((pod) => pod.name)).toEqual(["web-1"]);
  });

  it.each<[Mode]>([
    [{ kind: "one" }],
    [{ kind: "all" }],
    [{ kind: "fixed", count: 1 }],
    [{ kind: "fixed-percent", percent: 100 }],
    [{ kind: "random-max-percent", maxPercent: 100 }],
  ])("with no eligible pod, %j chooses nothing, draws nothing and says why", (mode) => {
    const plan = planTargets([webPod("web-1", { deleting: true })], {}, mode, wideRails, noDraws);
    expect(plan.selected).toEqual([]);
    expect(plan.excluded.map((exclusion) => exclusion.by)).toEqual(["rail"]);
    expect(plan.warnings).toContain("every pod the selector matches (1) is excluded by a rail");
  });

  it.each<[Mode, number[]]>([
    [{ kind: "one" }, [0.7]],
    [{ kind: "fixed", count: 3 }, []],
    [{ kind: "fixed-percent", percent: 1 }, []],
    [{ kind: "random-max-percent", maxPercent: 100 }, [0.999]],
  ])("with one eligible pod, %j hits it", (mode, draws) => {
    const only = webPod("web-1");
    expect(planTargets([only], {}, mode, wideRails, sequence(...draws)).selected).toEqual([only]);
  });

  it("warns when random-max-percent draws 0%", () => {
    const plan = planTargets(
      five,
      {},
      { kind: "random-max-percent", maxPercent: 10 },
      wideRails,
      sequence(0),
    );
    expect(plan.warnings).toContain("mode random-max-percent 10 drew 0%: no pod is chosen this time");
  });

  it("gives the same plan for the same draws", () => {
    const plan = () => planTargets(five, {}, { kind: "fixed", count: 2 }, wideRails, sequence(0.3, 0.6));
    expect(summary(plan())).toEqual(summary(plan()));
  });

  it("refuses a mode built in code with an impossible value", () => {
    expect(() => planTargets(five, {}, { kind: "fixed", count: 0 }, wideRails, noDraws)).toThrow(RangeError);
  });
});

describe("planTargets: warnings for plans that hit nothing", () => {
  it.each<[string, readonly PodFacts[], Selector, string[]]>([
    ["no pods listed", [], { namespaces: ["demo"] }, ["there are no pods to choose from"]],
    [
      "selector matches none",
      [webPod("web-1")],
      { namespaces: ["other"] },
      ["no pod matches the selector (1 considered)"],
    ],
    [
      "rails exclude every match",
      [barePod("kube-system", "x")],
      { namespaces: ["kube-system"] },
      ["every pod the selector matches (1) is excluded by a rail"],
    ],
    [
      "an empty selector is pointed out",
      [webPod("web-1")],
      {},
      ["the selector is empty, so it matches every pod listed"],
    ],
  ])("%s", (_story, pods, selector, warnings) => {
    expect(planTargets(pods, selector, { kind: "all" }, wideRails, noDraws).warnings).toEqual(warnings);
  });
});

describe("planTargets: one pod among thousands, without looking at them all", () => {
  /** A seeded Lehmer generator: many draws, the same every run. */
  function seeded(seed: number): RandomSource {
    let state = seed;
    return () => {
      state = (state * 48_271) % 2_147_483_647;
      return state / 2_147_483_647;
    };
  }

  /**
   * `size` pods of 100 workloads: every odd pod is already terminating, and every tenth lives in a
   * protected namespace, so a third of them or so may be picked.
   */
  function fleet(size: number): PodFacts[] {
    return Array.from({ length: size }, (_, index) =>
      barePod(index % 10 === 0 ? "kube-system" : "demo", `pod-${index}`, {
        owner: { kind: "Deployment", name: `w-${index % 100}` },
        deleting: index % 2 === 1,
      }),
    );
  }

  const eligible = (pod: PodFacts): boolean => pod.namespace === "demo" && !pod.deleting;

  it("picks every eligible pod equally often, and never another", () => {
    const pods = fleet(2_000);
    const random = seeded(11);
    const index = indexPods(pods);
    const hits = new Map<string, number>();
    for (let round = 0; round < 8_000; round += 1) {
      const [pod] = planTargets(pods, {}, { kind: "one" }, wideRails, random, index).selected;
      if (pod === undefined || !eligible(pod)) throw new Error(`picked ${pod?.name ?? "nothing"}`);
      hits.set(pod.name, (hits.get(pod.name) ?? 0) + 1);
    }
    // 800 eligible pods, 10 picks each on average: in ten groups of 80 pods (800 picks per group
    // expected, standard deviation about 27), a sampler biased towards any part of the list shows.
    const groups = Array.from({ length: 10 }, () => 0);
    for (const [name, count] of hits) {
      const group = Math.floor((Number(name.slice(4)) / 2_000) * 10);
      groups[group] = (groups[group] ?? 0) + count;
    }
    for (const count of groups) expect(Math.abs(count - 800)).toBeLessThan(120);
    expect(hits.size).toBeGreaterThan(780);
  });

  it("reads a handful of pods for the pick, and all of them only when the exclusions are asked for", () => {
    let labelReads = 0;
    const pods = fleet(10_000).map((pod) => ({
      ...pod,
      get labels() {
        labelReads += 1;
        return pod.labels;
      },
    }));
    const plan = planTargets(pods, { labelSelector: "app=web" }, { kind: "one" }, wideRails, seeded(3));
    expect(plan.selected).toHaveLength(1);
    expect(labelReads).toBeLessThan(50);
    expect(plan.excluded).toHaveLength(9_999);
    expect(labelReads).toBeGreaterThanOrEqual(10_000);
  });

  it("explains every pod it leaves out as the walk over them does", () => {
    const pods = fleet(2_000);
    const sampled = planTargets(pods, {}, { kind: "fixed", count: 3 }, rails, seeded(5));
    const picked = new Set(sampled.selected);
    expect(sampled.selected).toHaveLength(3);
    expect(sampled.excluded.filter((e) => picked.has(e.pod))).toEqual([]);
    expect(sampled.selected.length + sampled.excluded.length).toBe(2_000);
    // The walk over the same pods gives the same reasons for every pod neither plan picked.
    const walked = planTargets(pods.slice(0, 999), {}, { kind: "fixed", count: 3 }, rails, seeded(5));
    const reasons = new Map(sampled.excluded.map((e) => [e.pod, `[${e.by}] ${e.reason}`]));
    for (const { pod, by, reason } of walked.excluded) {
      if (!picked.has(pod)) expect(reasons.get(pod)).toBe(`[${by}] ${reason}`);
    }
    expect(reasons.get(pods[1] as PodFacts)).toBe("[rail] pod is already being deleted");
    expect(reasons.get(pods[10] as PodFacts)).toBe("[rail] namespace kube-system is protected");
  });

  it("walks the pods when eligible ones are too rare to find by drawing, and still picks one", () => {
    const pods = fleet(2_000).map((pod) => (pod.name === "pod-1234" ? pod : { ...pod, deleting: true }));
    for (let seed = 1; seed <= 20; seed += 1) {
      const plan = planTargets(pods, {}, { kind: "one" }, wideRails, seeded(seed));
      expect(plan.selected.map((pod) => pod.name)).toEqual(["pod-1234"]);
    }
    const none = planTargets(pods, { labelSelector: "app=db" }, { kind: "one" }, wideRails, seeded(1));
    expect(none.selected).toEqual([]);
    expect(none.warnings).toEqual(["no pod matches the selector (2000 considered)"]);
  });

  it("keeps the blast-radius cap: a workload with one ready pod is not hit", () => {
    const pods = fleet(2_000).map((pod) => ({
      ...pod,
      owner: { kind: "Deployment", name: "solo" },
      ready: false,
    }));
    const lonely = pods.map((pod, index) => (index === 2 ? { ...pod, ready: true } : pod));
    const plan = planTargets(lonely, {}, { kind: "one" }, rails, seeded(9));
    expect(plan.selected).toEqual([]);
    expect(plan.warnings).toEqual([
      "the selector is empty, so it matches every pod listed",
      expect.stringMatching(/^blast-radius cap dropped 1 of 1 chosen pod of Deployment demo\/solo/),
    ]);
  });
});
