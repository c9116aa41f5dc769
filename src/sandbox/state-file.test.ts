import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { SandboxName } from "./sandbox-name.js";
import { sandboxLayout } from "./state-dir.js";
import {
  parseState,
  parseStoppable,
  readState,
  stateFormat,
  writeState,
  type SandboxState,
} from "./state-file.js";

const layout = sandboxLayout("/state", SandboxName.parse("s1", "--name"));

const etcd = {
  pid: 4242,
  binary: "/cache/etcd-v3.6.16/etcd",
  args: ["--name=broadside"],
  port: 2379,
  healthUrl: "https://127.0.0.1:2379/health",
  healthCheck: "etcd-mtls",
  logFile: "/state/s1/logs/etcd.log",
} as const;

const valid: SandboxState = {
  format: stateFormat,
  name: "s1",
  createdAt: "2026-01-01T00:00:00.000Z",
  versions: { kubernetes: "v1.36.3", etcd: "v3.6.16", kwok: "v0.8.0" },
  nodes: 3,
  apiServer: "https://127.0.0.1:6443",
  adminKubeconfig: "/state/s1/kubeconfig",
  viewerKubeconfig: "/state/s1/viewer.kubeconfig",
  components: { etcd: { ...etcd, args: [...etcd.args] } },
};

function refusal(work: () => unknown): BroadsideError {
  try {
    work();
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error("accepted");
}

describe("the sandbox's state file", () => {
  it("reads back what it wrote", () => {
    expect(parseState(JSON.stringify(valid), layout)).toEqual(valid);
  });

  it("calls a damaged file BRD_SANDBOX_STATE_INVALID naming it, not an internal error", () => {
    const error = refusal(() => parseState('{"name": "s1", "comp', layout));
    expect(error.code).toBe("BRD_SANDBOX_STATE_INVALID");
    expect(error.message).toContain("/state/s1/state.json: it is damaged (not JSON");
    expect(error.message).toContain("broadside sandbox down --name s1");
  });

  it("says which field is wrong in a file of the right format", () => {
    const broken = { ...valid, components: { etcd: { ...etcd, pid: "4242" } } };
    const error = refusal(() => parseState(JSON.stringify(broken), layout));
    expect(error.code).toBe("BRD_SANDBOX_STATE_INVALID");
    expect(error.message).toContain("at components.etcd.pid");
  });

  it("reports an older Broadside's sandbox (no format field) as such, with what to do", () => {
    const older: Partial<SandboxState> = { ...valid, components: {} };
    delete older.format;
    const error = refusal(() => parseState(JSON.stringify(older), layout));
    expect(error.code).toBe("BRD_SANDBOX_STATE_INVALID");
    expect(error.message).toContain("another version of Broadside (state format 1; this one reads 2)");
    expect(error.message).toContain("`broadside sandbox down --name s1`");
  });

  it("reports a newer format as such too", () => {
    const error = refusal(() => parseState(JSON.stringify({ ...valid, format: 3 }), layout));
    expect(error.message).toContain("(state format 3; this one reads 2)");
  });

  it("refuses a health URL off loopback: the sandbox never probes elsewhere", () => {
    const elsewhere = {
      ...valid,
      components: { etcd: { ...etcd, healthUrl: "http://169.254.169.254/latest" } },
    };
    const error = refusal(() => parseState(JSON.stringify(elsewhere), layout));
    expect(error.message).toContain("must be an http(s) URL on 127.0.0.1");
  });

  it("lets `down` find the processes in a file of any format, an older Broadside's included", () => {
    const older = { name: "s1", components: { etcd: { pid: 10, binary: "/cache/etcd", args: [], port: 1 } } };
    expect(parseStoppable(JSON.stringify(older), layout)).toEqual({
      etcd: { pid: 10, binary: "/cache/etcd" },
    });
  });

  it("tells `down` when even the processes cannot be read, and how to clean up by hand", () => {
    const error = refusal(() => parseStoppable("[1, 2", layout));
    expect(error.code).toBe("BRD_SANDBOX_STATE_INVALID");
    expect(error.message).toContain("pgrep -af /state/s1");
    const noPids = refusal(() => parseStoppable('{"components": {"etcd": {"pid": -1}}}', layout));
    expect(noPids.message).toContain("the processes to stop cannot be read");
  });

  it("is written whole (temporary file, then rename) and read back from disk; absent means none", async () => {
    const root = await mkdtemp(join(tmpdir(), "broadside-state-file-"));
    const onDisk = sandboxLayout(root, SandboxName.parse("s1", "--name"));
    expect(await readState(onDisk)).toBeUndefined();
    await mkdir(onDisk.dir);
    await writeState(onDisk, valid);
    expect(await readState(onDisk)).toEqual(valid);
  });

  it("calls a state file that cannot be read (a directory in its place) BRD_SANDBOX_STATE_INVALID", async () => {
    const root = await mkdtemp(join(tmpdir(), "broadside-state-file-"));
    const onDisk = sandboxLayout(root, SandboxName.parse("s1", "--name"));
    await mkdir(onDisk.stateFile, { recursive: true });
    await writeFile(join(onDisk.stateFile, "x"), "");
    const error = await readState(onDisk).catch((failure: unknown) => failure);
    expect((error as BroadsideError).code).toBe("BRD_SANDBOX_STATE_INVALID");
    expect((error as BroadsideError).message).toContain("cannot be read (EISDIR)");
  });
});
