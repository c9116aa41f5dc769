import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeProxyLauncher } from "./proxy-launcher.js";

describe("the proxy launcher", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("refuses a work name Broadside did not make before it creates a log file or starts anything", async () => {
    dir = await mkdtemp(join(tmpdir(), "broadside-proxy-launcher-"));
    const logDir = join(dir, "journal");
    const launcher = new NodeProxyLauncher(
      { node: "/nonexistent/node", script: "/nonexistent/proxy.js" },
      logDir,
    );
    const config = { ports: [8080], untilMs: 4_102_444_800_000 };

    await expect(launcher.start("/proc/self/ns/net", config, "../../etc/evil")).rejects.toThrow(
      '"../../etc/evil" is not a node work name',
    );
    // Nothing was written: not the log directory, let alone a file outside it.
    await expect(readdir(logDir)).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
