import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";

/**
 * A machine with a state root two levels down, one sandbox "keep" in it (its marker, keys and state),
 * and a folder above the root that a name walking out of it would reach.
 */
async function machine() {
  const home = await mkdtemp(join(tmpdir(), "broadside-sandbox-cli-"));
  const stateRoot = join(home, "state", "sandboxes");
  const keep = join(stateRoot, "keep");
  await mkdir(join(keep, "pki"), { recursive: true });
  await writeFile(join(keep, ".broadside-sandbox"), "keep\n");
  await writeFile(join(keep, "pki", "ca.key"), "secret");
  await writeFile(join(keep, "state.json"), "{}");
  await mkdir(join(home, "precious"));
  await writeFile(join(home, "precious", "data"), "keep me");
  const env = {
    HOME: home,
    BROADSIDE_STATE_DIR: stateRoot,
    BROADSIDE_CACHE_DIR: join(home, "cache"),
    PATH: "",
  };
  const cli = async (...args: string[]) => {
    let out = "";
    let err = "";
    const code = await main(["node", "broadside", ...args], env, {
      out: (text) => (out += text),
      err: (text) => (err += text),
    });
    return { code, out, err };
  };
  const files = async () => (await readdir(home, { recursive: true })).sort();
  return { home, stateRoot, keep, cli, files };
}

const hostileNames = [
  "",
  ".",
  "..",
  "../..",
  "../../..",
  "a/b",
  "/",
  "Keep",
  "x".repeat(33),
  "-rf",
  "keep\n",
];

describe("a sandbox name from the command line never becomes a path unchecked", () => {
  it.each(hostileNames)(
    "sandbox up|status|kubeconfig|down --name %j: exit 2 naming --name, nothing touched",
    async (name) => {
      const { cli, files } = await machine();
      const before = await files();
      for (const command of ["up", "status", "kubeconfig", "down"]) {
        const result = await cli("sandbox", command, "--name", name);
        expect(result.code, `${command}: ${result.err}`).toBe(2);
        expect(result.err).toContain("error [BRD_USAGE]: --name: ");
        expect(result.err).not.toContain("    at ");
        expect(result.out).toBe("");
      }
      expect(await files()).toEqual(before);
    },
  );

  it.each(["", "../..", "a/b"])(
    "run --sandbox %j and demo --name %j: exit 2 naming the flag",
    async (name) => {
      const { cli, files } = await machine();
      const before = await files();
      const run = await cli(
        "run",
        "examples/schedule-pod-kill-2-replicas.yaml",
        "--sandbox",
        name,
        "--dry-run",
      );
      expect(run.code).toBe(2);
      expect(run.err).toContain("error [BRD_USAGE]: --sandbox: ");
      const demo = await cli("demo", "--name", name);
      expect(demo.code).toBe(2);
      expect(demo.err).toContain("error [BRD_USAGE]: --name: ");
      expect(await files()).toEqual(before);
    },
  );
});

describe("sandbox down removes only its own state directory", () => {
  it("refuses a symlink in the state root that points outside it: exit 1, nothing removed", async () => {
    const { home, stateRoot, cli, files } = await machine();
    await symlink(join(home, "precious"), join(stateRoot, "link"));
    const before = await files();
    const result = await cli("sandbox", "down", "--name", "link");
    expect(result.code).toBe(1);
    expect(result.err).toContain("error [BRD_SANDBOX_DIR_REFUSED]: ");
    expect(await files()).toEqual(before);
  });

  it("refuses a directory without the sandbox's marker: exit 1, nothing removed", async () => {
    const { stateRoot, cli, files } = await machine();
    await mkdir(join(stateRoot, "stranger"));
    await writeFile(join(stateRoot, "stranger", "notes.txt"), "mine");
    const before = await files();
    const result = await cli("sandbox", "down", "--name", "stranger");
    expect(result.code).toBe(1);
    expect(result.err).toContain("has no .broadside-sandbox marker");
    expect(await files()).toEqual(before);
  });

  it("stops and removes an older Broadside's sandbox (state format 1) that has the marker", async () => {
    const { keep, cli, files } = await machine();
    const older = {
      name: "keep",
      components: { etcd: { pid: 999_999, binary: "/no/such/etcd", args: [], port: 1 } },
    };
    await writeFile(join(keep, "state.json"), JSON.stringify(older));
    const result = await cli("sandbox", "down", "--name", "keep");
    expect(result.code, result.err).toBe(0);
    expect(result.out).toBe('sandbox "keep" stopped and removed\n');
    expect((await files()).filter((path) => path.includes("keep"))).toEqual([]);
  });
});

describe("a state root that cannot be written is a coded error, never an internal one", () => {
  it("sandbox up under a file: exit 1 with BRD_SANDBOX_DIR_REFUSED naming the directory", async () => {
    const home = await mkdtemp(join(tmpdir(), "broadside-sandbox-cli-"));
    await writeFile(join(home, "file"), "");
    let err = "";
    const code = await main(
      ["node", "broadside", "sandbox", "up", "--name", "s1"],
      { HOME: home, BROADSIDE_STATE_DIR: join(home, "file", "sandboxes"), PATH: "" },
      { out: () => undefined, err: (text) => (err += text) },
    );
    expect(code).toBe(1);
    expect(err).toContain(
      `error [BRD_SANDBOX_DIR_REFUSED]: sandbox "s1": ${join(home, "file", "sandboxes", "s1")}`,
    );
    expect(err).toContain("(ENOTDIR)");
    expect(err).not.toContain("    at ");
  });
});

describe("a damaged state file is reported as BRD_SANDBOX_STATE_INVALID, never as an internal error", () => {
  it("status and kubeconfig name the file; up refuses it; down keeps it and says how to clean up", async () => {
    const { keep, cli, files } = await machine();
    await writeFile(join(keep, "state.json"), '{"name": "keep", "compo');
    const before = await files();
    for (const command of ["status", "kubeconfig", "up", "down"]) {
      const result = await cli("sandbox", command, "--name", "keep");
      expect(result.code, command).toBe(1);
      expect(result.err).toContain(
        `error [BRD_SANDBOX_STATE_INVALID]: ${join(keep, "state.json")}: it is damaged`,
      );
      expect(result.err).not.toContain("BRD_INTERNAL");
      expect(result.err).not.toContain("    at ");
    }
    expect(await files()).toEqual(before);
    expect(await readFile(join(keep, "pki", "ca.key"), "utf8")).toBe("secret");
  });
});
