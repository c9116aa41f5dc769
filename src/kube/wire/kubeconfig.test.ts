import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readWireKubeconfig } from "./kubeconfig.js";

/*
 * Which kubeconfigs the wire client serves itself, and what it takes from them. Every other kubeconfig,
 * broken ones included, is answered with undefined: client-node reads it then, and its errors are the
 * ones a user sees (kube/kubeconfig.ts).
 */

let dir = "";
const pemText = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "broadside-wire-kubeconfig-"));
  await writeFile(join(dir, "ca.crt"), pemText);
  await writeFile(join(dir, "admin.crt"), "cert");
  await writeFile(join(dir, "admin.key"), "key");
  await writeFile(join(dir, "token"), "file-token\n");
});

function document(cluster: object, user: object, context: object = {}): object {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "c", cluster },
      { name: "other", cluster: { server: "https://other:6443" } },
    ],
    users: [{ name: "u", user }],
    contexts: [
      { name: "main", context: { cluster: "c", user: "u", ...context } },
      { name: "second", context: { cluster: "other", user: "u", namespace: "shop" } },
    ],
    "current-context": "main",
  };
}

async function kubeconfig(name: string, content: object | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : stringify(content));
  return path;
}

const server = "https://127.0.0.1:6443";
const read = (flagPath: string, context?: string) =>
  readWireKubeconfig({ home: dir, inCluster: false, flagPath }, context);

describe("kubeconfigs the wire client serves", () => {
  it("takes the sandbox's shape: a CA file and a client certificate, relative to the kubeconfig", async () => {
    const path = await kubeconfig(
      "cert.yaml",
      document(
        { server, "certificate-authority": "ca.crt" },
        { "client-certificate": "admin.crt", "client-key": join(dir, "admin.key") },
        { namespace: "shop" },
      ),
    );
    const wire = await read(path);
    expect(wire?.target.server.href).toBe(`${server}/`);
    expect(wire?.target.ca?.toString()).toBe(pemText);
    expect(wire?.target.clientCertificate?.cert.toString()).toBe("cert");
    expect(wire?.target.clientCertificate?.key.toString()).toBe("key");
    expect(wire?.target.authorization).toBeUndefined();
    expect(wire?.target.insecureSkipTlsVerify).toBe(false);
    expect(wire).toMatchObject({ namespace: "shop", userName: "u" });
  });

  it("takes a bearer token inline or from a file, basic credentials, inline PEMs and skipped verification", async () => {
    const inline = await kubeconfig(
      "token.yaml",
      document(
        { server, "certificate-authority-data": Buffer.from(pemText).toString("base64") },
        { token: "abc" },
      ),
    );
    expect((await read(inline))?.target.authorization).toBe("Bearer abc");
    expect((await read(inline))?.target.ca?.toString()).toBe(pemText);
    expect((await read(inline))?.namespace).toBe("default");

    const fromFile = await kubeconfig("token-file.yaml", document({ server }, { tokenFile: "token" }));
    expect((await read(fromFile))?.target.authorization).toBe("Bearer file-token");

    const basic = await kubeconfig(
      "basic.yaml",
      document({ server, "insecure-skip-tls-verify": true }, { username: "ada", password: "pw" }),
    );
    expect((await read(basic))?.target.authorization).toBe(
      `Basic ${Buffer.from("ada:pw").toString("base64")}`,
    );
    expect((await read(basic))?.target.insecureSkipTlsVerify).toBe(true);
  });

  it("switches to the context --context names, and to none that does not exist", async () => {
    const path = await kubeconfig("contexts.yaml", document({ server }, { token: "abc" }));
    const second = await read(path, "second");
    expect(second?.target.server.host).toBe("other:6443");
    expect(second?.namespace).toBe("shop");
    expect(await read(path, "missing")).toBeUndefined();
  });

  it("reads the one file of $KUBECONFIG, or ~/.kube/config, as kubectl would", async () => {
    const path = await kubeconfig("env.yaml", document({ server }, { token: "env" }));
    const fromEnv = await readWireKubeconfig({ home: dir, inCluster: false, envKubeconfig: path });
    expect(fromEnv?.target.authorization).toBe("Bearer env");
    const none = await readWireKubeconfig({ home: join(dir, "nobody"), inCluster: true });
    expect(none).toBeUndefined();
  });
});

describe("kubeconfigs left to client-node", () => {
  it.each([
    ["an exec plugin", document({ server }, { exec: { command: "aws", apiVersion: "v1" } })],
    ["an auth-provider", document({ server }, { "auth-provider": { name: "oidc" } })],
    ["impersonation", document({ server }, { token: "a", as: "admin" })],
    ["a proxy", document({ server, "proxy-url": "http://proxy:3128" }, { token: "a" })],
    ["a TLS server name", document({ server, "tls-server-name": "api" }, { token: "a" })],
    ["a plain-http server", document({ server: "http://127.0.0.1:8080" }, { token: "a" })],
    ["a certificate without its key", document({ server }, { "client-certificate": "admin.crt" })],
    ["a CA file that does not exist", document({ server, "certificate-authority": "nope.crt" }, {})],
    ["no current context", { ...document({ server }, {}), "current-context": "" }],
    ["text that is no kubeconfig", "just: [text"],
  ])("%s", async (_what, content) => {
    const path = await kubeconfig(`fallback-${Math.random().toString(16).slice(2)}.yaml`, content);
    expect(await read(path)).toBeUndefined();
  });

  it("several files of $KUBECONFIG, merged by client-node", async () => {
    const first = await kubeconfig("merge-1.yaml", document({ server }, { token: "a" }));
    const second = await kubeconfig("merge-2.yaml", document({ server }, { token: "b" }));
    const merged = await readWireKubeconfig({
      home: dir,
      inCluster: false,
      envKubeconfig: `${first}:${second}`,
    });
    expect(merged).toBeUndefined();
  });
});
