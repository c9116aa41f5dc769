import { join } from "node:path";
import type { BinaryPaths } from "./build.js";
import type { ServerCheck } from "./health.js";
import type { Pki } from "./pki.js";
import type { SandboxLayout } from "./state-dir.js";
import type { BodiesState } from "./state-file.js";

/** The six processes every sandbox runs, in start order. */
const coreComponentNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "traffic",
] as const;
/** The processes of `sandbox up --with flux` (flux-components.ts); only a sandbox started with it has them. */
export const fluxComponentNames = ["git-server", "source-controller", "kustomize-controller"] as const;
/** The process of `sandbox up --with prometheus` (prometheus.ts): stopped first, so it sees the others go. */
export const prometheusComponentNames = ["prometheus"] as const;
/** Every process a sandbox may run, in start order (and stopped in the reverse order). */
export const componentNames = [
  ...coreComponentNames,
  ...fluxComponentNames,
  ...prometheusComponentNames,
] as const;
export type ComponentName = (typeof componentNames)[number];

/** True for the processes of an optional component: absent from a sandbox started without it, not down. */
export function isOptionalComponent(name: ComponentName): boolean {
  return ([...fluxComponentNames, ...prometheusComponentNames] as readonly string[]).includes(name);
}

export type SandboxPorts = Readonly<Record<(typeof coreComponentNames)[number] | "etcd-peer", number>>;

/** How to start one component and how to tell it is healthy. */
export interface ComponentSpec {
  readonly name: ComponentName;
  readonly binary: string;
  /**
   * For a program run by an interpreter (the traffic process: node and its script), the script: its
   * first argument, which /proc must show for the pid to count as ours, since any node process would
   * match the binary alone.
   */
  readonly script?: string | undefined;
  readonly args: readonly string[];
  /** The port it serves on (for etcd, the client port). */
  readonly port: number;
  readonly healthUrl: string;
  readonly healthCheck: ServerCheck;
  readonly logFile: string;
}

/** kwok hands out pod IPs from here. They are only names: nothing listens on them, never dial them. */
export const podCidr = "10.244.0.0/16";
/** Always set: the deprecated default collides with kwok's default pod CIDR. */
export const serviceCidr = "10.96.0.0/16";

/** The traffic process: Node running Broadside's compiled entry point (dist/sandbox/traffic/main.js). */
export interface TrafficProgram {
  /** The Node binary: process.execPath. */
  readonly node: string;
  readonly script: string;
}

/**
 * Real HTTP for opted-in pods and Services (src/sandbox/traffic/), across all namespaces, with the admin
 * kubeconfig; its /healthz answers 200 once it is in step with the cluster.
 */
export function trafficSpec(
  layout: SandboxLayout,
  port: number,
  program: TrafficProgram,
  bodies?: BodiesState,
): ComponentSpec {
  const bodiesArgs =
    bodies?.mode === "netns"
      ? [
          "--pod-bodies=netns",
          `--sandbox=${layout.name}`,
          `--pod-cidr=${bodies.podCidr}`,
          `--bodies-dir=${layout.bodiesDir}`,
          ...(bodies.readyDelayMs === undefined ? [] : [`--ready-delay-ms=${bodies.readyDelayMs}`]),
        ]
      : [];
  return {
    name: "traffic",
    port,
    binary: program.node,
    script: program.script,
    args: [program.script, `--kubeconfig=${layout.adminKubeconfig}`, `--health-port=${port}`, ...bodiesArgs],
    healthUrl: `http://127.0.0.1:${port}/healthz`,
    healthCheck: "plain-http",
    logFile: join(layout.logsDir, "traffic.log"),
  };
}

export function componentSpecs(
  binaries: BinaryPaths,
  pki: Pki,
  layout: SandboxLayout,
  ports: SandboxPorts,
  traffic: TrafficProgram,
  bodies?: BodiesState,
): readonly ComponentSpec[] {
  const log = (name: ComponentName): string => join(layout.logsDir, `${name}.log`);
  const kubeconfig = layout.adminKubeconfig;
  // etcd speaks TLS and demands a client certificate from its own CA, on both ports: without it any
  // local user could read and write the cluster past RBAC.
  const etcdClientUrl = `https://127.0.0.1:${ports.etcd}`;
  const etcdPeerUrl = `https://127.0.0.1:${ports["etcd-peer"]}`;
  // The controller manager and scheduler authorize every request through the API server except their
  // health endpoints (the sandbox's probes); /metrics, /configz and /debug/pprof need a credential.
  const servingAuth = [
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--authorization-always-allow-paths=/healthz,/readyz,/livez",
    "--bind-address=127.0.0.1",
  ];
  return [
    {
      name: "etcd",
      port: ports.etcd,
      binary: binaries.etcd,
      args: [
        "--name=broadside",
        `--data-dir=${layout.etcdDataDir}`,
        `--listen-client-urls=${etcdClientUrl}`,
        `--advertise-client-urls=${etcdClientUrl}`,
        `--listen-peer-urls=${etcdPeerUrl}`,
        `--initial-advertise-peer-urls=${etcdPeerUrl}`,
        `--initial-cluster=broadside=${etcdPeerUrl}`,
        `--cert-file=${pki.etcdServerCert}`,
        `--key-file=${pki.etcdServerKey}`,
        "--client-cert-auth=true",
        `--trusted-ca-file=${pki.etcdCaCert}`,
        `--peer-cert-file=${pki.etcdServerCert}`,
        `--peer-key-file=${pki.etcdServerKey}`,
        "--peer-client-cert-auth=true",
        `--peer-trusted-ca-file=${pki.etcdCaCert}`,
        "--auto-compaction-retention=1",
        "--quota-backend-bytes=8589934592",
        // A throwaway cluster: no fsync keeps it fast on shared disks.
        "--unsafe-no-fsync=true",
      ],
      healthUrl: `${etcdClientUrl}/health`,
      healthCheck: "etcd-mtls",
      logFile: log("etcd"),
    },
    {
      name: "kube-apiserver",
      port: ports["kube-apiserver"],
      binary: binaries.kubeApiserver,
      args: [
        `--etcd-servers=${etcdClientUrl}`,
        `--etcd-cafile=${pki.etcdCaCert}`,
        `--etcd-certfile=${pki.etcdClientCert}`,
        `--etcd-keyfile=${pki.etcdClientKey}`,
        "--bind-address=127.0.0.1",
        // Without it the API server looks for a default route and exits on hosts that have none.
        "--advertise-address=127.0.0.1",
        `--secure-port=${ports["kube-apiserver"]}`,
        `--tls-cert-file=${pki.adminCert}`,
        `--tls-private-key-file=${pki.adminKey}`,
        `--client-ca-file=${pki.caCert}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${pki.serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        `--service-cluster-ip-range=${serviceCidr}`,
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        // Keeps a loopback address out of the `kubernetes` Service's endpoints.
        "--endpoint-reconciler-type=none",
      ],
      healthUrl: `https://127.0.0.1:${ports["kube-apiserver"]}/readyz`,
      healthCheck: "sandbox-ca",
      logFile: log("kube-apiserver"),
    },
    {
      name: "kube-controller-manager",
      port: ports["kube-controller-manager"],
      binary: binaries.kubeControllerManager,
      args: [
        `--kubeconfig=${kubeconfig}`,
        ...servingAuth,
        `--secure-port=${ports["kube-controller-manager"]}`,
        "--leader-elect=false",
        "--controllers=*",
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        "--use-service-account-credentials=false",
        "--node-monitor-period=5s",
        "--node-monitor-grace-period=40s",
      ],
      healthUrl: `https://127.0.0.1:${ports["kube-controller-manager"]}/healthz`,
      healthCheck: "self-signed",
      logFile: log("kube-controller-manager"),
    },
    {
      name: "kube-scheduler",
      port: ports["kube-scheduler"],
      binary: binaries.kubeScheduler,
      args: [
        `--kubeconfig=${kubeconfig}`,
        ...servingAuth,
        `--secure-port=${ports["kube-scheduler"]}`,
        "--leader-elect=false",
      ],
      healthUrl: `https://127.0.0.1:${ports["kube-scheduler"]}/readyz`,
      healthCheck: "self-signed",
      logFile: log("kube-scheduler"),
    },
    {
      name: "kwok",
      port: ports.kwok,
      binary: binaries.kwok,
      args: [
        `--kubeconfig=${kubeconfig}`,
        // Also holds the KwokConfiguration that turns its debugging and profiling endpoints off (stages.ts).
        `--config=${layout.kwokConfig}`,
        "--manage-all-nodes=true",
        `--cidr=${bodies?.mode === "netns" ? bodies.podCidr : podCidr}`,
        "--node-ip=10.0.0.1",
        "--node-lease-duration-seconds=40",
        `--server-address=127.0.0.1:${ports.kwok}`,
      ],
      healthUrl: `http://127.0.0.1:${ports.kwok}/healthz`,
      healthCheck: "plain-http",
      logFile: log("kwok"),
    },
    trafficSpec(layout, ports.traffic, traffic, bodies),
  ];
}
