import { readdir } from "node:fs/promises";
import { bareContainerId } from "../core/node-work.js";
import type { ContainerTarget, FoundNetns, FoundProcess, ProcessFinder } from "./finder.js";
import type { ProcessTable } from "./proc.js";

/** Runs a program with an argv array (never a shell) and gives its output. */
export interface ArgvRunner {
  run(argv: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export interface CriFinderOptions {
  /** The crictl binary. */
  readonly crictl: string;
  /** The CRI socket, e.g. unix:///run/containerd/containerd.sock (containerd's, as kerris uses). */
  readonly endpoint: string;
}

/**
 * A real node's finder, through the container runtime's CRI with `crictl` (an argv array; no ID or name
 * from the cluster reaches it unchecked): the container is found by the pod's uid and its name
 * (`crictl ps`), or taken from the work's containerID, then `crictl inspect` gives its pid
 * (`info.pid`, as containerd and CRI-O report it). The pid must be visible here: the DaemonSet runs with
 * hostPID.
 */
export class CriFinder implements ProcessFinder {
  readonly name = "cri";

  constructor(
    private readonly options: CriFinderOptions,
    private readonly runner: ArgvRunner,
    private readonly processes: ProcessTable,
    private readonly listNetns: () => Promise<string[]> = () => readdir("/run/netns"),
  ) {}

  async find(target: ContainerTarget): Promise<FoundProcess> {
    const where = `container ${target.container} of pod ${target.pod.namespace}/${target.pod.name}`;
    const id = target.containerId === undefined ? undefined : bareContainerId(target.containerId);
    const containerId = id ?? (await this.lookUp(target));
    if (typeof containerId !== "string") return containerId;
    const inspected = await this.runner.run(inspectArgv(this.options, containerId));
    if (inspected.exitCode !== 0)
      return { found: false, reason: `crictl inspect ${containerId}: ${firstLine(inspected.stderr)}` };
    const pid = pidOf(inspected.stdout);
    if (pid === undefined)
      return { found: false, reason: `${where} is not running (crictl inspect: no pid)` };
    const startTime = await this.processes.startTime(pid);
    if (startTime === undefined)
      return {
        found: false,
        reason: `${where}: pid ${pid} is not visible here (is the daemon in the host's pid namespace?)`,
      };
    return { found: true, pid, startTime, how: `crictl inspect ${containerId}` };
  }

  /** The container's process's namespace: /proc/<pid>/ns/net (hostPID), shared by every container of the pod. */
  async netns(target: ContainerTarget): Promise<FoundNetns> {
    const found = await this.find(target);
    if (!found.found) return found;
    return { found: true, path: `/proc/${found.pid}/ns/net`, how: `${found.how}, pid ${found.pid}` };
  }

  /** The CNI's named namespaces (/run/netns): where the runtime keeps the pods' namespaces. */
  async netnsPaths(): Promise<string[]> {
    const names = await this.listNetns().catch(() => [] as string[]);
    return names.filter((name) => /^[A-Za-z0-9_.-]{1,200}$/.test(name)).map((name) => `/run/netns/${name}`);
  }

  private async lookUp(target: ContainerTarget): Promise<string | FoundProcess> {
    const listed = await this.runner.run(psArgv(this.options, target));
    if (listed.exitCode !== 0) return { found: false, reason: `crictl ps: ${firstLine(listed.stderr)}` };
    const id = runningContainerId(listed.stdout, target.container);
    return (
      id ?? { found: false, reason: `no running container ${target.container} in pod ${target.pod.uid}` }
    );
  }
}

/** `crictl ps` for the pod's running containers, filtered by the pod uid label (a checked UUID). */
export function psArgv(options: CriFinderOptions, target: ContainerTarget): string[] {
  return [
    options.crictl,
    "--runtime-endpoint",
    options.endpoint,
    "ps",
    "--output",
    "json",
    "--state",
    "Running",
    "--label",
    `io.kubernetes.pod.uid=${target.pod.uid}`,
  ];
}

export function inspectArgv(options: CriFinderOptions, containerId: string): string[] {
  return [options.crictl, "--runtime-endpoint", options.endpoint, "inspect", "--output", "json", containerId];
}

/** The ID of the listed container whose Kubernetes name is `container`. */
export function runningContainerId(stdout: string, container: string): string | undefined {
  const listed = parseJson(stdout);
  const containers = isObject(listed) && Array.isArray(listed.containers) ? listed.containers : [];
  for (const entry of containers) {
    if (!isObject(entry) || typeof entry.id !== "string") continue;
    const labels = isObject(entry.labels) ? entry.labels : {};
    if (labels["io.kubernetes.container.name"] === container) return bareContainerId(entry.id);
  }
  return undefined;
}

/** `info.pid` of `crictl inspect -o json`; undefined when absent or 0 (not running). */
export function pidOf(stdout: string): number | undefined {
  const inspected = parseJson(stdout);
  const info = isObject(inspected) && isObject(inspected.info) ? inspected.info : {};
  const pid = info.pid;
  return typeof pid === "number" && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "failed";
}
