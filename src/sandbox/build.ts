import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { run, runChecked } from "./exec.js";
import { liveProcess, systemProc, type ProcReader } from "./liveness.js";
import { formatOwner, ownerAlive, parseOwner, type LockOwner } from "./lock.js";
import { etcdVersion, helmVersion, kubernetesVersion, kwokVersion } from "./versions.js";

/** Where the built control-plane binaries are, all inside the cache directory. */
export interface BinaryPaths {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly kwok: string;
  /** kwok's upstream Stage documents (kustomize/stage of the kwok module), copied next to the binary. */
  readonly kwokStages: string;
}

export interface BuildConfig {
  /** Cache root, outside the repository; one directory per component and version below it. */
  readonly cacheDir: string;
  /** The repository's sandbox/go directory, holding the wrapper modules. */
  readonly goModulesDir: string;
  readonly goBinary: string;
  /** Environment handed to `go` (PATH, HOME, GOPATH...); Broadside adds its own settings on top. */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly onProgress: (message: string) => void;
  readonly clock: Clock;
  /** Where a builder's liveness is read (/proc unless a test says otherwise). */
  readonly proc?: ProcReader;
}

const completeMarker = ".complete";
/** In a build's own directory: "pid starttime" of the process building it (lock.ts's owner format). */
const builderFile = ".builder";
/** How often a process waiting for another's build looks again. */
const builderPollMs = 2_000;

export function binaryPaths(cacheDir: string): BinaryPaths {
  const kube = join(cacheDir, `kubernetes-${kubernetesVersion}`);
  const kwokDir = join(cacheDir, `kwok-${kwokVersion}`);
  return {
    etcd: join(cacheDir, `etcd-${etcdVersion}`, "etcd"),
    kubeApiserver: join(kube, "kube-apiserver"),
    kubeControllerManager: join(kube, "kube-controller-manager"),
    kubeScheduler: join(kube, "kube-scheduler"),
    kubectl: join(kube, "kubectl"),
    kwok: join(kwokDir, "kwok"),
    kwokStages: join(kwokDir, "stages"),
  };
}

/** Builds whichever of the control-plane binaries are missing from the cache, and returns their paths. */
export async function ensureBinaries(config: BuildConfig): Promise<BinaryPaths> {
  await mkdir(join(config.cacheDir, "logs"), { recursive: true }).catch((error: unknown) => {
    throw buildFailed(`the cache directory ${config.cacheDir} cannot be written`, error);
  });
  await ensureBuilt(config, `kubernetes-${kubernetesVersion}`, (out, env, log) =>
    buildKubernetes(config, out, env, log),
  );
  await ensureBuilt(config, `etcd-${etcdVersion}`, (out, env, log) => buildEtcd(config, out, env, log));
  await ensureBuilt(config, `kwok-${kwokVersion}`, (out, env, log) => buildKwok(config, out, env, log));
  return binaryPaths(config.cacheDir);
}

/** Where helm is once built: its own version-keyed directory in the cache. */
export function helmPath(cacheDir: string): string {
  return join(cacheDir, `helm-${helmVersion}`, "helm");
}

/**
 * Builds helm into the cache if it is missing, and returns its path. Only the tests of the chart call it
 * (deploy/helm): the sandbox itself never needs helm, so `sandbox up` does not pay for it.
 */
export async function ensureHelm(config: BuildConfig): Promise<string> {
  await mkdir(join(config.cacheDir, "logs"), { recursive: true }).catch((error: unknown) => {
    throw buildFailed(`the cache directory ${config.cacheDir} cannot be written`, error);
  });
  await ensureBuilt(config, `helm-${helmVersion}`, (out, env, log) => buildHelm(config, out, env, log));
  return helmPath(config.cacheDir);
}

/** Where a build writes its output; `onOutput` sees it too, to count the packages compiled. */
export interface BuildLog {
  readonly file: string;
  readonly onOutput: (chunk: string) => void;
}

export type Builder = (outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) => Promise<void>;

/** Runs `build` into `<cache>/<key>` unless that directory is complete; the optional components use it too. */
export async function ensureBuilt(config: BuildConfig, key: string, build: Builder): Promise<void> {
  const finalDir = join(config.cacheDir, key);
  if (await exists(join(finalDir, completeMarker))) return;
  // `npm test` starts a build in the background (`sandbox build`) while its first tiers run; a sandbox
  // started meanwhile waits for that build instead of doing it a second time beside it.
  await waitForOtherBuilders(config, key);
  if (await exists(join(finalDir, completeMarker))) return;
  await checkGoVersion(config);
  const logFile = join(config.cacheDir, "logs", `build-${key}.log`);
  try {
    await buildInto(config, key, finalDir, logFile, build);
  } catch (error: unknown) {
    if (error instanceof BroadsideError) throw error;
    throw buildFailed(`building ${key} failed; the build log is ${logFile}`, error);
  }
}

/** Builds in a directory of this process's own, then renames it into place with its completion marker. */
async function buildInto(
  config: BuildConfig,
  key: string,
  finalDir: string,
  logFile: string,
  build: Builder,
) {
  const { clock } = config;
  const partialDir = `${finalDir}.partial-${process.pid}`;
  await rm(partialDir, { recursive: true, force: true });
  await mkdir(partialDir, { recursive: true });
  const self = await liveProcess(config.proc ?? systemProc, process.pid);
  await writeFile(
    join(partialDir, builderFile),
    formatOwner({ pid: process.pid, startTime: self?.startTime }),
  );
  const started = clock.now();
  config.onProgress(`building ${key} (first run only; log: ${logFile})`);
  // `go build -v` prints one line per package it compiles.
  let packages = 0;
  const log: BuildLog = { file: logFile, onOutput: (chunk) => (packages += chunk.split("\n").length - 1) };
  const ticker = setInterval(() => {
    const seconds = Math.round((clock.now() - started) / 1000);
    config.onProgress(`  still building ${key}: ${seconds}s so far, ${packages} packages compiled`);
  }, 30_000);
  try {
    await build(partialDir, goEnv(config), log);
  } catch (error: unknown) {
    await rm(partialDir, { recursive: true, force: true });
    throw error;
  } finally {
    clearInterval(ticker);
  }
  await writeFile(join(partialDir, completeMarker), `${new Date(clock.now()).toISOString()}\n`);
  // Another process may have finished the same build meanwhile: its result is as good as ours.
  await rm(finalDir, { recursive: true, force: true });
  await rename(partialDir, finalDir);
  config.onProgress(`built ${key} in ${Math.round((clock.now() - started) / 1000)}s`);
}

/**
 * Waits while another live process builds `key` (a `<key>.partial-<pid>` directory whose builder file
 * names a live process). A partial directory left by a dead builder is not waited for: the build that
 * follows replaces it. Two processes that look at the same instant may still both build; the rename
 * keeps either result.
 */
async function waitForOtherBuilders(config: BuildConfig, key: string): Promise<void> {
  const { clock } = config;
  const started = clock.now();
  let reported = -1;
  for (;;) {
    const builder = await liveBuilder(config, key);
    if (builder === undefined) return;
    const seconds = Math.round((clock.now() - started) / 1000);
    if (reported < 0 || seconds - reported >= 30) {
      config.onProgress(`waiting for process ${builder.pid}, which is building ${key} (${seconds}s so far)`);
      reported = seconds;
    }
    await clock.sleep(builderPollMs);
  }
}

async function liveBuilder(config: BuildConfig, key: string): Promise<LockOwner | undefined> {
  const prefix = `${key}.partial-`;
  const entries = await readdir(config.cacheDir).catch(() => [] as string[]);
  for (const entry of entries.filter((name) => name.startsWith(prefix))) {
    if (entry === `${prefix}${process.pid}`) continue;
    const text = await readFile(join(config.cacheDir, entry, builderFile), "utf8").catch(() => undefined);
    const owner = text === undefined ? undefined : parseOwner(text);
    if (owner !== undefined && (await ownerAlive(config.proc ?? systemProc, owner))) return owner;
  }
  return undefined;
}

function buildFailed(message: string, cause: unknown): BroadsideError {
  return new BroadsideError("BRD_SANDBOX_BUILD_FAILED", message, { cause });
}

/** The wrapper modules say `go 1.26.0`; with GOTOOLCHAIN=local an older Go fails deep in the build log. */
export const minimumGo = { major: 1, minor: 26 };

async function checkGoVersion(config: BuildConfig): Promise<void> {
  const reported = (
    await runChecked(config.goBinary, ["env", "GOVERSION"], {
      env: goEnv(config),
      failure: "BRD_SANDBOX_BUILD_FAILED",
    })
  ).trim();
  const [, major = "0", minor = "0"] = /^go(\d+)\.(\d+)/.exec(reported) ?? [];
  if (
    Number(major) < minimumGo.major ||
    (Number(major) === minimumGo.major && Number(minor) < minimumGo.minor)
  ) {
    throw new BroadsideError(
      "BRD_PREREQUISITE_MISSING",
      `building the sandbox needs Go >= ${minimumGo.major}.${minimumGo.minor}; ${config.goBinary} is ${reported || "unknown"}`,
    );
  }
}

/**
 * GOTOOLCHAIN=local makes a Go version mismatch fail loudly instead of downloading a toolchain;
 * -mod=readonly builds exactly the committed go.sum.
 */
function goEnv(config: BuildConfig): NodeJS.ProcessEnv {
  return {
    ...config.baseEnv,
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    GOFLAGS: "-mod=readonly -trimpath",
    GOWORK: "off",
  };
}

/** Where `go mod download -json` (run in `cwd`) says the module's files are: read-only, in Go's module cache. */
export async function moduleDir(config: BuildConfig, module: string, cwd: string, env: NodeJS.ProcessEnv) {
  const info = await runChecked(config.goBinary, ["mod", "download", "-json", module], {
    cwd,
    env,
    failure: "BRD_SANDBOX_BUILD_FAILED",
  });
  const dir = (JSON.parse(info) as { Dir?: string }).Dir;
  if (dir === undefined) {
    throw new BroadsideError("BRD_SANDBOX_BUILD_FAILED", `go mod download did not report where ${module} is`);
  }
  return dir;
}

/** Stamps the version the way upstream's release builds do, or /version reports v0.0.0-master. */
export function kubernetesLdflags(version: string): string {
  const minor = version.split(".")[1] ?? "0";
  const flags = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    );
  }
  return flags.join(" ");
}

async function buildKubernetes(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  const commands = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"];
  await runGo(
    config,
    [
      "build",
      "-p",
      "2",
      "-v",
      "-ldflags",
      kubernetesLdflags(kubernetesVersion),
      "-o",
      `${outDir}/`,
      ...commands.map((command) => `k8s.io/kubernetes/cmd/${command}`),
    ],
    join(config.goModulesDir, "kubernetes"),
    env,
    log,
  );
}

async function buildEtcd(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  await runGo(
    config,
    ["build", "-v", "-ldflags", "-s -w", "-o", join(outDir, "etcd"), "."],
    join(config.goModulesDir, "etcd"),
    env,
    log,
  );
}

/** kwok's go.mod has no replace directives, so `go install module@version` builds it directly. */
async function buildKwok(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  const module = `sigs.k8s.io/kwok@${kwokVersion}`;
  await runGo(
    config,
    ["install", "-v", "-ldflags", "-s -w", `sigs.k8s.io/kwok/cmd/kwok@${kwokVersion}`],
    outDir,
    { ...env, GOBIN: outDir },
    log,
  );
  const kwokModule = await moduleDir(config, module, outDir, env);
  // Copy file by file: the module cache is read-only, and copied modes would make the cache undeletable.
  await mkdir(join(outDir, "stages"));
  for (const file of upstreamStageFiles) {
    const text = await readFile(join(kwokModule, "kustomize", "stage", file), "utf8");
    await writeFile(join(outDir, "stages", file.replaceAll("/", "_")), text);
  }
}

/** Stamps the version as helm's Makefile does, or `helm version` reports v4.3 with no patch level. */
export function helmLdflags(version: string): string {
  const pkg = "helm.sh/helm/v4/internal/version";
  return ["-s", "-w", `-X ${pkg}.version=${version}`, `-X ${pkg}.gitTreeState=clean`].join(" ");
}

/** helm's go.mod has no replace directives either: `go install` builds the released module. */
async function buildHelm(config: BuildConfig, outDir: string, env: NodeJS.ProcessEnv, log: BuildLog) {
  await runGo(
    config,
    ["install", "-v", "-ldflags", helmLdflags(helmVersion), `helm.sh/helm/v4/cmd/helm@${helmVersion}`],
    outDir,
    { ...env, GOBIN: outDir },
    log,
  );
}

/** The upstream Stage files the sandbox's kwok configuration is made from (see stages.ts). */
export const upstreamStageFiles = [
  "node/fast/node-initialize.yaml",
  "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
  "pod/general/pod-create.yaml",
  "pod/general/pod-init-container-running.yaml",
  "pod/general/pod-init-container-completed.yaml",
  "pod/general/pod-ready.yaml",
  "pod/general/pod-complete.yaml",
  "pod/general/pod-delete.yaml",
] as const;

/**
 * Runs `go` with the build's log. `nice`: at the lowest CPU priority, for the long optional builds (Flux)
 * that run beside a test tier or other work on the machine.
 */
export async function runGo(
  config: BuildConfig,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: BuildLog,
  options: { readonly nice?: boolean } = {},
) {
  await writeFile(log.file, `$ go ${args.join(" ")}\n`, { flag: "a" });
  const [program, argv] =
    options.nice === true ? ["nice", ["-n", "19", config.goBinary, ...args]] : [config.goBinary, args];
  const result = await run(program, argv, {
    cwd,
    env,
    logFile: log.file,
    onOutput: log.onOutput,
    failure: "BRD_SANDBOX_BUILD_FAILED",
  });
  if (result.exitCode !== 0) {
    throw new BroadsideError(
      "BRD_SANDBOX_BUILD_FAILED",
      `go ${args[0] ?? ""} exited with ${result.exitCode}; the build log is ${log.file}`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
