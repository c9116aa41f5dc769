import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { binaryPaths, type BuildConfig } from "./build.js";
import { ensureFlux, fluxPaths } from "./flux-build.js";
import { fluxVersion } from "./versions.js";

/**
 * A stand-in `go`: reports its version, records each call with its working directory, "builds" by
 * writing the -o file, and answers `mod download -json` with a module holding one CRD file.
 */
async function fakeGo(dir: string): Promise<string> {
  const module = join(dir, "module");
  await mkdir(join(module, "config", "crd", "bases"), { recursive: true });
  await writeFile(
    join(module, "config", "crd", "bases", "example.io_things.yaml"),
    "kind: CustomResourceDefinition\n",
  );
  const path = join(dir, "fake-go");
  const script = `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
if (args[0] === "env") { console.log("go1.26.8"); process.exit(0); }
fs.appendFileSync(${JSON.stringify(join(dir, "calls"))}, process.cwd() + ": " + args.join(" ") + "\\n");
if (args[0] === "mod") { console.log(JSON.stringify({ Dir: ${JSON.stringify(module)} })); process.exit(0); }
const out = args[args.indexOf("-o") + 1];
fs.writeFileSync(out, "binary");
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

function config(goBinary: string, cacheDir: string): BuildConfig & { messages: string[] } {
  const messages: string[] = [];
  return {
    cacheDir,
    goModulesDir: "/repo/sandbox/go",
    goBinary,
    baseEnv: {},
    onProgress: (message) => messages.push(message),
    clock: new FakeClock(Date.parse("2026-01-01T00:00:00Z")),
    messages,
  };
}

describe("Flux's controllers, built only for sandbox up --with flux", () => {
  it("are kept in a directory of their own version, apart from the control plane's", () => {
    expect(fluxPaths("/cache")).toEqual({
      sourceController: `/cache/flux-${fluxVersion}/source-controller`,
      kustomizeController: `/cache/flux-${fluxVersion}/kustomize-controller`,
      crdsDir: `/cache/flux-${fluxVersion}/crds`,
    });
    expect(JSON.stringify(binaryPaths("/cache"))).not.toContain("flux");
  });

  it("are not built again once their directory is complete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-flux-build-"));
    await mkdir(join(dir, `flux-${fluxVersion}`), { recursive: true });
    await writeFile(join(dir, `flux-${fluxVersion}`, ".complete"), "");
    const build = config(join(dir, "no-such-go"), dir);
    expect(await ensureFlux(build)).toEqual(fluxPaths(dir));
    expect(build.messages).toEqual([]);
  });

  it("builds each controller from its own wrapper module, -p 2, and copies its CRDs from the module", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-flux-build-"));
    const cacheDir = join(dir, "cache");
    const build = { ...config(await fakeGo(dir), cacheDir), goModulesDir: dir };
    await mkdir(join(dir, "flux-source-controller"));
    await mkdir(join(dir, "flux-kustomize-controller"));
    const paths = await ensureFlux(build);
    const calls = (await readFile(join(dir, "calls"), "utf8")).trim().split("\n");
    const builds = calls.filter((call) => call.includes(": build "));
    expect(builds).toEqual([
      `${dir}/flux-source-controller: build -p 2 -v -ldflags -s -w -o ${paths.sourceController.replace(`flux-${fluxVersion}`, `flux-${fluxVersion}.partial-${process.pid}`)} github.com/fluxcd/source-controller`,
      `${dir}/flux-kustomize-controller: build -p 2 -v -ldflags -s -w -o ${paths.kustomizeController.replace(`flux-${fluxVersion}`, `flux-${fluxVersion}.partial-${process.pid}`)} github.com/fluxcd/kustomize-controller`,
    ]);
    expect(calls).toContain(
      `${dir}/flux-source-controller: mod download -json github.com/fluxcd/source-controller@${fluxVersion}`,
    );
    expect(await readdir(paths.crdsDir)).toEqual(["example.io_things.yaml"]);
    expect(await readFile(paths.sourceController, "utf8")).toBe("binary");
    expect(build.messages.at(-1)).toMatch(new RegExp(`^built flux-${fluxVersion} in \\d+s$`));
  });

  it("runs the compiler at the lowest priority, so a test tier beside it keeps the CPU", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-flux-build-"));
    const go = await fakeGo(dir);
    // The fake records its own parent's niceness: a nice'd go inherits 19.
    await writeFile(
      go,
      (await readFile(go, "utf8")).replace(
        "const args = process.argv.slice(2);",
        `const args = process.argv.slice(2);
if (args[0] === "build") fs.appendFileSync(${JSON.stringify(join(dir, "nice"))}, require("os").getPriority() + "\\n");`,
      ),
    );
    const build = { ...config(go, join(dir, "cache")), goModulesDir: dir };
    await mkdir(join(dir, "flux-source-controller"));
    await mkdir(join(dir, "flux-kustomize-controller"));
    await ensureFlux(build);
    expect((await readFile(join(dir, "nice"), "utf8")).trim().split("\n")).toEqual(["19", "19"]);
  });

  it("leaves no directory that would pass for a complete one when a build fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-flux-build-"));
    const build = { ...config(await fakeGo(dir), join(dir, "cache")), goModulesDir: join(dir, "missing") };
    await expect(ensureFlux(build)).rejects.toMatchObject({ code: "BRD_SANDBOX_BUILD_FAILED" });
    expect(await readdir(join(dir, "cache"))).toEqual(["logs"]);
  });
});
