import { describe, expect, it } from "vitest";
import { componentNames, isOptionalComponent } from "./components.js";
import { fluxPaths } from "./flux-build.js";
import { fluxComponentSpecs, type FluxPorts } from "./flux-components.js";
import { SandboxName } from "./sandbox-name.js";
import { sandboxLayout } from "./state-dir.js";

const ports: FluxPorts = {
  git: 2001,
  storage: 2002,
  sourceMetrics: 2003,
  sourceHealth: 2004,
  kustomizeMetrics: 2005,
  kustomizeHealth: 2006,
};
const layout = sandboxLayout("/state", SandboxName.parse("s1", "--name"));
const gitServer = { node: "/usr/bin/node", script: "/repo/dist/sandbox/git-server-main.js" };
const specs = fluxComponentSpecs(fluxPaths("/cache"), layout, ports, gitServer, "fleet");
const spec = (name: string) => specs.find((s) => s.name === name);

describe("how the sandbox runs Flux", () => {
  it("starts the git server and both controllers, from the version-keyed cache, logs in the sandbox", () => {
    expect(specs.map((s) => s.name)).toEqual(["git-server", "source-controller", "kustomize-controller"]);
    expect(spec("source-controller")?.binary).toMatch(/^\/cache\/flux-v\d+\.\d+\.\d+\/source-controller$/);
    for (const s of specs) expect(s.logFile).toBe(`/state/s1/logs/${s.name}.log`);
  });

  it("binds every address to 127.0.0.1 on ports of its own, none of the controllers' shared defaults", () => {
    const addresses = specs.flatMap((s) => s.args.filter((arg) => /-addr=/.test(arg)));
    expect(addresses).toHaveLength(6);
    for (const address of addresses) expect(address).toMatch(/=127\.0\.0\.1:20\d\d$/);
    const bound = new Set(
      addresses.filter((a) => !a.startsWith("--storage-adv-addr")).map((a) => a.split(":")[1]),
    );
    expect(bound.size).toBe(5);
    expect(bound.has(String(ports.git))).toBe(false);
    for (const s of specs) expect(new URL(s.healthUrl).hostname).toBe("127.0.0.1");
  });

  it("advertises the artifact storage at the address it listens on, which kustomize-controller downloads from", () => {
    expect(spec("source-controller")?.args).toEqual(
      expect.arrayContaining([
        "--storage-path=/state/s1/flux/artifacts",
        "--storage-addr=127.0.0.1:2002",
        "--storage-adv-addr=127.0.0.1:2002",
      ]),
    );
  });

  it("gives the controllers no kubeconfig flag (they take KUBECONFIG) and no leader election", () => {
    for (const name of ["source-controller", "kustomize-controller"]) {
      expect(spec(name)?.args.some((arg) => /kubeconfig|leader/.test(arg))).toBe(false);
      expect(spec(name)?.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:200\d\/readyz$/);
    }
  });

  it("runs the git server as node with the compiled script, serving the sandbox's git root", () => {
    expect(spec("git-server")).toMatchObject({
      binary: "/usr/bin/node",
      script: gitServer.script,
      args: [gitServer.script, "--root=/state/s1/flux/git", "--repository=fleet", "--port=2001"],
      healthUrl: "http://127.0.0.1:2001/healthz",
    });
  });

  it("are optional components: stopped before the core ones, absent (not down) where Flux was not asked for", () => {
    const rank = (name: (typeof componentNames)[number]) => componentNames.indexOf(name);
    for (const s of specs) {
      expect(isOptionalComponent(s.name)).toBe(true);
      expect(rank(s.name)).toBeGreaterThan(rank("traffic"));
    }
    expect(isOptionalComponent("kube-apiserver")).toBe(false);
  });
});
