import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "./exec.js";
import { createPki, type Pki } from "./pki.js";

/** `openssl verify -CAfile ca cert`: whether `ca` vouches for `cert` as a client (or server). */
async function verifies(ca: string, cert: string, purpose: "sslclient" | "sslserver"): Promise<boolean> {
  const result = await run("openssl", ["verify", "-purpose", purpose, "-CAfile", ca, cert], {
    failure: "BRD_SANDBOX_START_FAILED",
  });
  return result.exitCode === 0;
}

async function text(cert: string): Promise<string> {
  return (
    await run("openssl", ["x509", "-in", cert, "-noout", "-text"], { failure: "BRD_SANDBOX_START_FAILED" })
  ).stdout;
}

describe("the sandbox's certificates (real openssl)", () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await createPki(await mkdtemp(join(tmpdir(), "broadside-pki-")), "openssl");
  }, 60_000);

  it("gives etcd a CA of its own: its server and client certificates chain to it", async () => {
    expect(await verifies(pki.etcdCaCert, pki.etcdServerCert, "sslserver")).toBe(true);
    expect(await verifies(pki.etcdCaCert, pki.etcdClientCert, "sslclient")).toBe(true);
  });

  it("so no Kubernetes certificate opens etcd: not the viewer's, not the admin's", async () => {
    expect(await verifies(pki.etcdCaCert, pki.viewerCert, "sslclient")).toBe(false);
    expect(await verifies(pki.etcdCaCert, pki.adminCert, "sslclient")).toBe(false);
    expect(await verifies(pki.caCert, pki.etcdClientCert, "sslclient")).toBe(false);
  });

  it("names etcd's server certificate for loopback only, and lets the client certificate only be a client", async () => {
    const server = await text(pki.etcdServerCert);
    expect(server).toContain("IP Address:127.0.0.1");
    expect(server).not.toContain("10.96.0.1");
    const client = await text(pki.etcdClientCert);
    expect(client).toContain("TLS Web Client Authentication");
    expect(client).not.toContain("TLS Web Server Authentication");
  });

  it("keeps the Kubernetes chain as before: the admin certificate serves the API and is a client", async () => {
    expect(await verifies(pki.caCert, pki.adminCert, "sslserver")).toBe(true);
    expect(await verifies(pki.caCert, pki.viewerCert, "sslclient")).toBe(true);
  });

  it("gives every certificate of one CA its own serial, though they are issued side by side", async () => {
    const serial = async (cert: string) =>
      (
        await run("openssl", ["x509", "-in", cert, "-noout", "-serial"], {
          failure: "BRD_SANDBOX_START_FAILED",
        })
      ).stdout;
    expect(await serial(pki.adminCert)).not.toBe(await serial(pki.viewerCert));
  });

  it("writes private keys readable by their owner only", async () => {
    for (const key of [
      pki.caKey,
      pki.etcdCaKey,
      pki.etcdServerKey,
      pki.etcdClientKey,
      pki.serviceAccountKey,
    ]) {
      expect((await stat(key)).mode & 0o077).toBe(0);
    }
  });
});
