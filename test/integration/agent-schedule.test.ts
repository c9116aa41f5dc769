import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { useBroadsideCrds, logged, optIntoChaos, startElectedAgent } from "./agent-process.js";
import { broadsideNamespace, ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import {
  adminClients,
  deployAndWait,
  eventually,
  isReady,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * A Schedule applied with kubectl, run by two `broadside agent` processes with a 3 s lease: every two
 * seconds a child PodChaos kills one pod of a Deployment. The leader is SIGKILLed mid-way; the standby
 * takes over and goes on. Read back, the children prove each instant fired at most once: one child per
 * instant, named from it, instants strictly increasing and never closer than the period, and the ledger
 * closed every shot.
 */

useBroadsideCrds("schedules.broadside.dev");

interface ChildPodChaos {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { uid: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

const group = { group: "broadside.dev", version: "v1alpha1" };

describe("broadside agent runs a Schedule: each instant at most once, across a leader's SIGKILL", () => {
  const namespace = useTestNamespace("it-schedule");

  beforeAll(async () => {
    await optIntoChaos(namespace());
    await deployAndWait(namespace(), testDeployment("web", 4));
  });

  async function children(): Promise<ChildPodChaos[]> {
    const listed = (await adminClients().custom.listNamespacedCustomObject({
      ...group,
      plural: "podchaos",
      namespace: namespace(),
    })) as { items: ChildPodChaos[] };
    return listed.items;
  }

  const instantOf = (child: ChildPodChaos) =>
    Number(child.metadata.labels?.["broadside.dev/schedule-instant"]) * 1000;
  const over = (child: ChildPodChaos) =>
    (child.status?.conditions ?? []).some(
      (c) =>
        (c.type === "Recovered" && c.status !== "Unknown") ||
        (c.type === "Injected" && c.status === "False") ||
        (c.type === "Failed" && c.status === "True"),
    );

  it("creates one child PodChaos per instant, and the standby goes on after the leader is SIGKILLed", async () => {
    const first = startElectedAgent();
    await logged(first, "leading: reconciling");
    const second = startElectedAgent();
    await logged(second, "new leader observed");

    const manifest = join(tmpdir(), `schedule-${namespace()}.yaml`);
    await writeFile(
      manifest,
      [
        "apiVersion: broadside.dev/v1alpha1",
        "kind: Schedule",
        "metadata:",
        "  name: monkey",
        `  namespace: ${namespace()}`,
        "spec:",
        '  schedule: "@every 2s"',
        "  concurrencyPolicy: Forbid",
        "  historyLimit: 100",
        "  type: PodChaos",
        "  podChaos:",
        "    action: pod-kill",
        "    mode: one",
        "    selector:",
        "      labelSelectors:",
        "        app: web",
        "",
      ].join("\n"),
    );
    const applied = await kubectl(inject("adminKubeconfig"), "apply", "-f", manifest);
    expect(applied.code, applied.stderr).toBe(0);

    await eventually("three children from the first leader", async () =>
      (await children()).length >= 3 ? true : undefined,
    );
    first.child.kill("SIGKILL");
    const killedAt = Date.now();
    await logged(second, "leading: reconciling");
    const afterKill = await eventually(
      "three children from the standby",
      async () => {
        const later = (await children()).filter((child) => instantOf(child) > killedAt);
        return later.length >= 3 ? later : undefined;
      },
      120_000,
    );
    expect(afterKill.length).toBeGreaterThanOrEqual(3);

    // Stop the schedule, and let every child's run end.
    const paused = await kubectl(
      inject("adminKubeconfig"),
      "annotate",
      "-n",
      namespace(),
      "schedule/monkey",
      "broadside.dev/paused=true",
    );
    expect(paused.code, paused.stderr).toBe(0);
    const all = await eventually(
      "every child's run to be over",
      async () => {
        const listed = await children();
        return listed.every(over) ? listed : undefined;
      },
      120_000,
    );

    const schedule = (await adminClients().custom.getNamespacedCustomObject({
      ...group,
      plural: "schedules",
      namespace: namespace(),
      name: "monkey",
    })) as { metadata: { uid: string }; status?: { lastScheduleTime?: string } };
    const instants = all.map(instantOf).sort((a, b) => a - b);
    console.log(
      `[agent-schedule] ${all.length} children, ${afterKill.length} after the SIGKILL; instants ${instants
        .map((instant) => new Date(instant).toISOString().slice(11, 19))
        .join(" ")}`,
    );
    // One child per instant, named from it, owned by the Schedule.
    for (const child of all) {
      expect(child.metadata.name).toBe(`monkey-${instantOf(child) / 1000}`);
      expect(child.metadata.ownerReferences?.map((owner) => owner.uid)).toEqual([schedule.metadata.uid]);
    }
    expect(new Set(instants).size).toBe(instants.length);
    // Strictly increasing and never closer than the period: no instant fired twice, none in between.
    for (let index = 1; index < instants.length; index += 1) {
      expect((instants[index] ?? 0) - (instants[index - 1] ?? 0)).toBeGreaterThanOrEqual(2_000);
    }
    expect(Date.parse(schedule.status?.lastScheduleTime ?? "")).toBeGreaterThanOrEqual(instants.at(-1) ?? 0);

    // The ledger closed every shot of these runs, whichever agent made it, except a shot the SIGKILLed
    // leader was making as it died: that record stays open, with its deadline, until the ledger
    // reconciler closes it there (crash safety), never lost.
    const ledger = new ConfigMapLedgerStore(adminClients(), broadsideNamespace);
    const open = (await ledger.list({ state: "open" })).filter(
      (record) => record.target.namespace === namespace(),
    );
    expect(open.filter((record) => record.actor.pid !== first.child.pid)).toEqual([]);
    for (const record of open) expect(record.deadline).toBeGreaterThan(record.createdAt);
    const closed = (await ledger.list({ state: "closed" })).filter(
      (record) => record.target.namespace === namespace(),
    );
    expect(closed.length).toBeGreaterThanOrEqual(afterKill.length);

    // The Deployment is whole again.
    await eventually("web to be whole again", async () => {
      const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
      const live = pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
      return live.filter(isReady).length === 4 ? true : undefined;
    });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
