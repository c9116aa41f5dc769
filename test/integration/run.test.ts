import { Watch, type V1Pod } from "@kubernetes/client-node";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { broadsideNamespace } from "../../src/kube/ledger-store.js";
import { parseRunReport } from "../../src/experiments/report/json.js";
import type { RunReport } from "../../src/experiments/report/run-report.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  isReady,
  testDeployment,
  useTestNamespace,
} from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * `broadside run` against the sandbox: malformed files change nothing, and the recovery figures of a
 * pod kill are the times the watch events of the replacement arrived.
 */

const namespace = useTestNamespace("run");
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "broadside-run-"));
  await deployAndWait(namespace(), testDeployment("web", 2, 1));
});

function experiment(method: string): string {
  return `apiVersion: broadside.dev/v1alpha1
kind: Experiment
metadata:
  name: web-pod-loss
  namespace: ${namespace()}
spec:
  title: web survives the loss of a pod
  hypothesis:
    window: 2s
    probes:
      - name: web-ready
        kubernetes:
          kind: deployment
          namespace: ${namespace()}
          name: web
          condition:
            readyReplicasAtLeast: 1
  method:
${method}
`;
}

const podKill = `    - fault: pod-kill
      selector:
        labelSelectors:
          app: web
      mode: one
      gracePeriod: 1`;

/** Every resourceVersion in the test namespace and every ledger record: what "nothing changed" means. */
async function clusterFingerprint(): Promise<string[]> {
  const kube = adminClients();
  const [pods, deployments, ledger] = await Promise.all([
    kube.core.listNamespacedPod({ namespace: namespace() }),
    kube.apps.listNamespacedDeployment({ namespace: namespace() }),
    kube.core.listNamespacedConfigMap({ namespace: broadsideNamespace }).catch(() => ({ items: [] })),
  ]);
  return [...pods.items, ...deployments.items, ...ledger.items]
    .map((o) => `${o.metadata?.name ?? ""}@${o.metadata?.resourceVersion ?? ""}`)
    .sort();
}

describe("broadside run refuses malformed files before touching the cluster", () => {
  it.each([
    [
      "bad YAML",
      () => "apiVersion: broadside.dev/v1alpha1\nkind: [Experiment\n",
      /bad\.yaml:\d+:\d+: Flow sequence/,
    ],
    [
      "an unknown field",
      () => experiment(`${podKill}\n      colour: red`),
      /spec\.method\[0\]\.colour: unknown field/,
    ],
    [
      "a wrong type",
      () => experiment(podKill.replace("gracePeriod: 1", 'gracePeriod: "soon"')),
      /spec\.method\[0\]\.gracePeriod/,
    ],
    [
      "a negative duration",
      () => experiment("    - wait: -5s"),
      /spec\.method\[0\]\.wait: must not be negative/,
    ],
    [
      "an impossible cron",
      () => `apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: { name: never, namespace: ${namespace()} }
spec:
  schedule: "* * 31 2 *"
  type: PodChaos
  podChaos: { action: pod-kill, mode: one, selector: { labelSelectors: { app: web } } }
`,
      /spec\.schedule: .*never/,
    ],
  ])("%s: exit 2, the path of the field, nothing injected", async (_what, text, message) => {
    const file = join(dir, "bad.yaml");
    // Written when the test runs: the namespace exists only then.
    await writeFile(file, text());
    const before = await clusterFingerprint();
    const result = await broadside("run", file, "--sandbox", integrationSandboxName, "--for", "1m");
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await clusterFingerprint()).toEqual(before);
  });
});

/** The times this process receives the watch events of pods it did not know before the shot. */
async function watchReplacements(): Promise<{
  created: Map<string, number>;
  ready: Map<string, number>;
  stop(): void;
}> {
  const created = new Map<string, number>();
  const ready = new Map<string, number>();
  const known = new Set(
    (await adminClients().core.listNamespacedPod({ namespace: namespace() })).items.map(
      (p) => p.metadata?.uid ?? "",
    ),
  );
  const request = await new Watch(adminClients().config).watch(
    `/api/v1/namespaces/${namespace()}/pods`,
    {},
    (_type: string, pod: V1Pod) => {
      const uid = pod.metadata?.uid ?? "";
      if (known.has(uid)) return;
      const at = Date.now();
      if (!created.has(uid)) created.set(uid, at);
      if (isReady(pod) && !ready.has(uid)) ready.set(uid, at);
    },
    () => undefined,
  );
  return {
    created,
    ready,
    stop: () => {
      request.abort();
    },
  };
}

/**
 * The verdict and its reasons from a run's terminal report (stdout), on one line because a CI summary
 * shows only the first line of a failed assertion's message; stderr when there is no verdict.
 */
function verdictLine(result: { stdout: string; stderr: string }): string {
  const at = result.stdout.indexOf("Verdict:");
  if (at === -1) return result.stderr.replace(/\s+/g, " ");
  return result.stdout.slice(at).split("\n").slice(0, 8).join(" ").replace(/\s+/g, " ");
}

/**
 * Why the run's verdict failed, less what other test files cause: they share the sandbox's three nodes
 * and shoot pods of their own namespaces meanwhile, so a node-mate of another namespace may vanish during
 * this run, which the report rightly calls lost isolation. Any other reason (a check, a fault not
 * recovered, a node-mate of this namespace) stays; an aborted run is a reason too.
 */
function unexplainedReasons(report: RunReport): string[] {
  const { verdict } = report;
  if (verdict.result === "passed") return [];
  if (verdict.result === "aborted") return [verdict.reason];
  const othersNodeMate = /^isolation: node-mate ([^/]+)\//;
  return verdict.reasons.filter((reason) => {
    const mate = othersNodeMate.exec(reason);
    return mate === null || mate[1] === namespace();
  });
}

/** The first victim of the report's first fault and its replacement, as the run measured them. */
function firstReplacement(report: RunReport) {
  const [fault] = report.faults;
  if (fault?.type !== "pod") throw new Error("no pod fault in the report");
  const victim = fault.victims[0];
  if (victim?.replacement.expected !== true || victim.requestedAt === undefined) {
    throw new Error("no replacement measured");
  }
  const { pod, createdMs, readyMs } = victim.replacement;
  if (pod === undefined || createdMs === undefined || readyMs === undefined)
    throw new Error("milestones missing");
  return { pod, createdAt: victim.requestedAt + createdMs, readyAt: victim.requestedAt + readyMs, fault };
}

describe("the recovery figures of a pod kill", () => {
  it("are the times the replacement's watch events arrived", async () => {
    const file = join(dir, "kill.yaml");
    await writeFile(file, experiment(podKill));
    const seen = await watchReplacements();
    const result = await broadside("run", file, "--sandbox", integrationSandboxName, "--report-dir", dir);
    seen.stop();
    expect([0, 5], verdictLine(result)).toContain(result.code);
    const path = /reports: (\S+\.json)/.exec(result.stderr)?.[1] ?? "";
    const report = parseRunReport(await readFile(path, "utf8"), path);
    expect(unexplainedReasons(report), verdictLine(result)).toEqual([]);
    const measured = firstReplacement(report);
    // Two watchers of the same API server on one machine get each event within a few ms of each other.
    const slack = 250;
    expect(Math.abs(measured.createdAt - (seen.created.get(measured.pod.uid) ?? NaN))).toBeLessThan(slack);
    expect(Math.abs(measured.readyAt - (seen.ready.get(measured.pod.uid) ?? NaN))).toBeLessThan(slack);
    // And the API server's own stamp (whole seconds) agrees with the creation figure.
    const pod = await adminClients().core.readNamespacedPod({
      name: measured.pod.name,
      namespace: namespace(),
    });
    const stamped = pod.metadata?.creationTimestamp?.getTime() ?? NaN;
    expect(measured.createdAt).toBeGreaterThanOrEqual(stamped);
    expect(measured.createdAt).toBeLessThan(stamped + 1000 + slack);
    expect(measured.fault.recoveryMs).toBeGreaterThan(0);
  });
});
