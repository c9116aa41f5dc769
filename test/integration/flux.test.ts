import {
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1ConfigMap,
  type V1ManagedFieldsEntry,
} from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { get } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { connect, type KubeClients } from "../../src/kube/client.js";
import { ensureFlux } from "../../src/sandbox/flux-build.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { broadside, config, eventually, kubectl, runProgram } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * A real Flux in the sandbox (issue 13): `sandbox up --with flux --flux-interval 10s` builds (once, cached)
 * and runs source-controller and kustomize-controller against the sandbox, serves the sandbox's Git
 * repository over HTTP on 127.0.0.1 and puts the demo fleet under a Kustomization. Then the story the
 * duel is made of: the demo's ConfigMap drifts (a patch by another field manager), and Flux puts it back
 * within its interval, as kustomize-controller. The heal time is printed, never asserted as a bound.
 *
 * A sandbox of its own, named after the shared one: Flux owns the demo namespaces there, which would fight
 * the tests that make them in the shared sandbox.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 26)}-flux`, "sandbox name");
const interval = "10s";
const driftManager = "broadside-drift-test";

interface StatusJson {
  components: { name: string; pid: number; healthy: boolean }[];
  flux: {
    gitUrl: string;
    sync?: { interval: string; kustomization: string; revision: string };
  } | null;
}

let kube: KubeClients;
let kubeconfig = "";

async function status(): Promise<StatusJson> {
  const result = await broadside("sandbox", "status", "--name", name, "-o", "json");
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

function checkoutConfig(): Promise<V1ConfigMap> {
  return kube.core.readNamespacedConfigMap({ name: "checkout-config", namespace: "demo-payments" });
}

/** Whether the managedFields entry owns `data.<key>`. */
function ownsKey(entry: V1ManagedFieldsEntry | undefined, key: string): boolean {
  const fields = entry?.fieldsV1 as { "f:data"?: Record<string, unknown> } | undefined;
  return fields?.["f:data"]?.[`f:${key}`] !== undefined;
}

/** GET on 127.0.0.1, answering the status code. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on("error", reject);
  });
}

beforeAll(async () => {
  const env = sandboxEnvironment(config, processIo);
  // Built on first use only (about 8 minutes cold on two cores), cached by version like the sandbox's
  // binaries: only a run that selects this file pays for it. See docs/sandbox.md.
  await ensureFlux({ ...env.build, onProgress: env.onProgress, clock: env.clock });
}, 3_600_000);

afterAll(async () => {
  await broadside("sandbox", "down", "--name", name);
});

describe("a real Flux in the sandbox", () => {
  it(`starts with --with flux --flux-interval ${interval}, and Flux applies the demo fleet from the sandbox's repository`, async () => {
    const up = await broadside(
      "sandbox",
      "up",
      "--name",
      name,
      "--nodes",
      "1",
      "--with",
      "flux",
      "--flux-interval",
      interval,
    );
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(
      /flux: v1\.9\.6, repository http:\/\/127\.0\.0\.1:\d+\/fleet\.git .*Kustomization flux-system\/fleet applies fleet\/ every 10s \(at main@sha1:[0-9a-f]{40}\)/,
    );
    const state = await status();
    const flux = state.components.filter((c) =>
      ["git-server", "source-controller", "kustomize-controller"].includes(c.name),
    );
    expect(flux.map((c) => [c.name, c.healthy])).toEqual([
      ["git-server", true],
      ["source-controller", true],
      ["kustomize-controller", true],
    ]);
    kubeconfig = (await broadside("sandbox", "kubeconfig", "--name", name)).stdout.trim();
    kube = connect({ kubeconfigPath: kubeconfig });

    // The ConfigMap of the demo fleet, as Git has it, applied by kustomize-controller.
    const applied = await checkoutConfig();
    expect(applied.data?.["payment.timeout"]).toBe("5s");
    const byFlux = applied.metadata?.managedFields?.find((entry) => entry.manager === "kustomize-controller");
    expect(byFlux?.operation).toBe("Apply");
    expect(ownsKey(byFlux, "payment.timeout")).toBe(true);
    expect(applied.metadata?.labels?.["kustomize.toolkit.fluxcd.io/name"]).toBe("fleet");
    const ready = await kubectl(
      kubeconfig,
      "get",
      "kustomization",
      "-n",
      "flux-system",
      "fleet",
      "-o",
      "jsonpath={.status.conditions[?(@.type=='Ready')].status} {.status.lastAppliedRevision}",
    );
    expect(ready.stdout).toBe(`True ${state.flux?.sync?.revision ?? "?"}`);
  });

  it("serves the repository read-only over git's smart HTTP on 127.0.0.1", async () => {
    const { flux } = await status();
    const url = flux?.gitUrl ?? "";
    expect(new URL(url).hostname).toBe("127.0.0.1");
    const listed = await runProgram("git", ["ls-remote", url]);
    expect(listed.code, listed.stderr).toBe(0);
    const sha = flux?.sync?.revision.replace("main@sha1:", "") ?? "?";
    expect(listed.stdout).toContain(`${sha}\trefs/heads/main`);
    // Pushes, the dumb protocol's file reads, and anything outside the repository: refused.
    expect(await httpStatus(`${url}/info/refs?service=git-receive-pack`)).toBe(403);
    expect(await httpStatus(`${url}/config`)).toBe(404);
    expect(await httpStatus(`${url}/info/refs`)).toBe(404);
    const log = await readFile(join(config.stateDir, name, "logs", "git-server.log"), "utf8");
    expect(log).toContain('"status":403');
  });

  it("heals a drifted ConfigMap within its interval, and kustomize-controller is who restored it", async () => {
    const events: { at: number; configMap: V1ConfigMap }[] = [];
    const watch = await new Watch(kube.config).watch(
      "/api/v1/namespaces/demo-payments/configmaps",
      { fieldSelector: "metadata.name=checkout-config" },
      (type: string, configMap: V1ConfigMap) => {
        if (type === "MODIFIED") events.push({ at: Date.now(), configMap });
      },
      () => undefined,
    );
    try {
      const driftedAt = Date.now();
      const drifted = await kube.core.patchNamespacedConfigMap(
        {
          name: "checkout-config",
          namespace: "demo-payments",
          body: { data: { "payment.timeout": "90s" } },
          fieldManager: driftManager,
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      expect(drifted.data?.["payment.timeout"]).toBe("90s");
      const driftedVersion = Number(drifted.metadata?.resourceVersion);

      // Up to the interval (plus Flux's 5% jitter and an apply); generous for a loaded machine.
      const healed = await eventually(
        "Flux to restore payment.timeout",
        () =>
          events.find(
            (event) =>
              Number(event.configMap.metadata?.resourceVersion) > driftedVersion &&
              event.configMap.data?.["payment.timeout"] === "5s",
          ),
        90_000,
      );
      const healMs = healed.at - driftedAt;
      process.stderr.write(
        `flux.test.ts: Flux (interval ${interval}) restored the drifted ConfigMap after ${healMs} ms\n`,
      );
      expect(healMs).toBeGreaterThan(0);

      // The restoring update names its writer: kustomize-controller owns the key again, the drifting
      // manager no longer does.
      const managed = healed.configMap.metadata?.managedFields ?? [];
      const byFlux = managed.find((entry) => entry.manager === "kustomize-controller");
      expect(ownsKey(byFlux, "payment.timeout")).toBe(true);
      expect(
        ownsKey(
          managed.find((entry) => entry.manager === driftManager),
          "payment.timeout",
        ),
      ).toBe(false);
    } finally {
      watch.abort();
    }
  });

  it("stops every Flux process with sandbox down", async () => {
    const { components } = await status();
    const pids = components.map((c) => c.pid);
    const down = await broadside("sandbox", "down", "--name", name);
    expect(down.code, down.stderr).toBe(0);
    const alive = await Promise.all(
      pids.map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
        return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
      }),
    );
    expect(alive.filter(Boolean)).toEqual([]);
  });
});
