import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BroadsideError } from "../core/errors.js";
import { ensureBuilt, moduleDir, runGo, type BuildConfig, type BuildLog } from "./build.js";
import { fluxVersion } from "./versions.js";

/**
 * Flux's source-controller and kustomize-controller, built for `sandbox up --with flux` only, through the
 * same cache as the control plane (build.ts: a version-keyed directory, filled in a temporary directory
 * and renamed into place with its `.complete` marker). Each controller has a wrapper module of its own
 * (sandbox/go/flux-<controller>), because their go.mod files carry replace directives that `go install`
 * refuses (scripts/update-sandbox-gomods.mjs writes them).
 */

export const fluxControllers = ["source-controller", "kustomize-controller"] as const;
export type FluxController = (typeof fluxControllers)[number];

export interface FluxPaths {
  readonly sourceController: string;
  readonly kustomizeController: string;
  /** The controllers' CustomResourceDefinitions (config/crd/bases of each module), copied at build time. */
  readonly crdsDir: string;
}

export function fluxCacheKey(): string {
  return `flux-${fluxVersion}`;
}

export function fluxPaths(cacheDir: string): FluxPaths {
  const dir = join(cacheDir, fluxCacheKey());
  return {
    sourceController: join(dir, "source-controller"),
    kustomizeController: join(dir, "kustomize-controller"),
    crdsDir: join(dir, "crds"),
  };
}

/** Builds both controllers into the cache if they are missing (about 8 minutes cold on 2 cores). */
export async function ensureFlux(config: BuildConfig): Promise<FluxPaths> {
  await mkdir(join(config.cacheDir, "logs"), { recursive: true }).catch((error: unknown) => {
    throw new BroadsideError(
      "BRD_SANDBOX_BUILD_FAILED",
      `the cache directory ${config.cacheDir} cannot be written`,
      { cause: error },
    );
  });
  await ensureBuilt(config, fluxCacheKey(), (out, env, log) => buildFlux(config, out, env, log));
  return fluxPaths(config.cacheDir);
}

/**
 * One controller after the other, each `-p 2` under `nice`: the two together would double the peak
 * memory (about 2 GB each) for little gain on two cores.
 */
async function buildFlux(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  await mkdir(join(outDir, "crds"));
  for (const controller of fluxControllers) {
    const wrapper = join(config.goModulesDir, `flux-${controller}`);
    const main = `github.com/fluxcd/${controller}`;
    await runGo(
      config,
      ["build", "-p", "2", "-v", "-ldflags", "-s -w", "-o", join(outDir, controller), main],
      wrapper,
      env,
      log,
      { nice: true },
    );
    await copyCrds(await moduleDir(config, `${main}@${fluxVersion}`, wrapper, env), join(outDir, "crds"));
  }
}

/** Copies the module's config/crd/bases/*.yaml (text, not modes: the module cache is read-only). */
async function copyCrds(module: string, into: string): Promise<void> {
  const bases = join(module, "config", "crd", "bases");
  const files = (await readdir(bases)).filter((file) => file.endsWith(".yaml"));
  if (files.length === 0) {
    throw new BroadsideError("BRD_SANDBOX_BUILD_FAILED", `${bases} holds no CustomResourceDefinitions`);
  }
  for (const file of files) await writeFile(join(into, file), await readFile(join(bases, file), "utf8"));
}
