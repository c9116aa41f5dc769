import { describe, expect, it } from "vitest";
import { commandMatches } from "./processes.js";

describe("telling that a pid still runs what the sandbox started", () => {
  const etcd = { pid: 10, binary: "/cache/etcd-v3.6.16/etcd" };
  const traffic = { pid: 11, binary: "/usr/bin/node", script: "/repo/dist/sandbox/traffic/main.js" };

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
});
