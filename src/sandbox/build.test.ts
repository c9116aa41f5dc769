import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { FakeClock } from "../core/fake-clock.js";
import { binaryPaths, ensureBinaries, ensureHelm, helmLdflags, helmPath, type BuildConfig } from "./build.js";
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
