import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BroadsideError } from "../core/errors.js";
import { ensureBuilt, runGo, type BuildConfig, type BuildLog } from "./build.js";
import { prometheusRelease, prometheusVersion } from "./versions.js";

/**
 * Prometheus, built for `sandbox up --with prometheus` only, through the same cache as the control plane
 * (build.ts: a version-keyed directory, filled in a temporary directory and renamed into place with its
 * `.complete` marker). Its go.mod has no replace directives, so `go install module@version` builds the
 * released module as it is, without a wrapper module. Without `-tags builtinassets` the binary has no web
 * UI (its assets come from a JavaScript build); the HTTP API, all the sandbox needs, is whole.
 */

export function prometheusCacheKey(): string {
  return `prometheus-${prometheusVersion}`;
}

export function prometheusPath(cacheDir: string): string {
  return join(cacheDir, prometheusCacheKey(), "prometheus");
}

/** Stamps the release as Prometheus' Makefile (promu) does, or /api/v1/status/buildinfo reports "". */
export function prometheusLdflags(release: string): string {
  const pkg = "github.com/prometheus/common/version";
  return [
    "-s",
    "-w",
    `-X ${pkg}.Version=${release}`,
    `-X ${pkg}.Branch=HEAD`,
    `-X ${pkg}.BuildUser=broadside`,
    `-X ${pkg}.BuildDate=19700101-00:00:00`,
  ].join(" ");
}

/** Builds Prometheus into the cache if it is missing (about 4 to 5 minutes cold on 2 idle cores). */
export async function ensurePrometheus(config: BuildConfig): Promise<string> {
  await mkdir(join(config.cacheDir, "logs"), { recursive: true }).catch((error: unknown) => {
    throw new BroadsideError(
      "BRD_SANDBOX_BUILD_FAILED",
      `the cache directory ${config.cacheDir} cannot be written`,
      { cause: error },
    );
  });
  await ensureBuilt(config, prometheusCacheKey(), (out, env, log) => buildPrometheus(config, out, env, log));
  return prometheusPath(config.cacheDir);
}

/** `-p 2` under `nice`: its peak is about 3 GB with two packages at a time. */
async function buildPrometheus(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  await runGo(
    config,
    [
      "install",
      "-p",
      "2",
      "-v",
      "-ldflags",
      prometheusLdflags(prometheusRelease),
      `github.com/prometheus/prometheus/cmd/prometheus@${prometheusVersion}`,
    ],
    outDir,
    { ...env, GOBIN: outDir },
    log,
    { nice: true },
  );
}
