import { join } from "node:path";
import { stringify } from "yaml";
import type { ComponentSpec } from "./components.js";
import type { Pki } from "./pki.js";
import type { SandboxLayout } from "./state-dir.js";

/*
 * `sandbox up --with prometheus`: what Prometheus scrapes and how it runs. The control plane's ports are
 * known when the sandbox starts, so its jobs are written into prometheus.yml; the processes that come and
 * go (Flux's controllers, Broadside's agents) are file-based service discovery: JSON files in the targets
 * directory, which Prometheus watches and re-reads as they change, with no reload and no lifecycle API.
 */

/** How often every target is scraped: fast enough for a minute-long demo's rate() windows. */
export const scrapeInterval = "2s";

/** Where the sandbox keeps Prometheus' files, all inside its state directory. */
export interface PrometheusLayout {
  readonly dir: string;
  readonly configFile: string;
  readonly dataDir: string;
  /** file_sd: `flux.json` (written by the sandbox) and `broadside-*.json` (anyone's Broadside processes). */
  readonly targetsDir: string;
}

export function prometheusLayout(layout: SandboxLayout): PrometheusLayout {
  const dir = join(layout.dir, "prometheus");
  return {
    dir,
    configFile: join(dir, "prometheus.yml"),
    dataDir: join(dir, "data"),
    targetsDir: join(dir, "targets"),
  };
}

/** The control plane's ports, as the sandbox started them. */
export interface ScrapedPorts {
  readonly etcd: number;
  readonly "kube-apiserver": number;
  readonly "kube-controller-manager": number;
  readonly "kube-scheduler": number;
  readonly kwok: number;
}

const loopback = (port: number): string => `127.0.0.1:${port}`;
const staticTargets = (port: number) => [{ targets: [loopback(port)] }];

/**
 * prometheus.yml. The API server checks its serving certificate against the sandbox CA and is asked with
 * the admin certificate (its /metrics needs a user RBAC allows). The controller manager and the scheduler
 * serve a self-signed certificate they make at start-up, so only their identity is not checked; they
 * authorize /metrics through the API server, so they get the admin certificate too. etcd wants a client
 * certificate from its own CA.
 */
export function prometheusConfig(ports: ScrapedPorts, pki: Pki, prometheus: PrometheusLayout): string {
  const kubeClient = { cert_file: pki.adminCert, key_file: pki.adminKey };
  const config = {
    global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval },
    scrape_configs: [
      {
        job_name: "kube-apiserver",
        scheme: "https",
        tls_config: { ca_file: pki.caCert, ...kubeClient },
        static_configs: staticTargets(ports["kube-apiserver"]),
      },
      ...(["kube-controller-manager", "kube-scheduler"] as const).map((job) => ({
        job_name: job,
        scheme: "https",
        tls_config: { ...kubeClient, insecure_skip_verify: true },
        static_configs: staticTargets(ports[job]),
      })),
      {
        job_name: "etcd",
        scheme: "https",
        tls_config: { ca_file: pki.etcdCaCert, cert_file: pki.etcdClientCert, key_file: pki.etcdClientKey },
        static_configs: staticTargets(ports.etcd),
      },
      { job_name: "kwok", static_configs: staticTargets(ports.kwok) },
      { job_name: "flux", file_sd_configs: [{ files: [join(prometheus.targetsDir, "flux.json")] }] },
      {
        job_name: "broadside",
        file_sd_configs: [{ files: [join(prometheus.targetsDir, "broadside-*.json")] }],
      },
    ],
  };
  return `# Written by broadside sandbox up --with prometheus; rewritten at every start.\n${stringify(config)}`;
}

/** One file_sd group: addresses on 127.0.0.1 and the labels their series get. */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** The text of a file_sd file. */
export function targetFile(groups: readonly TargetGroup[]): string {
  return `${JSON.stringify(groups, null, 2)}\n`;
}

/** Flux's two controllers, each labelled with its name. */
export function fluxTargets(metrics: Readonly<Record<string, string>>): TargetGroup[] {
  return Object.entries(metrics).map(([controller, address]) => ({
    targets: [address],
    labels: { controller },
  }));
}

/** The process: the HTTP API on a free port of 127.0.0.1, its data and logs inside the sandbox. */
export function prometheusSpec(
  binary: string,
  layout: SandboxLayout,
  prometheus: PrometheusLayout,
  port: number,
): ComponentSpec {
  return {
    name: "prometheus",
    port,
    binary,
    args: [
      `--config.file=${prometheus.configFile}`,
      `--web.listen-address=${loopback(port)}`,
      `--storage.tsdb.path=${prometheus.dataDir}`,
      "--storage.tsdb.retention.time=1d",
      "--log.format=json",
    ],
    healthUrl: `http://${loopback(port)}/-/ready`,
    healthCheck: "plain-http",
    logFile: join(layout.logsDir, "prometheus.log"),
  };
}
