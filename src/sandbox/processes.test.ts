import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { systemClock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { isRunning, systemProc } from "./liveness.js";
import { startDetached, stopProcess } from "./processes.js";

async function failure(work: Promise<unknown>): Promise<BroadsideError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof BroadsideError)) throw new Error(`expected a BroadsideError, got ${String(error)}`);
  return error;
}

describe("starting a sandbox process", () => {
  it("starts it detached with its output in the log file, and stops it by pid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-processes-"));
    const logFile = join(dir, "out.log");
    const script = "console.log('started'); setInterval(() => undefined, 1000);";
    const started = await startDetached(
      { binary: process.execPath, args: ["-e", script], logFile },
      process.env,
    );
    expect(started.binary).toBe(process.execPath);
    expect(await isRunning(systemProc, started)).toBe(true);
    // A busy machine can take a while to start Node.
    await vi.waitFor(
      async () => {
        expect(await readFile(logFile, "utf8")).toBe("started\n");
      },
      { timeout: 15_000 },
    );
    await stopProcess(started, { clock: systemClock, proc: systemProc });
    expect(await isRunning(systemProc, started)).toBe(false);
  }, 30_000);

  it("refuses a binary that is missing with BRD_PREREQUISITE_MISSING naming it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-processes-"));
    const binary = join(dir, "kube-apiserver");
    const error = await failure(startDetached({ binary, args: [], logFile: join(dir, "log") }, {}));
    expect(error.code).toBe("BRD_PREREQUISITE_MISSING");
    expect(error.message).toContain(binary);
  });

  it("fails with BRD_SANDBOX_START_FAILED naming the log file when it cannot be opened", async () => {
    const logFile = "/proc/no-such-dir/etcd.log";
    const error = await failure(startDetached({ binary: process.execPath, args: [], logFile }, {}));
    expect(error.code).toBe("BRD_SANDBOX_START_FAILED");
    expect(error.message).toContain(logFile);
  });
});
