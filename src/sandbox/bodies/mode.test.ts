import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { decideBodies, probeBodies } from "./mode.js";
import type { BodiesCapabilities } from "./mode.js";
import { MemoryHost } from "./memory-host.js";

const v1 = { version: "v1" as const, memory: "/sys/fs/cgroup/memory", cpu: "/sys/fs/cgroup/cpu" };
const able: BodiesCapabilities = { root: true, netnsProblem: undefined, cgroups: { layout: v1 } };
const notRoot: BodiesCapabilities = {
  root: false,
  netnsProblem: undefined,
  cgroups: { problem: "not probed" },
};
const noNetns: BodiesCapabilities = { ...able, netnsProblem: 'Object "netns" is unknown' };

describe("--pod-bodies", () => {
  it("auto takes netns where the machine allows it, and says why not where it does not", () => {
    expect(decideBodies("auto", able)).toEqual({ mode: "netns", cgroups: v1 });
    expect(decideBodies("auto", notRoot)).toEqual({
      mode: "loopback",
      reason: expect.stringMatching(/not running as root/) as string,
    });
    expect(decideBodies("auto", noNetns)).toEqual({
      mode: "loopback",
      reason: expect.stringMatching(/ip netns/) as string,
    });
  });

  it("netns on a machine that cannot is a clear error before anything starts; loopback is always loopback", () => {
    expect(() => decideBodies("netns", notRoot)).toThrow(BroadsideError);
    expect(() => decideBodies("netns", notRoot)).toThrow(/--pod-bodies netns needs root/);
    expect(decideBodies("loopback", able)).toEqual({ mode: "loopback", reason: "--pod-bodies loopback" });
  });

  it("probes root first, then `ip netns list`, then the cgroups", async () => {
    const host = new MemoryHost();
    expect(await probeBodies(host, 1000)).toEqual(notRoot);
    expect(host.ran).toEqual([]);
    host.answers.set("ip netns list", { exitCode: 1, stdout: "", stderr: 'Object "netns" is unknown\n' });
    expect(await probeBodies(host, 0)).toMatchObject({
      root: true,
      netnsProblem: 'Object "netns" is unknown',
    });
  });
});
