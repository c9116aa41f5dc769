import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { createPki } from "./pki.js";
import { run, runChecked } from "./exec.js";

async function failure(work: Promise<unknown>): Promise<BroadsideError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof BroadsideError)) throw new Error(`expected a BroadsideError, got ${String(error)}`);
  return error;
}

/** A stand-in program: a Node script that prints to stderr and exits with `code`. */
async function program(dir: string, code: number, mode = 0o755): Promise<string> {
  const path = join(dir, `exits-${code}`);
  await writeFile(
    path,
    `#!${process.execPath}\nprocess.stderr.write("unable to load key\\n");\nprocess.exit(${code});\n`,
  );
  await chmod(path, mode);
  return path;
}

describe("programs the sandbox runs fail with a coded error, never an internal one", () => {
  it("a non-zero exit becomes the caller's code, with the command and its stderr", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-exec-"));
    const error = await failure(
      runChecked(await program(dir, 3), ["req"], { failure: "BRD_SANDBOX_START_FAILED" }),
    );
    expect(error.code).toBe("BRD_SANDBOX_START_FAILED");
    expect(error.message).toContain("req exited with 3: unable to load key");
  });

  it("a program that is not installed is BRD_PREREQUISITE_MISSING", async () => {
    const error = await failure(
      run("broadside-no-such-program", [], { failure: "BRD_SANDBOX_BUILD_FAILED" }),
    );
    expect(error.code).toBe("BRD_PREREQUISITE_MISSING");
    expect(error.message).toBe("broadside-no-such-program is not installed or not on PATH");
  });

  it("a program that cannot be run (not executable) is BRD_PREREQUISITE_MISSING with the reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-exec-"));
    const error = await failure(
      run(await program(dir, 0, 0o644), [], { failure: "BRD_SANDBOX_BUILD_FAILED" }),
    );
    expect(error.code).toBe("BRD_PREREQUISITE_MISSING");
    expect(error.message).toContain("cannot be run (EACCES)");
  });

  it("a missing working directory is the caller's code, not a misleading 'not installed'", async () => {
    const error = await failure(
      run(process.execPath, [], { cwd: "/no/such/dir", failure: "BRD_SANDBOX_BUILD_FAILED" }),
    );
    expect(error.code).toBe("BRD_SANDBOX_BUILD_FAILED");
    expect(error.message).toContain("working directory /no/such/dir does not exist");
  });

  it("a failing openssl makes `up` fail with BRD_SANDBOX_START_FAILED; a missing one with BRD_PREREQUISITE_MISSING", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-exec-"));
    expect((await failure(createPki(dir, await program(dir, 1)))).code).toBe("BRD_SANDBOX_START_FAILED");
    expect((await failure(createPki(dir, join(dir, "no-openssl")))).code).toBe("BRD_PREREQUISITE_MISSING");
  });
});
