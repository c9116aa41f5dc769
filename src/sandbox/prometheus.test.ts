import { mkdir, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prometheusLayout } from "./prometheus-config.js";
import { scrapedPortsOf, writeFluxTargets } from "./prometheus.js";
import { SandboxName } from "./sandbox-name.js";
import { sandboxLayout } from "./state-dir.js";
import { stateFormat, type SandboxState } from "./state-file.js";

const component = (port: number) => ({
  pid: 1,
  binary: "/b",
  args: [],
  port,
  healthUrl: "http://127.0.0.1:1/",
  healthCheck: "plain-http" as const,
  logFile: "/l",
});

function state(extra: Partial<SandboxState> = {}): SandboxState {
  return {
    format: stateFormat,
    name: "s1",
    createdAt: "2026-12-07T00:00:00Z",
    versions: { kubernetes: "v1", etcd: "v1", kwok: "v1" },
    nodes: 1,
    apiServer: "https://127.0.0.1:1",
    adminKubeconfig: "/k",
    viewerKubeconfig: "/v",
    components: {
      etcd: component(4001),
      "kube-apiserver": component(4002),
      "kube-controller-manager": component(4003),
      "kube-scheduler": component(4004),
      kwok: component(4005),
    },
    ...extra,
  };
}

const flux = {
  version: "v1.9.6",
  gitUrl: "http://127.0.0.1:5000/fleet.git",
  repository: "/r",
  workTree: "/w",
  artifactStorage: "http://127.0.0.1:5001",
  metrics: { "source-controller": "127.0.0.1:5002", "kustomize-controller": "127.0.0.1:5003" },
};

describe("Prometheus on a running sandbox", () => {
  it("scrapes the control plane at the ports state.json records (etcd at its client port)", () => {
    expect(scrapedPortsOf(state())).toEqual({
      etcd: 4001,
      "kube-apiserver": 4002,
      "kube-controller-manager": 4003,
      "kube-scheduler": 4004,
      kwok: 4005,
    });
  });

  it("lists Flux's controllers for Prometheus only when the sandbox runs both", async () => {
    const root = await mkdtemp(join(tmpdir(), "broadside-prometheus-"));
    const layout = sandboxLayout(root, SandboxName.parse("s1", "--name"));
    const targets = prometheusLayout(layout).targetsDir;
    await mkdir(targets, { recursive: true });
    const prometheus = { version: "v", url: "http://127.0.0.1:6000", configFile: "/c", targetsDir: targets };

    await writeFluxTargets(layout, state({ prometheus }));
    await writeFluxTargets(layout, state({ flux }));
    expect(await readdir(targets)).toEqual([]);

    await writeFluxTargets(layout, state({ prometheus, flux }));
    expect(await readdir(targets)).toEqual(["flux.json"]);
    expect(JSON.parse(await readFile(join(targets, "flux.json"), "utf8"))).toEqual([
      { targets: ["127.0.0.1:5002"], labels: { controller: "source-controller" } },
      { targets: ["127.0.0.1:5003"], labels: { controller: "kustomize-controller" } },
    ]);
  });
});
