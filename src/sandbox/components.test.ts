import { describe, expect, it } from "vitest";
import { binaryPaths, kubernetesLdflags } from "./build.js";
import { componentSpecs, trafficSpec, type SandboxPorts } from "./components.js";
import { pkiPaths } from "./pki.js";
import { SandboxName } from "./sandbox-name.js";
import { sandboxLayout } from "./state-dir.js";

const ports: SandboxPorts = {
  etcd: 1001,
  "etcd-peer": 1002,
  "kube-apiserver": 1003,
  "kube-controller-manager": 1004,
  "kube-scheduler": 1005,
  kwok: 1006,
  traffic: 1007,
};
const layout = sandboxLayout("/state", SandboxName.parse("s1", "--name"));
const traffic = { node: "/usr/bin/node", script: "/repo/dist/sandbox/traffic/main.js" };
const specs = componentSpecs(binaryPaths("/cache"), pkiPaths(layout.pkiDir), layout, ports, traffic);
const spec = (name: string) => specs.find((s) => s.name === name);

describe("how the sandbox starts its components", () => {
  it("starts them in dependency order, each from the version-keyed cache", () => {
    expect(specs.map((s) => s.name)).toEqual([
      "etcd",
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kwok",
      "traffic",
    ]);
    expect(spec("kube-apiserver")?.binary).toMatch(/^\/cache\/kubernetes-v1\.\d+\.\d+\/kube-apiserver$/);
  });

  it("runs the traffic process as node with the compiled script, across the cluster, health on loopback", () => {
    const trafficSpec = spec("traffic");
    expect(trafficSpec?.binary).toBe("/usr/bin/node");
    expect(trafficSpec?.script).toBe(traffic.script);
    expect(trafficSpec?.args).toEqual([
      traffic.script,
      "--kubeconfig=/state/s1/kubeconfig",
      "--health-port=1007",
    ]);
    expect(trafficSpec?.healthUrl).toBe("http://127.0.0.1:1007/healthz");
    expect(trafficSpec?.logFile).toBe("/state/s1/logs/traffic.log");
  });

  it("gives the traffic process the pod bodies' network and the pod-ready delay for restarted bodies", () => {
    const bodies = {
      mode: "netns" as const,
      podCidr: "10.244.0.0/16",
      bridge: "bsabcdbr",
      gateway: "10.244.0.1",
      cgroups: "v1" as const,
      readyDelayMs: 2000,
    };
    expect(trafficSpec(layout, 1007, traffic, bodies).args.slice(3)).toEqual([
      "--pod-bodies=netns",
      "--sandbox=s1",
      "--pod-cidr=10.244.0.0/16",
      `--bodies-dir=${layout.bodiesDir}`,
      "--ready-delay-ms=2000",
    ]);
    // A sandbox started before the delay was kept: its restarted bodies are ready at once, as before.
    const older = { ...bodies, readyDelayMs: undefined };
    expect(trafficSpec(layout, 1007, traffic, older).args).not.toContainEqual(
      expect.stringMatching(/^--ready-delay-ms/),
    );
  });

  it("listens and advertises on loopback only", () => {
    for (const s of specs) {
      expect(new URL(s.healthUrl).hostname).toBe("127.0.0.1");
      for (const arg of s.args.filter((a) => /address|urls?=/.test(a))) expect(arg).not.toMatch(/0\.0\.0\.0/);
    }
    expect(spec("kube-apiserver")?.args).toContain("--advertise-address=127.0.0.1");
  });

  it("runs the API server with TLS and RBAC, and keeps the service and pod ranges apart", () => {
    const args = spec("kube-apiserver")?.args ?? [];
    expect(args).toContain("--authorization-mode=Node,RBAC");
    expect(args).toContain("--secure-port=1003");
    expect(args).toContain("--service-cluster-ip-range=10.96.0.0/16");
    expect(spec("kwok")?.args).toContain("--cidr=10.244.0.0/16");
  });

  it("runs etcd with TLS on both ports, demanding a client certificate from its own CA", () => {
    const args = spec("etcd")?.args ?? [];
    expect(args).toContain("--listen-client-urls=https://127.0.0.1:1001");
    expect(args).toContain("--listen-peer-urls=https://127.0.0.1:1002");
    expect(args).toContain("--client-cert-auth=true");
    expect(args).toContain("--peer-client-cert-auth=true");
    expect(args).toContain("--trusted-ca-file=/state/s1/pki/etcd-ca.crt");
    expect(args).toContain("--peer-trusted-ca-file=/state/s1/pki/etcd-ca.crt");
    expect(args).toContain("--cert-file=/state/s1/pki/etcd-server.crt");
    expect(args.filter((arg) => arg.includes("http://"))).toEqual([]);
    expect(spec("etcd")?.healthUrl).toBe("https://127.0.0.1:1001/health");
    expect(spec("etcd")?.healthCheck).toBe("etcd-mtls");
  });

  it("points the API server at etcd over TLS with the etcd client certificate", () => {
    const args = spec("kube-apiserver")?.args ?? [];
    expect(args).toContain("--etcd-servers=https://127.0.0.1:1001");
    expect(args).toContain("--etcd-cafile=/state/s1/pki/etcd-ca.crt");
    expect(args).toContain("--etcd-certfile=/state/s1/pki/etcd-client.crt");
    expect(args).toContain("--etcd-keyfile=/state/s1/pki/etcd-client.key");
  });

  it("gives kwok the configuration file that turns its debugging endpoints off, and serves its health on loopback", () => {
    expect(spec("kwok")?.args).toContain("--config=/state/s1/kwok.yaml");
    expect(spec("kwok")?.args).toContain("--server-address=127.0.0.1:1006");
  });

  it("lets anyone reach only the health endpoints of the controller manager and scheduler", () => {
    for (const name of ["kube-controller-manager", "kube-scheduler"]) {
      expect(spec(name)?.args).toContain("--authorization-always-allow-paths=/healthz,/readyz,/livez");
    }
  });

  it("runs every default controller, and writes each component's output to its own log file", () => {
    expect(spec("kube-controller-manager")?.args).toContain("--controllers=*");
    expect(spec("kwok")?.logFile).toBe("/state/s1/logs/kwok.log");
  });
});

describe("version stamping", () => {
  it("stamps the Kubernetes version into both version packages so /version reports it", () => {
    const flags = kubernetesLdflags("v1.36.3");
    expect(flags).toContain("-X k8s.io/component-base/version.gitVersion=v1.36.3");
    expect(flags).toContain("-X k8s.io/client-go/pkg/version.gitMinor=36");
  });
});
