import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { beforeAll, describe, expect, it } from "vitest";
import { pkiPaths, type Pki } from "../../src/sandbox/pki.js";
import { sandboxLayout } from "../../src/sandbox/state-dir.js";
import { readState, type SandboxState } from "../../src/sandbox/state-file.js";
import { config } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/** What one request got: a status, or the error that ended it (a refused handshake, a reset). */
type Answer = { status: number; body: string } | { error: string };

function ask(url: string, options: RequestOptions = {}): Promise<Answer> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const request = send(url, { ...options, timeout: 5000 }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on("error", (error) => {
        resolve({ error: error.message });
      });
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", (error) => {
      resolve({ error: error.message });
    });
    request.end();
  });
}

function refused(answer: Answer): boolean {
  return "error" in answer || answer.status >= 400;
}

describe("the sandbox's own doors authenticate their callers", () => {
  let state: SandboxState;
  let pki: Pki;
  const port = (name: "etcd" | "kwok" | "kube-controller-manager" | "kube-scheduler"): number =>
    state.components[name]?.port ?? 0;
  const withCa = async () => ({ ca: await readFile(pki.etcdCaCert) });

  beforeAll(async () => {
    const layout = sandboxLayout(config.stateDir, integrationSandboxName);
    const read = await readState(layout);
    if (read === undefined) throw new Error(`sandbox ${integrationSandboxName} has no state`);
    state = read;
    pki = pkiPaths(layout.pkiDir);
  });

  it("etcd listens on loopback with TLS: plain HTTP gets nothing", async () => {
    expect(state.components.etcd?.healthUrl).toBe(`https://127.0.0.1:${port("etcd")}/health`);
    const answer = await ask(`http://127.0.0.1:${port("etcd")}/health`);
    expect(refused(answer), JSON.stringify(answer)).toBe(true);
  });

  it("etcd refuses a TLS client without a certificate", async () => {
    const answer = await ask(`https://127.0.0.1:${port("etcd")}/health`, await withCa());
    expect(refused(answer), JSON.stringify(answer)).toBe(true);
  });

  it("etcd refuses the sandbox's Kubernetes admin certificate: it trusts its own CA only", async () => {
    const answer = await ask(`https://127.0.0.1:${port("etcd")}/v3/kv/range`, {
      ...(await withCa()),
      method: "POST",
      cert: await readFile(pki.adminCert),
      key: await readFile(pki.adminKey),
    });
    expect(refused(answer), JSON.stringify(answer)).toBe(true);
  });

  it("etcd answers /health to the sandbox's etcd client certificate", async () => {
    const answer = await ask(`https://127.0.0.1:${port("etcd")}/health`, {
      ...(await withCa()),
      cert: await readFile(pki.etcdClientCert),
      key: await readFile(pki.etcdClientKey),
    });
    expect(answer).toMatchObject({ status: 200 });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ health: "true" });
  });

  it("kwok serves no /debug/pprof/ and no exec without credentials", async () => {
    const pprof = await ask(`http://127.0.0.1:${port("kwok")}/debug/pprof/`);
    expect(pprof).not.toMatchObject({ status: 200 });
    expect(refused(pprof), JSON.stringify(pprof)).toBe(true);
    const exec = await ask(`http://127.0.0.1:${port("kwok")}/exec/default/pod/container?command=id`, {
      method: "POST",
    });
    expect(refused(exec), JSON.stringify(exec)).toBe(true);
  });

  it("kwok's health endpoint, which `sandbox status` checks, still answers", async () => {
    expect(await ask(`http://127.0.0.1:${port("kwok")}/healthz`)).toMatchObject({ status: 200 });
  });

  it.each(["kube-controller-manager", "kube-scheduler"] as const)(
    "%s answers its health to anyone, but /metrics and /debug/pprof/ only with a credential",
    async (name) => {
      const insecure = { rejectUnauthorized: false };
      expect(await ask(`https://127.0.0.1:${port(name)}/healthz`, insecure)).toMatchObject({ status: 200 });
      for (const path of ["/metrics", "/debug/pprof/"]) {
        expect(await ask(`https://127.0.0.1:${port(name)}${path}`, insecure)).toMatchObject({ status: 403 });
      }
    },
  );
});
