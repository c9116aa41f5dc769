import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** `broadside agent` as a process of its own, as it runs on a workstation: one replica, no Lease. */
export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly readyz: string;
  stop(): Promise<void>;
}

/** The Node flags the container image runs the agent with (Dockerfile ENTRYPOINT; ADR 0018). */
export const imageNodeFlags = ["--max-semi-space-size=1", "--optimize-for-size"] as const;

/** The environment the image adds (Dockerfile ENV): glibc's malloc keeps at most two arenas. */
export const imageEnvironment = { MALLOC_ARENA_MAX: "2" } as const;

/** A free loopback port, picked by the kernel. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/**
 * Starts the built agent (dist/), its JSON log to `logFile`; resolves once /readyz says ready. `nodeFlags`
 * go to Node before the script (e.g. heap settings), `agentFlags` after `agent`.
 */
export async function startAgent(
  repoRoot: string,
  kubeconfig: string,
  logFile: string,
  extra: {
    readonly nodeFlags?: readonly string[];
    readonly agentFlags?: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
  } = {},
): Promise<AgentProcess> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    ...(extra.nodeFlags ?? []),
    join(repoRoot, "bin", "broadside.js"),
    "agent",
    "--kubeconfig",
    kubeconfig,
    "--no-leader-elect",
    "--health-probe-bind-address",
    address,
    "--metrics-bind-address",
    address,
    ...(extra.agentFlags ?? []),
  ];
  const env = { ...process.env, ...extra.env };
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
  child.stderr.pipe(createWriteStream(logFile));
  const pid = child.pid;
  if (pid === undefined) throw new Error("the agent did not start");
  const readyz = `http://${address}/readyz`;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const agent: AgentProcess = {
    child,
    pid,
    readyz,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
  await untilReady(agent, 15 * 60_000);
  return agent;
}

async function untilReady(agent: AgentProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (agent.child.exitCode !== null) throw new Error(`the agent exited with ${agent.child.exitCode}`);
    const status = await fetch(agent.readyz).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`the agent was not ready after ${timeoutMs} ms`);
}
