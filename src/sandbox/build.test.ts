import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { FakeClock } from "../core/fake-clock.js";
import { binaryPaths, ensureBinaries, ensureHelm, helmLdflags, helmPath, type BuildConfig } from "./build.js";
import type { ProcReader } from "./liveness.js";
import { etcdVersion, helmVersion, kubernetesVersion, kwokVersion } from "./versions.js";

/** A stand-in `go` that reports a version and records that it was asked to build. */
async function fakeGo(dir: string, version: string): Promise<string> {
  const path = join(dir, "fake-go");
  const script = `#!${process.execPath}
const args = process.argv.slice(2);
if (args[0] === "env") { console.log(${JSON.stringify(version)}); process.exit(0); }
require("fs").appendFileSync(${JSON.stringify(join(dir, "calls"))}, args.join(" ") + "\\n");
process.exit(1);
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

function config(goBinary: string, cacheDir: string): BuildConfig & { messages: string[] } {
  const messages: string[] = [];
  return {
    cacheDir,
    goModulesDir: join(cacheDir, "modules"),
    goBinary,
    baseEnv: {},
    onProgress: (message) => messages.push(message),
    clock: new FakeClock(Date.parse("2026-01-01T00:00:00Z")),
    messages,
  };
}

describe("the sandbox's binary cache", () => {
  it("builds nothing when every version's directory is complete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    for (const key of [`kubernetes-${kubernetesVersion}`, `etcd-${etcdVersion}`, `kwok-${kwokVersion}`]) {
      await mkdir(join(dir, key), { recursive: true });
      await writeFile(join(dir, key, ".complete"), "");
    }
    const build = config(join(dir, "no-such-go"), dir);
    expect(await ensureBinaries(build)).toEqual(binaryPaths(dir));
    expect(build.messages).toEqual([]);
  });

  it("keys each component's directory by its version", () => {
    const paths = binaryPaths("/cache");
    expect(dirname(paths.kubeApiserver)).toBe(`/cache/kubernetes-${kubernetesVersion}`);
    expect(dirname(paths.etcd)).toBe(`/cache/etcd-${etcdVersion}`);
    expect(dirname(paths.kwok)).toBe(`/cache/kwok-${kwokVersion}`);
  });

  it("refuses to build with a Go older than the wrapper modules need, before building anything", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const build = config(await fakeGo(dir, "go1.24.3"), join(dir, "cache"));
    const failure = await ensureBinaries(build).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_PREREQUISITE_MISSING");
    expect((failure as BroadsideError).message).toContain("needs Go >= 1.26; ");
  });

  it("calls a Go that cannot even say its version a failed build, naming the command", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const go = join(dir, "broken-go");
    await writeFile(
      go,
      `#!${process.execPath}\nprocess.stderr.write("go: cannot find GOROOT\\n");\nprocess.exit(2);\n`,
    );
    await chmod(go, 0o755);
    const failure = await ensureBinaries(config(go, join(dir, "cache"))).catch((error: unknown) => error);
    expect((failure as BroadsideError).code).toBe("BRD_SANDBOX_BUILD_FAILED");
    expect((failure as BroadsideError).message).toContain(
      "env GOVERSION exited with 2: go: cannot find GOROOT",
    );
  });

  it("names the build log when a build fails, and leaves no half-built directory behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const cacheDir = join(dir, "cache");
    const build = config(await fakeGo(dir, "go1.26.8"), cacheDir);
    await mkdir(join(build.goModulesDir, "kubernetes"), { recursive: true });
    const failure = await ensureBinaries(build).catch((error: unknown) => error);
    expect((failure as BroadsideError).code).toBe("BRD_SANDBOX_BUILD_FAILED");
    expect((failure as BroadsideError).message).toContain(
      join(cacheDir, "logs", `build-kubernetes-${kubernetesVersion}.log`),
    );
    expect((await readdir(cacheDir)).filter((entry) => entry.startsWith("kubernetes-"))).toEqual([]);
  });
});

describe("helm, built only for the tests of the chart", () => {
  it("is kept in a directory of its own version, apart from the sandbox's binaries", () => {
    expect(helmPath("/cache")).toBe(`/cache/helm-${helmVersion}/helm`);
    expect(JSON.stringify(binaryPaths("/cache"))).not.toContain("helm");
  });

  it("is not built again once its directory is complete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    await mkdir(join(dir, `helm-${helmVersion}`), { recursive: true });
    await writeFile(join(dir, `helm-${helmVersion}`, ".complete"), "");
    const build = config(join(dir, "no-such-go"), dir);
    expect(await ensureHelm(build)).toBe(helmPath(dir));
    expect(build.messages).toEqual([]);
  });

  it("is built with `go install` of the released module, its version stamped as helm's Makefile does", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const build = config(await fakeGo(dir, "go1.26.8"), join(dir, "cache"));
    const failure = await ensureHelm(build).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "BRD_SANDBOX_BUILD_FAILED" });
    const calls = await readFile(join(dir, "calls"), "utf8");
    expect(calls).toContain(
      `install -v -ldflags ${helmLdflags(helmVersion)} helm.sh/helm/v4/cmd/helm@${helmVersion}`,
    );
    expect(helmLdflags("v4.3.2")).toContain("-X helm.sh/helm/v4/internal/version.version=v4.3.2");
    // A failed build leaves no directory that would pass for a complete one.
    expect(await readdir(join(dir, "cache"))).toEqual(["logs"]);
  });
});

describe("a build another process is already doing", () => {
  /** /proc as these tests see it: the pids alive, each with its start time. */
  function procOf(alive: Map<number, string>): ProcReader {
    return {
      read: (pid, entry) => {
        const startTime = alive.get(pid);
        if (startTime === undefined) return Promise.resolve(undefined);
        return Promise.resolve(
          entry === "cmdline" ? "go\0" : `${pid} (go) S ${"0 ".repeat(18)}${startTime} 0`,
        );
      },
    };
  }

  async function partialBuild(cacheDir: string, key: string, pid: number, startTime: string) {
    const dir = join(cacheDir, `${key}.partial-${pid}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".builder"), `${pid} ${startTime}\n`);
  }

  it("is waited for, and its result used, instead of being built a second time beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const key = `helm-${helmVersion}`;
    await partialBuild(dir, key, 4242, "777");
    const build = { ...config(join(dir, "no-such-go"), dir), proc: procOf(new Map([[4242, "777"]])) };
    const clock = build.clock as FakeClock;
    let done = false;
    const waiting = ensureHelm(build).then((path) => {
      done = true;
      return path;
    });
    // The cache is read from disk, so the first look is awaited for real; then it sleeps on the clock.
    await vi.waitFor(() => {
      expect(clock.pending).toBe(1);
    });
    expect(build.messages).toEqual([`waiting for process 4242, which is building ${key} (0s so far)`]);
    await clock.advance(2_000);
    await vi.waitFor(() => {
      expect(clock.pending).toBe(1);
    });
    expect(done).toBe(false);
    // The other process finishes: its directory is renamed into place, complete.
    await mkdir(join(dir, key));
    await writeFile(join(dir, key, ".complete"), "");
    await rm(join(dir, `${key}.partial-4242`), { recursive: true });
    await clock.advance(2_000);
    expect(await waiting).toBe(helmPath(dir));
    // Nothing was built here: the Go that does not exist was never asked.
    expect(build.messages.filter((message) => message.startsWith("building"))).toEqual([]);
  });

  it("is not waited for when its builder is gone, or its pid now belongs to another process", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-build-"));
    const key = `helm-${helmVersion}`;
    await partialBuild(dir, key, 4242, "777");
    await partialBuild(dir, key, 4343, "888");
    const build = {
      ...config(await fakeGo(dir, "go1.26.8"), join(dir)),
      proc: procOf(new Map([[4343, "999"]])),
    };
    const failure = await ensureHelm(build).catch((error: unknown) => error);
    // It went on to build (the stand-in Go fails the build) without a single wait.
    expect(failure).toMatchObject({ code: "BRD_SANDBOX_BUILD_FAILED" });
    expect((build.clock as FakeClock).sleeps).toEqual([]);
    expect(build.messages.some((message) => message.startsWith("waiting"))).toBe(false);
  });
});
