import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { nodeName } from "./bootstrap.js";
import type { SandboxEnvironment } from "./environment.js";
import { startDetached, stopProcess, type StopContext } from "./processes.js";
import type { SandboxLayout } from "./state-dir.js";

/*
 * The node daemons of a sandbox with pod bodies (ADR 0029): one `broadside daemon` per kwok node, a
 * local root process like the other components, its output in logs/daemon-<node>.log, its journal in
 * daemon/<node>/. They are listed in daemons.json (beside state.json, which they leave alone) as each
 * starts, and stopped by pid, only while /proc shows our Node running our bin/broadside.js. A sandbox
 * without bodies gets none: its pods have no process to act on, and a sandbox of 500 nodes stays light.
 */

const daemonsSchema = z.array(
  z.object({ node: z.string(), pid: z.number().int().positive(), binary: z.string(), script: z.string() }),
);
export type SandboxDaemons = z.infer<typeof daemonsSchema>;

export function daemonsFile(layout: SandboxLayout): string {
  return join(layout.dir, "daemons.json");
}

export function daemonJournalDir(layout: SandboxLayout, node: string): string {
  return join(layout.dir, "daemon", node);
}

/** `broadside daemon` for one node of the sandbox: argv only, the sandbox's own admin kubeconfig. */
export function daemonArgs(layout: SandboxLayout, script: string, node: string): string[] {
  return [
    script,
    "daemon",
    "--node",
    node,
    "--runtime",
    "sandbox",
    "--sandbox",
    layout.name,
    "--journal",
    daemonJournalDir(layout, node),
    "--kubeconfig",
    layout.adminKubeconfig,
  ];
}

/** Starts a daemon per node (the sandbox must have pod bodies), recording each pid as it starts. */
export async function startDaemons(
  env: SandboxEnvironment,
  layout: SandboxLayout,
  nodes: number,
): Promise<SandboxDaemons> {
  const script = join(env.packageRoot, "bin", "broadside.js");
  const started: SandboxDaemons = [];
  for (let index = 0; index < nodes; index += 1) {
    const node = nodeName(index);
    const daemon = await startDetached(
      {
        binary: process.execPath,
        args: daemonArgs(layout, script, node),
        logFile: join(layout.logsDir, `daemon-${node}.log`),
        script,
      },
      { ...env.build.baseEnv, BROADSIDE_STATE_DIR: env.stateRoot },
    );
    started.push({ node, pid: daemon.pid, binary: process.execPath, script });
    await writeDaemons(layout, started);
  }
  env.onProgress(`  ${nodes} node daemon(s) started (logs/daemon-<node>.log)`);
  return started;
}

/** Stops every daemon daemons.json lists (SIGTERM, then SIGKILL after 5 s); a missing file is none. */
export async function stopDaemons(layout: SandboxLayout, context: StopContext): Promise<void> {
  const daemons = await readDaemons(layout);
  await Promise.all(daemons.map((daemon) => stopProcess(daemon, context, 5_000)));
  if (daemons.length > 0) await writeDaemons(layout, []);
}

export async function readDaemons(layout: SandboxLayout): Promise<SandboxDaemons> {
  try {
    const parsed = daemonsSchema.safeParse(JSON.parse(await readFile(daemonsFile(layout), "utf8")));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

async function writeDaemons(layout: SandboxLayout, daemons: SandboxDaemons): Promise<void> {
  const file = daemonsFile(layout);
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(daemons), { mode: 0o600 });
  await rename(temporary, file);
}
