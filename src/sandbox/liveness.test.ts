import { describe, expect, it } from "vitest";
import { FakeProc } from "./fake-proc.js";
import { commandMatches, isRunning, liveProcess, parseStat, systemProc } from "./liveness.js";

const etcd = { pid: 10, binary: "/cache/etcd-v3.6.16/etcd" };
const traffic = { pid: 11, binary: "/usr/bin/node", script: "/repo/dist/sandbox/traffic/main.js" };

describe("telling that a pid still runs what the sandbox started", () => {
  it("matches a binary by its argv[0]", () => {
    expect(commandMatches(["/cache/etcd-v3.6.16/etcd", "--name=broadside"], etcd)).toBe(true);
    expect(commandMatches(["/usr/bin/etcd", "--name=broadside"], etcd)).toBe(false);
  });

  it("matches a node process only when it runs the script: any other node program is not ours", () => {
    expect(commandMatches(["/usr/bin/node", traffic.script, "--health-port=1"], traffic)).toBe(true);
    expect(commandMatches(["/usr/bin/node", "/elsewhere/server.js"], traffic)).toBe(false);
    expect(commandMatches(["/usr/bin/node"], traffic)).toBe(false);
    expect(commandMatches(["/usr/local/bin/node", traffic.script], traffic)).toBe(false);
  });

  it("counts a process as running while /proc shows it with our command line", async () => {
    const proc = new FakeProc().add(10, {
      argv: [etcd.binary, "--name=broadside"],
      state: "S",
      startTime: "500",
    });
    expect(await isRunning(proc, etcd)).toBe(true);
  });

  it("does not count a pid that is gone, a zombie, or recycled by another program", async () => {
    const proc = new FakeProc();
    expect(await isRunning(proc, etcd)).toBe(false);
    proc.add(10, { argv: [etcd.binary], state: "Z", startTime: "500" });
    expect(await isRunning(proc, etcd)).toBe(false);
    proc.add(10, { argv: ["/usr/bin/vim", "notes.txt"], state: "S", startTime: "900" });
    expect(await isRunning(proc, etcd)).toBe(false);
  });
});

describe("reading /proc/<pid>/stat", () => {
  it("finds the state and start time after the command name, even one holding spaces and parentheses", async () => {
    const proc = new FakeProc().add(7, {
      argv: ["/x/odd"],
      comm: "a) b (c",
      state: "R",
      startTime: "123456",
    });
    const text = await proc.read(7, "stat");
    expect(parseStat(text ?? "")).toEqual({ state: "R", startTime: "123456" });
  });

  it("gives up on text that is not a stat line", () => {
    expect(parseStat("")).toBeUndefined();
    expect(parseStat("12 (x) S 1 2")).toBeUndefined();
  });

  it("finds a live process by pid, and none for a zombie", async () => {
    const proc = new FakeProc()
      .add(20, { argv: ["/bin/a"], state: "S", startTime: "42" })
      .add(21, { argv: ["/bin/b"], state: "Z", startTime: "43" });
    expect(await liveProcess(proc, 20)).toEqual({ state: "S", startTime: "42" });
    expect(await liveProcess(proc, 21)).toBeUndefined();
    expect(await liveProcess(proc, 22)).toBeUndefined();
  });
});

describe("the real /proc", () => {
  it("shows this very process as running its own command line", async () => {
    const argv = ((await systemProc.read(process.pid, "cmdline")) ?? "").split("\0");
    expect(await isRunning(systemProc, { pid: process.pid, binary: argv[0] ?? "" })).toBe(true);
  });
});
