import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ComponentSpec } from "./components.js";
import type { SandboxEnvironment } from "./environment.js";
import { startComponents, type Launcher } from "./launch.js";
import { pkiPaths } from "./pki.js";
import { ensurePrometheus } from "./prometheus-build.js";
import {
  fluxTargets,
  prometheusConfig,
  prometheusLayout,
  prometheusSpec,
  targetFile,
  type ScrapedPorts,
} from "./prometheus-config.js";
import type { SandboxLayout } from "./state-dir.js";
import type { SandboxState } from "./state-file.js";
import { prometheusRelease, prometheusVersion } from "./versions.js";

/*
 * `sandbox up --with prometheus`: a real Prometheus as a local process, scraping the control plane, Flux
 * when it runs, and the Broadside processes listed in its targets directory. It needs nothing of the
 * cluster to start, so a new sandbox starts it beside etcd.
 */

/** Before anything starts: Prometheus is built (the first time only; about 5 minutes on two cores). */
export function preparePrometheus(env: SandboxEnvironment): Promise<string> {
  return ensurePrometheus({ ...env.build, onProgress: env.onProgress, clock: env.clock });
}

/**
 * Writes Prometheus' configuration and the targets known so far, records it in the state, and returns
 * the process to start (on `port`, a free port of 127.0.0.1).
 */
export async function prometheusRun(
  binary: string,
  ports: ScrapedPorts,
  port: number,
  launcher: Launcher,
): Promise<ComponentSpec> {
  const { layout, state } = launcher;
  const prometheus = prometheusLayout(layout);
  for (const dir of [prometheus.dir, prometheus.dataDir, prometheus.targetsDir])
    await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(prometheus.configFile, prometheusConfig(ports, pkiPaths(layout.pkiDir), prometheus), {
    mode: 0o600,
  });
  state.prometheus = {
    version: `${prometheusVersion} (Prometheus ${prometheusRelease})`,
    url: `http://127.0.0.1:${port}`,
    configFile: prometheus.configFile,
    targetsDir: prometheus.targetsDir,
  };
  await writeFluxTargets(layout, state);
  return prometheusSpec(binary, layout, prometheus, port);
}

/** Starts Prometheus on a sandbox that runs already (`up --with prometheus` reusing it). */
export async function startPrometheus(binary: string, port: number, launcher: Launcher): Promise<void> {
  const since = launcher.clock.now();
  const spec = await prometheusRun(binary, scrapedPortsOf(launcher.state), port, launcher);
  await startComponents([spec], launcher);
  launcher.onProgress(`  prometheus ${prometheusRelease} running after ${launcher.clock.now() - since} ms`);
}

/** The control plane's ports as state.json records them (for etcd, its client port). */
export function scrapedPortsOf(state: SandboxState): ScrapedPorts {
  const port = (name: keyof ScrapedPorts): number => state.components[name]?.port ?? 0;
  return {
    etcd: port("etcd"),
    "kube-apiserver": port("kube-apiserver"),
    "kube-controller-manager": port("kube-controller-manager"),
    "kube-scheduler": port("kube-scheduler"),
    kwok: port("kwok"),
  };
}

/**
 * Lists Flux's controllers for Prometheus when the sandbox runs both; called by whichever of the two
 * starts second. Written to a temporary file and renamed, so Prometheus never reads half a file.
 */
export async function writeFluxTargets(layout: SandboxLayout, state: SandboxState): Promise<void> {
  if (state.prometheus === undefined || state.flux === undefined) return;
  const file = join(prometheusLayout(layout).targetsDir, "flux.json");
  await writeFile(`${file}.tmp`, targetFile(fluxTargets(state.flux.metrics)), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
