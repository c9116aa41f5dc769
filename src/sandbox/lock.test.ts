import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { FakeProc } from "./fake-proc.js";
import { parseOwner, withLock } from "./lock.js";

const me = 100;
const other = 200;

/** A machine where this process (pid 100) runs, and a lock file that does not exist yet. */
async function machine() {
  const proc = new FakeProc().add(me, {
    argv: ["/usr/bin/node", "broadside"],
    state: "R",
    startTime: "1000",
  });
  const lockFile = join(await mkdtemp(join(tmpdir(), "broadside-lock-")), "lock");
  return { proc, lockFile, holder: { pid: me, proc } };
}

async function outcome(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    (value) => value,
    (error: unknown) => error,
  );
}

describe("the lock that keeps two up/down of one sandbox apart", () => {
  it("records its holder's pid and start time while the work runs, and is gone after", async () => {
    const { lockFile, holder } = await machine();
    const seen = await withLock(lockFile, holder, () => readFile(lockFile, "utf8"));
    expect(seen).toBe("100 1000\n");
    await expect(readFile(lockFile, "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("is released when the work fails", async () => {
    const { lockFile, holder } = await machine();
    const failure = await outcome(withLock(lockFile, holder, () => Promise.reject(new Error("boom"))));
    expect((failure as Error).message).toBe("boom");
    await expect(readFile(lockFile, "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("refuses with BRD_SANDBOX_BUSY while its owner runs, naming the owner", async () => {
    const { proc, lockFile, holder } = await machine();
    proc.add(other, { argv: ["/usr/bin/node", "broadside"], state: "S", startTime: "2000" });
    await writeFile(lockFile, "200 2000\n");
    let ran = false;
    const failure = await outcome(
      withLock(lockFile, holder, () => {
        ran = true;
        return Promise.resolve();
      }),
    );
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_SANDBOX_BUSY");
    expect((failure as BroadsideError).message).toContain("pid 200");
    expect(ran).toBe(false);
    expect(await readFile(lockFile, "utf8")).toBe("200 2000\n");
  });

  it("takes over a lock whose owner died", async () => {
    const { lockFile, holder } = await machine();
    await writeFile(lockFile, "200 2000\n");
    expect(await withLock(lockFile, holder, () => readFile(lockFile, "utf8"))).toBe("100 1000\n");
  });

  it("takes over a lock whose owner is a zombie", async () => {
    const { proc, lockFile, holder } = await machine();
    proc.add(other, { argv: ["broadside"], state: "Z", startTime: "2000" });
    await writeFile(lockFile, "200 2000\n");
    expect(await withLock(lockFile, holder, () => Promise.resolve("ran"))).toBe("ran");
  });

  it("takes over a lock whose pid now belongs to another process (a different start time)", async () => {
    const { proc, lockFile, holder } = await machine();
    proc.add(other, { argv: ["/usr/bin/sshd"], state: "S", startTime: "9999" });
    await writeFile(lockFile, "200 2000\n");
    expect(await withLock(lockFile, holder, () => Promise.resolve("ran"))).toBe("ran");
  });

  it("reads an older Broadside's lock (a pid alone): busy while that pid lives, taken over once it is gone", async () => {
    const { proc, lockFile, holder } = await machine();
    proc.add(other, { argv: ["broadside"], state: "S", startTime: "2000" });
    await writeFile(lockFile, "200");
    expect(
      ((await outcome(withLock(lockFile, holder, () => Promise.resolve()))) as BroadsideError).code,
    ).toBe("BRD_SANDBOX_BUSY");
    proc.processes.delete(other);
    expect(await withLock(lockFile, holder, () => Promise.resolve("ran"))).toBe("ran");
  });

  it("takes over a damaged lock file", async () => {
    const { lockFile, holder } = await machine();
    await writeFile(lockFile, "\u0000garbage");
    expect(await withLock(lockFile, holder, () => Promise.resolve("ran"))).toBe("ran");
  });

  it("leaves alone, on release, a lock that another process took over meanwhile", async () => {
    const { lockFile, holder } = await machine();
    await withLock(lockFile, holder, () => writeFile(lockFile, "200 2000\n"));
    expect(await readFile(lockFile, "utf8")).toBe("200 2000\n");
  });

  it("says why when the lock cannot be created at all", async () => {
    const { holder } = await machine();
    const failure = await outcome(withLock("/proc/no-such-dir/lock", holder, () => Promise.resolve()));
    expect((failure as BroadsideError).code).toBe("BRD_SANDBOX_DIR_REFUSED");
    expect((failure as BroadsideError).message).toContain("/proc/no-such-dir/lock");
  });
});

describe("reading a lock's owner", () => {
  it.each([
    ["200", { pid: 200, startTime: undefined }],
    ["200 2000\n", { pid: 200, startTime: "2000" }],
    ["0", undefined],
    ["-1", undefined],
    ["abc", undefined],
    ["", undefined],
  ])("%j", (text, owner) => {
    expect(parseOwner(text)).toEqual(owner);
  });
});
