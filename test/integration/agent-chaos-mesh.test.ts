import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { installCrds, logged, optIntoChaos, startAgent } from "./agent-process.js";
import {
  adminClients,
  deployAndWait,
  eventually,
  isReady,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * `broadside agent --serve-chaos-mesh-api`: with Broadside's drop-in CRDs of chaos-mesh.org installed,
 * a PodChaos manifest written as Chaos Mesh documents it is reconciled as Broadside's own (the pod killed,
 * the status and Events on the chaos-mesh.org object). Beside a chaos-mesh.org CRD that lacks Broadside's
 * mark (a real Chaos Mesh's), the agent refuses to start before it watches or changes anything.
 */

const chaosMeshCrds = join(repoRoot, "deploy", "crds", "chaos-mesh");
const mark = "broadside.dev/installed-by";
let installedBroadsideCrds = false;
let installedChaosMeshCrds = false;

beforeAll(async () => {
  installedBroadsideCrds = await installCrds(join(repoRoot, "deploy", "crds"), "podchaos.broadside.dev");
  installedChaosMeshCrds = await installCrds(chaosMeshCrds, "podchaos.chaos-mesh.org");
});

afterAll(async () => {
  const admin = inject("adminKubeconfig");
  // CRDs are cluster-wide: put back the mark a test took off, and remove only what this file installed.
  await kubectl(admin, "annotate", "--overwrite", "crd", "podchaos.chaos-mesh.org", `${mark}=broadside`);
  if (installedChaosMeshCrds) await kubectl(admin, "delete", "-f", chaosMeshCrds);
  if (installedBroadsideCrds) await kubectl(admin, "delete", "-f", join(repoRoot, "deploy", "crds"));
});

interface ChaosStatus {
  observedGeneration?: number;
  conditions?: { type: string; status: string; reason?: string }[];
  targets?: {
    kind: string;
    name: string;
    uid?: string;
    outcome: string;
    milestones?: Record<string, number>;
  }[];
}

describe("broadside agent --serve-chaos-mesh-api", () => {
  const namespace = useTestNamespace("it-chaos-mesh");

  beforeAll(async () => {
    await optIntoChaos(namespace());
    await deployAndWait(namespace(), testDeployment("tikv", 3));
  });

  async function statusOf(name: string): Promise<ChaosStatus | undefined> {
    const object = (await adminClients().custom.getNamespacedCustomObjectStatus({
      group: "chaos-mesh.org",
      version: "v1alpha1",
      plural: "podchaos",
      namespace: namespace(),
      name,
    })) as { status?: ChaosStatus };
    return object.status;
  }

  it("reconciles a chaos-mesh.org PodChaos as Chaos Mesh documents it: one pod killed, the status written", async () => {
    const before = await adminClients().core.listNamespacedPod({ namespace: namespace() });
    const uidsBefore = new Set(before.items.map((pod) => pod.metadata?.uid));
    const agent = startAgent("--serve-chaos-mesh-api");
    await logged(agent, "leading: reconciling");
    // Chaos Mesh's own example (chaos-mesh.org/docs/simulate-pod-chaos-on-kubernetes), its labels ours.
    const manifest = join(tmpdir(), `chaos-mesh-podchaos-${namespace()}.yaml`);
    await writeFile(
      manifest,
      [
        "apiVersion: chaos-mesh.org/v1alpha1",
        "kind: PodChaos",
        "metadata:",
        "  name: pod-kill-example",
        `  namespace: ${namespace()}`,
        "spec:",
        "  action: pod-kill",
        "  mode: one",
        "  selector:",
        "    labelSelectors:",
        "      'app': 'tikv'",
        "",
      ].join("\n"),
    );
    const applied = await kubectl(inject("adminKubeconfig"), "apply", "-f", manifest);
    expect(applied.code, applied.stderr).toBe(0);
    const status = await eventually(
      "the chaos-mesh.org PodChaos to be recovered",
      async () => {
        const current = await statusOf("pod-kill-example");
        const recovered = current?.conditions?.find((c) => c.type === "Recovered");
        return recovered?.status === "True" ? current : undefined;
      },
      120_000,
    ).catch((error: unknown) => {
      const tail = agent.logs.slice(-15).map((line) => JSON.stringify(line));
      throw new Error(`${String(error)}\nagent:\n${tail.join("\n")}`, { cause: error });
    });
    expect(status.observedGeneration).toBe(1);
    expect(status.conditions?.find((c) => c.type === "Injected")).toMatchObject({
      status: "True",
      reason: "Shot",
    });
    expect(status.targets).toHaveLength(1);
    const [target] = status.targets ?? [];
    expect(target).toMatchObject({ kind: "Pod", outcome: "recovered" });
    // The pod named in the status was one of ours, and is gone; the Deployment is whole again.
    expect(uidsBefore.has(target?.uid)).toBe(true);
    const after = await adminClients().core.listNamespacedPod({ namespace: namespace() });
    const live = after.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
    expect(live.some((pod) => pod.metadata?.uid === target?.uid)).toBe(false);
    expect(live.filter(isReady)).toHaveLength(3);

    const events = await eventually("the Events on the chaos-mesh.org object", async () => {
      const listed = await adminClients().core.listNamespacedEvent({
        namespace: namespace(),
        fieldSelector: "involvedObject.kind=PodChaos,involvedObject.name=pod-kill-example",
      });
      return listed.items.some((event) => event.reason === "Recovered") ? listed.items : undefined;
    });
    expect(new Set(events.map((event) => event.involvedObject.apiVersion))).toEqual(
      new Set(["chaos-mesh.org/v1alpha1"]),
    );
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("refuses to start beside a chaos-mesh.org CRD Broadside did not install, before watching anything", async () => {
    const admin = inject("adminKubeconfig");
    // What a real Chaos Mesh's CRD looks like to the agent: the same name, without Broadside's mark.
    const unmarked = await kubectl(admin, "annotate", "crd", "podchaos.chaos-mesh.org", `${mark}-`);
    expect(unmarked.code, unmarked.stderr).toBe(0);
    try {
      const agent = startAgent("--serve-chaos-mesh-api");
      expect(await agent.exited).toBe(1);
      expect(agent.stderr()).toContain("BRD_CHAOS_MESH_API_REFUSED");
      expect(agent.stderr()).toContain(
        "--serve-chaos-mesh-api: the CRD podchaos.chaos-mesh.org was not installed by Broadside",
      );
      // Refused before it served, watched or led.
      expect(agent.logs.some((line) => line.msg === "agent serving")).toBe(false);
    } finally {
      await kubectl(admin, "annotate", "--overwrite", "crd", "podchaos.chaos-mesh.org", `${mark}=broadside`);
    }
  });
});
