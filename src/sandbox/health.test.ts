import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { isLoopbackUrl, loadHealthCredentials, probeHealth, type HealthCredentials } from "./health.js";

const none: HealthCredentials = {
  kube: { ca: Buffer.alloc(0), cert: Buffer.alloc(0), key: Buffer.alloc(0) },
  etcd: { ca: Buffer.alloc(0), cert: Buffer.alloc(0), key: Buffer.alloc(0) },
};

describe("the sandbox's health probes", () => {
  it("probe only http(s) on 127.0.0.1", () => {
    expect(isLoopbackUrl("https://127.0.0.1:2379/health")).toBe(true);
    expect(isLoopbackUrl("http://127.0.0.1:8080/healthz")).toBe(true);
    expect(isLoopbackUrl("http://169.254.169.254/latest/meta-data")).toBe(false);
    expect(isLoopbackUrl("file:///127.0.0.1")).toBe(false);
    expect(isLoopbackUrl("not a url")).toBe(false);
  });

  it("refuse a URL off loopback with a coded error, not an internal one", async () => {
    const error = await probeHealth("http://10.0.0.1/healthz", "plain-http", none).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BroadsideError);
    expect((error as BroadsideError).code).toBe("BRD_SANDBOX_STATE_INVALID");
  });

  it("say nothing answered when nothing listens", async () => {
    expect(await probeHealth("http://127.0.0.1:1/healthz", "plain-http", none)).toBe(false);
  });

  it("name a missing certificate as BRD_SANDBOX_STATE_INVALID with what to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-health-"));
    const files = { ca: join(dir, "ca.crt"), cert: join(dir, "admin.crt"), key: join(dir, "admin.key") };
    const error = await loadHealthCredentials(files, files).catch((caught: unknown) => caught);
    expect((error as BroadsideError).code).toBe("BRD_SANDBOX_STATE_INVALID");
    // All three are missing and are read at once: whichever read fails first is named (on Node 22 under
    // load the admin certificate's did, not the CA's).
    const named = ["ca.crt", "admin.crt", "admin.key"].map((file) => join(dir, file));
    expect(named.some((path) => (error as BroadsideError).message.includes(`${path} cannot be read`))).toBe(
      true,
    );
    expect((error as BroadsideError).message).toContain("sandbox down");
  });
});
