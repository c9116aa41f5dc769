import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { binaryPaths, type BuildConfig } from "./build.js";
import { ensurePrometheus, prometheusLdflags, prometheusPath } from "./prometheus-build.js";
import { prometheusVersion } from "./versions.js";

/**
 * A stand-in `go`: reports its version, records each call with its working directory, its GOBIN and its
 * niceness, and "installs" by writing GOBIN/prometheus.
 */
async function fakeGo(dir: string): Promise<string> {
  const path = join(dir, "fake-go");
  const script = `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
if (args[0] === "env") { console.log("go1.26.8"); process.exit(0); }
const line = process.cwd() + " GOBIN=" + process.env.GOBIN + " nice=" + require("os").getPriority() + ": " + args.join(" ");
fs.appendFileSync(${JSON.stringify(join(dir, "calls"))}, line + "\\n");
if (process.env.FAIL_BUILD === "1") process.exit(1);
fs.writeFileSync(require("path").join(process.env.GOBIN, "prometheus"), "binary");
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

function config(goBinary: string, cacheDir: string, baseEnv: NodeJS.ProcessEnv = {}): BuildConfig {
  return {
    cacheDir,
    goModulesDir: "/repo/sandbox/go",
    goBinary,
    baseEnv,
    onProgress: () => undefined,
    clock: new FakeClock(Date.parse("2026-01-01T00:00:00Z")),
  };
}

describe("Prometheus, built only for sandbox up --with prometheus", () => {
  it("is kept in a directory of its own version, apart from the control plane's", () => {
    expect(prometheusPath("/cache")).toBe(`/cache/prometheus-${prometheusVersion}/prometheus`);
    expect(JSON.stringify(binaryPaths("/cache"))).not.toContain("prometheus");
  });

  it("is not built again once its directory is complete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-prometheus-build-"));
    await mkdir(join(dir, `prometheus-${prometheusVersion}`), { recursive: true });
    await writeFile(join(dir, `prometheus-${prometheusVersion}`, ".complete"), "");
    expect(await ensurePrometheus(config(join(dir, "no-such-go"), dir))).toBe(prometheusPath(dir));
  });

  it("is go install'ed from the released module, -p 2 at the lowest priority, with its release stamped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-prometheus-build-"));
    const cacheDir = join(dir, "cache");
    const path = await ensurePrometheus(config(await fakeGo(dir), cacheDir));
    const partial = `${cacheDir}/prometheus-${prometheusVersion}.partial-${process.pid}`;
    expect((await readFile(join(dir, "calls"), "utf8")).trim().split("\n")).toEqual([
      `${partial} GOBIN=${partial} nice=19: install -p 2 -v -ldflags ${prometheusLdflags("3.16.0")} github.com/prometheus/prometheus/cmd/prometheus@${prometheusVersion}`,
    ]);
    expect(await readFile(path, "utf8")).toBe("binary");
    expect(prometheusLdflags("3.16.0")).toContain("-X github.com/prometheus/common/version.Version=3.16.0");
  });

  it("leaves no directory that would pass for a complete one when the build fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-prometheus-build-"));
    const build = config(await fakeGo(dir), join(dir, "cache"), { FAIL_BUILD: "1" });
    await expect(ensurePrometheus(build)).rejects.toMatchObject({ code: "BRD_SANDBOX_BUILD_FAILED" });
    expect(await readdir(join(dir, "cache"))).toEqual(["logs"]);
  });
});
