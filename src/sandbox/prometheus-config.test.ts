import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { componentNames, isOptionalComponent } from "./components.js";
import { pkiPaths } from "./pki.js";
import {
  fluxTargets,
  prometheusConfig,
  prometheusLayout,
  prometheusSpec,
  targetFile,
  type ScrapedPorts,
} from "./prometheus-config.js";
import { SandboxName } from "./sandbox-name.js";
import { sandboxLayout } from "./state-dir.js";

const layout = sandboxLayout("/state", SandboxName.parse("s1", "--name"));
const prometheus = prometheusLayout(layout);
const ports: ScrapedPorts = {
  etcd: 3001,
  "kube-apiserver": 3002,
  "kube-controller-manager": 3003,
  "kube-scheduler": 3004,
  kwok: 3005,
};

interface Job {
  job_name: string;
  scheme?: string;
  tls_config?: Record<string, unknown>;
  static_configs?: { targets: string[] }[];
  file_sd_configs?: { files: string[] }[];
}
const config = parse(prometheusConfig(ports, pkiPaths(layout.pkiDir), prometheus)) as {
  global: Record<string, string>;
  scrape_configs: Job[];
};
const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);

describe("what the sandbox's Prometheus scrapes", () => {
  it("scrapes each control-plane component on 127.0.0.1 at its port, every 2s", () => {
    expect(config.global).toEqual({ scrape_interval: "2s", scrape_timeout: "2s" });
    const targets = Object.fromEntries(
      config.scrape_configs
        .filter((j) => j.static_configs !== undefined)
        .map((j) => [j.job_name, j.static_configs?.flatMap((s) => s.targets)]),
    );
    expect(targets).toEqual({
      "kube-apiserver": ["127.0.0.1:3002"],
      "kube-controller-manager": ["127.0.0.1:3003"],
      "kube-scheduler": ["127.0.0.1:3004"],
      etcd: ["127.0.0.1:3001"],
      kwok: ["127.0.0.1:3005"],
    });
  });

  it("checks the API server's certificate against the sandbox CA and presents the admin certificate", () => {
    expect(job("kube-apiserver")).toMatchObject({
      scheme: "https",
      tls_config: {
        ca_file: "/state/s1/pki/ca.crt",
        cert_file: "/state/s1/pki/admin.crt",
        key_file: "/state/s1/pki/admin.key",
      },
    });
    expect(job("kube-apiserver")?.tls_config).not.toHaveProperty("insecure_skip_verify");
    expect(job("etcd")?.tls_config).toEqual({
      ca_file: "/state/s1/pki/etcd-ca.crt",
      cert_file: "/state/s1/pki/etcd-client.crt",
      key_file: "/state/s1/pki/etcd-client.key",
    });
  });

  it("finds Flux and Broadside's processes in files of the sandbox's targets directory", () => {
    expect(job("flux")?.file_sd_configs).toEqual([{ files: ["/state/s1/prometheus/targets/flux.json"] }]);
    expect(job("broadside")?.file_sd_configs).toEqual([
      { files: ["/state/s1/prometheus/targets/broadside-*.json"] },
    ]);
    expect(JSON.parse(targetFile(fluxTargets({ "source-controller": "127.0.0.1:4001" })))).toEqual([
      { targets: ["127.0.0.1:4001"], labels: { controller: "source-controller" } },
    ]);
  });
});

describe("how the sandbox runs Prometheus", () => {
  const spec = prometheusSpec("/cache/prometheus-v0.316.0/prometheus", layout, prometheus, 3100);

  it("listens on 127.0.0.1 at the port given (never its default :9090), data and log in the sandbox", () => {
    expect(spec.args).toEqual([
      "--config.file=/state/s1/prometheus/prometheus.yml",
      "--web.listen-address=127.0.0.1:3100",
      "--storage.tsdb.path=/state/s1/prometheus/data",
      "--storage.tsdb.retention.time=1d",
      "--log.format=json",
    ]);
    expect(spec.healthUrl).toBe("http://127.0.0.1:3100/-/ready");
    expect(spec.logFile).toBe("/state/s1/logs/prometheus.log");
  });

  it("turns on neither the lifecycle nor the admin API: no local user can stop it or delete its data", () => {
    expect(spec.args.some((arg) => /enable-(lifecycle|admin-api)/.test(arg))).toBe(false);
  });

  it("is an optional component, stopped first", () => {
    expect(isOptionalComponent("prometheus")).toBe(true);
    expect(componentNames.at(-1)).toBe("prometheus");
  });
});
