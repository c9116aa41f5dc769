import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { get } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { repoRoot, runProgram } from "./harness.js";

/*
 * What the network fault tests share (network-chaos.test.ts, network-filter.test.ts): a sandbox's pod
 * bodies, Broadside's marks in a body's namespace, a broadside command held in the background.
 */

export function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    }).on("error", reject);
  });
}

/** The sandbox's pod bodies, from its traffic component. */
export async function bodies(stateDir: string): Promise<BodyInfo[]> {
  const state = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8")) as {
    components: { traffic: { port: number } };
  };
  const reply = await getText(`http://127.0.0.1:${state.components.traffic.port}/bodies`);
  return reply.status === 200 ? (JSON.parse(reply.body) as { bodies: BodyInfo[] }).bodies : [];
}

export async function broadsideTables(netns: string): Promise<string[]> {
  const listed = await runProgram("ip", ["netns", "exec", netns, "nft", "-j", "list", "tables"]);
  const json = JSON.parse(listed.stdout === "" ? "{}" : listed.stdout) as {
    nftables?: { table?: { name: string } }[];
  };
  return (json.nftables ?? []).flatMap((item) =>
    item.table?.name.startsWith("broadside_") ? [item.table.name] : [],
  );
}

export /** A broadside command run in the background (it holds its fault), its output collected. */
function startBroadside(...args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "broadside.js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => {
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (at - low);
}

export /** Whether this machine's kernel has sch_netem: netem on the loopback of a namespace made for the probe. */
async function kernelHasNetem(): Promise<{ has: boolean; words: string }> {
  const tried = await runProgram("unshare", [
    ...["--net", "--", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
  ]);
  return { has: tried.code === 0, words: tried.stderr.trim() };
}

export async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}
