import { access, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { broadside, config } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * This file starts and stops a sandbox of its own, so the shared one is never disturbed; named after the
 * shared one, so two checkouts running this file side by side do not meet.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 25)}-updown`, "sandbox name");

interface StatusJson {
  components: { name: string; pid: number; healthy: boolean }[];
  frontDoors: { open: unknown[]; failed: unknown[] } | null;
}

async function status(): Promise<{ code: number; stderr: string; json: StatusJson }> {
  const result = await broadside("sandbox", "status", "--name", name, "-o", "json");
  return { code: result.code, stderr: result.stderr, json: JSON.parse(result.stdout) as StatusJson };
}

/**
 * Alive means in /proc and not a zombie: the sandbox's processes outlive the CLI that started them, so
 * once stopped they are reaped by pid 1, which on some machines leaves them as zombies for a while.
 */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

/** Every process whose command line mentions this sandbox's state directory. */
async function processesOfSandbox(): Promise<number[]> {
  const stateDir = join(config.stateDir, name);
  const pids = (await readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  const mentions = await Promise.all(
    pids.map(async (pid) =>
      (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(stateDir) ? Number(pid) : 0,
    ),
  );
  return mentions.filter((pid) => pid > 0);
}

describe("sandbox up, status, down", () => {
  afterAll(async () => {
    await broadside("sandbox", "down", "--name", name);
  });

  it("starts a second, independent sandbox next to the shared one", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "2");
    expect(up.code, up.stderr).toBe(0);
    // Its state directory is owner-only and carries the marker `down` insists on.
    const dir = join(config.stateDir, name);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, ".broadside-sandbox"), "utf8")).toBe(`${name}\n`);
    const { code, json } = await status();
    expect(code).toBe(0);
    expect(json.components.map((c) => [c.name, c.healthy])).toEqual([
      ["etcd", true],
      ["kube-apiserver", true],
      ["kube-controller-manager", true],
      ["kube-scheduler", true],
      ["kwok", true],
      ["traffic", true],
    ]);
    // The traffic process answers; nothing is served yet.
    expect(json.frontDoors).toEqual({ open: [], failed: [] });
  });

  it("restarts only a dead traffic process on `up`, leaving the cluster's processes alone", async () => {
    const before = (await status()).json.components;
    const traffic = before.find((c) => c.name === "traffic");
    process.kill(traffic?.pid ?? 0, "SIGKILL");
    const down = await status();
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("traffic is down");
    expect(down.json.frontDoors).toBeNull();

    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "2");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("its traffic process is not; starting it");
    const after = await status();
    expect(after.code).toBe(0);
    const pids = (components: StatusJson["components"]) =>
      components.filter((c) => c.name !== "traffic").map((c) => c.pid);
    expect(pids(after.json.components)).toEqual(pids(before));
    expect(after.json.components.find((c) => c.name === "traffic")?.pid).not.toBe(traffic?.pid);
  });

  it("reports a killed component: status exits non-zero and names it", async () => {
    const scheduler = (await status()).json.components.find((c) => c.name === "kube-scheduler");
    expect(scheduler).toBeDefined();
    process.kill(scheduler?.pid ?? 0, "SIGKILL");
    const after = await status();
    expect(after.code).toBe(3);
    expect(after.stderr).toContain("kube-scheduler is down");
    expect(after.json.components.filter((c) => !c.healthy).map((c) => c.name)).toEqual(["kube-scheduler"]);
  });

  it("stops every process it started on `down`, the traffic process included, and forgets the sandbox", async () => {
    const components = (await status()).json.components;
    const pids = components.map((c) => c.pid);
    const traffic = components.find((c) => c.name === "traffic")?.pid ?? 0;
    expect(await isAlive(traffic)).toBe(true);
    expect(await processesOfSandbox()).toContain(traffic);
    const down = await broadside("sandbox", "down", "--name", name);
    expect(down.code, down.stderr).toBe(0);
    const alive = await Promise.all(pids.map(isAlive));
    expect(pids.filter((_, index) => alive[index])).toEqual([]);
    expect(await processesOfSandbox()).toEqual([]);
    const gone = await broadside("sandbox", "status", "--name", name);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no sandbox named "${name}"`);
    // Its directory is gone; the shared sandbox's is not.
    await expect(access(join(config.stateDir, name))).rejects.toThrow(/ENOENT/);
    await access(join(config.stateDir, integrationSandboxName, ".broadside-sandbox"));
  });
});
