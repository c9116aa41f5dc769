import { lstat, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { SandboxName } from "./sandbox-name.js";
import {
  clearStateDir,
  confirmOwnStateDir,
  listSandboxNames,
  markerFileName,
  prepareStateDir,
  removeStateDir,
  sandboxLayout,
} from "./state-dir.js";

const name = (text: string): SandboxName => SandboxName.parse(text, "--name");

/** A state root with one sandbox "keep" in it, and a folder next to the root standing for the rest of the disk. */
async function machine() {
  const top = await mkdtemp(join(tmpdir(), "broadside-state-"));
  const root = join(top, "sandboxes");
  const outside = join(top, "precious");
  await mkdir(outside);
  await writeFile(join(outside, "data"), "keep me");
  const keep = sandboxLayout(root, name("keep"));
  await prepareStateDir(keep);
  await writeFile(keep.stateFile, "{}");
  return { top, root, outside, keep };
}

async function refusal(work: Promise<unknown>): Promise<BroadsideError> {
  const error = await work.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!(error instanceof BroadsideError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

/** Every path below `dir`, so a test can say that nothing was removed. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

describe("a sandbox's state directory", () => {
  it("is made owner-only, with a marker naming the sandbox", async () => {
    const { root } = await machine();
    const layout = sandboxLayout(root, name("fresh"));
    await prepareStateDir(layout);
    expect((await stat(layout.dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(layout.dir, markerFileName), "utf8")).toBe("fresh\n");
    await expect(confirmOwnStateDir(layout)).resolves.toBeUndefined();
  });

  it("is reused by a second `up` when it is the sandbox's own", async () => {
    const { keep } = await machine();
    await prepareStateDir(keep);
    expect(await readFile(keep.stateFile, "utf8")).toBe("{}");
  });

  it("is removed by `down` when it is the sandbox's own, and nothing else is", async () => {
    const { root, outside, keep } = await machine();
    const other = sandboxLayout(root, name("other"));
    await prepareStateDir(other);
    expect(await removeStateDir(keep)).toBe(true);
    expect(await readdir(root)).toEqual(["other"]);
    expect(await tree(outside)).toEqual(["data"]);
    expect(await removeStateDir(keep)).toBe(false);
  });
});

describe("deletion is confined to the sandbox's own directory", () => {
  it("refuses a symlink inside the state root that points outside it, and removes nothing", async () => {
    const { root, outside } = await machine();
    const link = sandboxLayout(root, name("link"));
    await symlink(outside, link.dir);
    // Even with a marker naming it, placed at the far end of the link.
    await writeFile(join(outside, markerFileName), "link\n");
    const error = await refusal(removeStateDir(link));
    expect(error.code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect(error.message).toContain(link.dir);
    expect(error.message).toContain("symlink");
    expect(await tree(outside)).toEqual([markerFileName, "data"].sort());
    expect((await lstat(link.dir)).isSymbolicLink()).toBe(true);
  });

  it("refuses a symlink to another sandbox's directory, so `down a` cannot remove b", async () => {
    const { root, keep } = await machine();
    const alias = sandboxLayout(root, name("alias"));
    await symlink(keep.dir, alias.dir);
    expect((await refusal(removeStateDir(alias))).code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect(await tree(keep.dir)).toEqual([markerFileName, "state.json"].sort());
  });

  it("refuses a directory without the marker, with a message saying what to do, and removes nothing", async () => {
    const { root } = await machine();
    const stranger = sandboxLayout(root, name("stranger"));
    await mkdir(stranger.dir);
    await writeFile(join(stranger.dir, "notes.txt"), "mine");
    const error = await refusal(removeStateDir(stranger));
    expect(error.code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect(error.message).toContain(`has no ${markerFileName} marker`);
    expect(error.message).toContain("remove it yourself");
    expect(await tree(stranger.dir)).toEqual(["notes.txt"]);
  });

  it("refuses a marker that names another sandbox", async () => {
    const { root } = await machine();
    const copy = sandboxLayout(root, name("copy"));
    await mkdir(copy.dir);
    await writeFile(copy.markerFile, "keep\n");
    expect((await refusal(removeStateDir(copy))).message).toContain('marker naming "keep"');
    expect(await tree(copy.dir)).toEqual([markerFileName]);
  });

  it("refuses a marker that is a symlink rather than a file", async () => {
    const { root, keep } = await machine();
    const linked = sandboxLayout(root, name("linked"));
    await mkdir(linked.dir);
    await symlink(keep.markerFile, linked.markerFile);
    expect((await refusal(removeStateDir(linked))).code).toBe("BRD_SANDBOX_DIR_REFUSED");
  });

  it("refuses a plain file where the directory should be", async () => {
    const { root } = await machine();
    const file = sandboxLayout(root, name("file"));
    await writeFile(file.dir, "not a directory");
    expect((await refusal(removeStateDir(file))).message).toContain("is not a directory");
    expect(await readFile(file.dir, "utf8")).toBe("not a directory");
  });

  it("will not let `up` write into a directory it did not make", async () => {
    const { root } = await machine();
    const stranger = sandboxLayout(root, name("stranger"));
    await mkdir(stranger.dir);
    expect((await refusal(prepareStateDir(stranger))).code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect(await tree(stranger.dir)).toEqual([]);
  });

  it("works when the state root itself is reached through a symlink (both sides are resolved)", async () => {
    const { top, root } = await machine();
    const linkedRoot = join(top, "linked-root");
    await symlink(root, linkedRoot);
    const keep = sandboxLayout(linkedRoot, name("keep"));
    await expect(confirmOwnStateDir(keep)).resolves.toBeUndefined();
    expect(await removeStateDir(keep)).toBe(true);
    expect(await readdir(root)).toEqual([]);
  });

  it("clears a directory for a fresh start but keeps its lock and marker; refuses a stranger's", async () => {
    const { root, keep } = await machine();
    await writeFile(keep.lockFile, "1 2\n");
    await mkdir(keep.logsDir);
    await clearStateDir(keep);
    expect(await tree(keep.dir)).toEqual([markerFileName, "lock"].sort());
    const stranger = sandboxLayout(root, name("stranger"));
    await mkdir(stranger.dir);
    await writeFile(join(stranger.dir, "notes.txt"), "mine");
    expect((await refusal(clearStateDir(stranger))).code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect(await tree(stranger.dir)).toEqual(["notes.txt"]);
  });
});

describe("listing the sandboxes", () => {
  it("lists directories whose names are sandbox names, sorted; no files, symlinks or other entries", async () => {
    const { root, outside } = await machine();
    await prepareStateDir(sandboxLayout(root, name("alpha")));
    await mkdir(join(root, "Not-A-Name"));
    await mkdir(join(root, ".hidden"));
    await writeFile(join(root, "file"), "");
    await symlink(outside, join(root, "link"));
    expect(await listSandboxNames(root)).toEqual(["alpha", "keep"]);
  });

  it("lists nothing when there is no state root yet", async () => {
    expect(await listSandboxNames(join(tmpdir(), "broadside-no-such-root"))).toEqual([]);
  });
});
