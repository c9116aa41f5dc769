import { ApiException, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject } from "vitest";
import { readConfig } from "../../src/cli/config.js";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { connect, type KubeClients } from "../../src/kube/client.js";
import { binaryPaths } from "../../src/sandbox/build.js";
import { sandboxFrontDoors, sandboxStatus } from "../../src/sandbox/sandbox.js";
import type { DoorsReport } from "../../src/sandbox/traffic/front-doors.js";
import { integrationSandboxName } from "./names.js";

const execFileAsync = promisify(execFile);
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const config = readConfig(process.env);

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an argv array and returns its exit code and output, never throwing on failure. */
export async function runProgram(
  program: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(program, args, { cwd: repoRoot, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : -1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? "",
    };
  }
}

/** The `broadside` command as a user runs it (the compiled CLI). */
export function broadside(...args: string[]): Promise<CommandResult> {
  return runProgram(process.execPath, [join(repoRoot, "bin", "broadside.js"), ...args], 600_000);
}

/** The kubectl built with the sandbox, at the sandbox's pinned Kubernetes version. */
export function kubectl(kubeconfig: string, ...args: string[]): Promise<CommandResult> {
  return runProgram(binaryPaths(config.cacheDir).kubectl, ["--kubeconfig", kubeconfig, ...args]);
}

/** The front doors of a sandbox (the integration tier's by default), as its traffic process reports them. */
export async function sandboxDoors(name = integrationSandboxName): Promise<DoorsReport | undefined> {
  const env = sandboxEnvironment(config, processIo);
  const { state } = await sandboxStatus(env, name);
  return sandboxFrontDoors(env, state);
}

export function adminClients(): KubeClients {
  return connect({ kubeconfigPath: inject("adminKubeconfig") });
}

/**
 * A namespace of the test's own, created before its tests and deleted after them, so tests never see
 * each other's objects.
 */
export function useTestNamespace(prefix: string): () => string {
  let name = "";
  beforeAll(async () => {
    name = `${prefix}-${randomBytes(3).toString("hex")}`;
    await adminClients().core.createNamespace({
      body: { metadata: { name, labels: { "broadside.dev/test": "true" } } },
    });
  });
  afterAll(async () => {
    await adminClients().core.deleteNamespace({ name });
  });
  return () => name;
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Polls until `check` holds; for waiting on the cluster in tests (never for measuring timings). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A Deployment of `replicas` pods labelled app=<name>, with a short grace period to keep tests quick. */
export function testDeployment(name: string, replicas: number, gracePeriodSeconds = 2): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: gracePeriodSeconds,
          containers: [
            {
              name: "app",
              image: "registry.invalid/app:1",
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        },
      },
    },
  };
}

/** Creates the Deployment and waits, as `kubectl rollout status` does, until it is Available. */
export async function deployAndWait(namespace: string, deployment: V1Deployment): Promise<void> {
  await adminClients().apps.createNamespacedDeployment({ namespace, body: deployment });
  const name = deployment.metadata?.name ?? "";
  const rollout = await kubectl(
    inject("adminKubeconfig"),
    "-n",
    namespace,
    "rollout",
    "status",
    `deployment/${name}`,
    "--timeout=120s",
  );
  expect(rollout.code, rollout.stderr).toBe(0);
}

/** A process of its own listening on 127.0.0.1, as an unrelated local server holding a port would. */
export interface PortHolderProcess {
  readonly port: number;
  readonly pid: number;
  /** Its command line as /proc shows it (arguments joined by spaces). */
  readonly command: string;
  release(): Promise<void>;
}

const holderScript =
  'const n=require("node:net");n.createServer().listen(Number(process.argv[2]),"127.0.0.1",()=>console.log("up"))';

/** Starts a process that listens on 127.0.0.1:port until released (the test's afterAll must release it). */
export async function holdPort(port: number): Promise<PortHolderProcess> {
  const args = ["-e", holderScript, "--", "port-holder", String(port)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const first = await Promise.race([
    once(child.stdout, "data").then(() => "listening"),
    exited.then(() => "exited"),
  ]);
  if (first === "exited") throw new Error(`the port holder could not listen on 127.0.0.1:${port}`);
  return {
    port,
    pid: child.pid ?? 0,
    command: [process.execPath, ...args].join(" "),
    release: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}
