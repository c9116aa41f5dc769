import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { broadside, repoRoot, type CommandResult } from "./harness.js";
import { integrationSandboxName } from "./names.js";

const execFileAsync = promisify(execFile);

/**
 * The compiled CLI against a state root of the test's own: were a name ever to walk out again, it
 * would reach this temporary tree, never the machine's real sandboxes.
 */
async function broadsideIn(stateRoot: string, ...args: string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [join(repoRoot, "bin", "broadside.js"), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, BROADSIDE_STATE_DIR: stateRoot },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** Every path under `dir`, with each file's text, so "untouched" means the same names and contents. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = (await readdir(dir, { recursive: true })).sort();
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const info = await lstat(join(dir, entry));
    result[entry] = info.isFile()
      ? await readFile(join(dir, entry), "utf8")
      : info.isDirectory()
        ? "<dir>"
        : "<link>";
  }
  return result;
}

describe("sandbox names from the command line never reach the file system unchecked", () => {
  let top = "";
  let stateRoot = "";

  /** top/{precious/data, state/sandboxes/{alpha, beta}}: two sandboxes with markers, keys and state. */
  beforeEach(async () => {
    top = await mkdtemp(join(tmpdir(), "broadside-it-names-"));
    stateRoot = join(top, "state", "sandboxes");
    for (const name of ["alpha", "beta"]) {
      await mkdir(join(stateRoot, name, "pki"), { recursive: true, mode: 0o700 });
      await writeFile(join(stateRoot, name, ".broadside-sandbox"), `${name}\n`);
      await writeFile(join(stateRoot, name, "pki", "ca.key"), `${name} secret`);
    }
    await mkdir(join(top, "precious"));
    await writeFile(join(top, "precious", "data"), "keep me");
  });

  it.each(["../..", ""])(
    "`sandbox down --name %j` exits 2 naming --name; the state root and other sandboxes are untouched",
    async (name) => {
      const before = await snapshot(top);
      const down = await broadsideIn(stateRoot, "sandbox", "down", "--name", name);
      expect(down.code).toBe(2);
      expect(down.stderr).toContain("error [BRD_USAGE]: --name: ");
      expect(down.stdout).toBe("");
      expect(await snapshot(top)).toEqual(before);
    },
  );

  it.each(["..", ".", "a/b", "Alpha"])("`sandbox status|kubeconfig --name %j` exit 2 too", async (name) => {
    for (const command of ["status", "kubeconfig"]) {
      const result = await broadsideIn(stateRoot, "sandbox", command, "--name", name);
      expect(result.code, command).toBe(2);
      expect(result.stderr).toContain("--name: ");
    }
  });

  it("`sandbox down` of a symlink in the state root that points outside it exits 1 and removes nothing", async () => {
    await symlink(join(top, "precious"), join(stateRoot, "escape"));
    const before = await snapshot(top);
    const down = await broadsideIn(stateRoot, "sandbox", "down", "--name", "escape");
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("error [BRD_SANDBOX_DIR_REFUSED]: ");
    expect(await snapshot(top)).toEqual(before);
  });

  it("`sandbox down` of a directory without the marker exits 1 and removes nothing", async () => {
    await mkdir(join(stateRoot, "stranger"));
    await writeFile(join(stateRoot, "stranger", "notes"), "not a sandbox");
    const before = await snapshot(top);
    const down = await broadsideIn(stateRoot, "sandbox", "down", "--name", "stranger");
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("has no .broadside-sandbox marker");
    expect(await snapshot(top)).toEqual(before);
  });

  it("a damaged state.json is BRD_SANDBOX_STATE_INVALID naming the file, without a stack trace", async () => {
    await writeFile(join(stateRoot, "alpha", "state.json"), '{"name": "alpha", "comp');
    const status = await broadsideIn(stateRoot, "sandbox", "status", "--name", "alpha");
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(
      `error [BRD_SANDBOX_STATE_INVALID]: ${join(stateRoot, "alpha", "state.json")}`,
    );
    expect(status.stderr).not.toContain("BRD_INTERNAL");
    expect(status.stderr).not.toContain("    at ");
  });

  it("leaves the integration sandbox running throughout", async () => {
    const status = await broadside("sandbox", "status", "--name", integrationSandboxName);
    expect(status.code, status.stderr).toBe(0);
  });
});
