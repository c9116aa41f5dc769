import { readFile } from "node:fs/promises";

/** VmRSS of a process, in MiB, from /proc. */
export async function residentMiB(pid: number | "self"): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return Number(kib) / 1024;
}

/** VmHWM of a process, in MiB: the highest its resident set has been. */
export async function peakResidentMiB(pid: number | "self"): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmHWM in /proc/${String(pid)}/status`);
  return Number(kib) / 1024;
}
