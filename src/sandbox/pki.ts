import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked } from "./exec.js";
import type { TlsFiles } from "./health.js";

/**
 * The sandbox's certificates, made with openssl as kwokctl and kubeadm make them.
 *
 * Kubernetes: one CA; an admin certificate (O=system:masters) that serves the API and authenticates
 * every component and the admin user; a viewer certificate for a restricted user that RBAC lets read
 * pods and nothing else; and a separate key pair that signs service-account tokens.
 *
 * etcd, as kubeadm does it, under a CA of its own: a certificate etcd serves (and uses between peers),
 * and the client certificate the API server (and the sandbox's health probe) presents. etcd trusts only
 * its own CA, so no Kubernetes certificate (the viewer's included) opens etcd. The etcd keys are P-256:
 * made in milliseconds, where an RSA key takes a noticeable part of `sandbox up`.
 */
export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly viewerCert: string;
  readonly viewerKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  readonly etcdCaCert: string;
  readonly etcdCaKey: string;
  readonly etcdServerCert: string;
  readonly etcdServerKey: string;
  readonly etcdClientCert: string;
  readonly etcdClientKey: string;
}

export const viewerUserName = "broadside-sandbox-viewer";
const adminUserName = "broadside-sandbox-admin";

export function pkiPaths(dir: string): Pki {
  return {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    viewerCert: join(dir, "viewer.crt"),
    viewerKey: join(dir, "viewer.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPublicKey: join(dir, "sa.pub"),
    etcdCaCert: join(dir, "etcd-ca.crt"),
    etcdCaKey: join(dir, "etcd-ca.key"),
    etcdServerCert: join(dir, "etcd-server.crt"),
    etcdServerKey: join(dir, "etcd-server.key"),
    etcdClientCert: join(dir, "etcd-client.crt"),
    etcdClientKey: join(dir, "etcd-client.key"),
  };
}

/** The admin certificate with the sandbox CA: what the probes of Kubernetes components present. */
export function kubeTlsFiles(pki: Pki): TlsFiles {
  return { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
}

/** The etcd client certificate with the etcd CA: what the API server and etcd's probe present. */
export function etcdTlsFiles(pki: Pki): TlsFiles {
  return { ca: pki.etcdCaCert, cert: pki.etcdClientCert, key: pki.etcdClientKey };
}

const apiServerNames = [
  "DNS:localhost",
  "DNS:kubernetes",
  "DNS:kubernetes.default",
  "DNS:kubernetes.default.svc",
  "DNS:kubernetes.default.svc.cluster.local",
  "IP:127.0.0.1",
  "IP:10.96.0.1",
];
const etcdServerNames = ["DNS:localhost", "IP:127.0.0.1"];

type KeyType = "rsa" | "ec";
type Ssl = (args: readonly string[]) => Promise<string>;

/** Makes every key and certificate; the two CAs' chains run side by side. */
export async function createPki(dir: string, openssl: string): Promise<Pki> {
  const pki = pkiPaths(dir);
  const ssl: Ssl = (args) => runChecked(openssl, args, { cwd: dir, failure: "BRD_SANDBOX_START_FAILED" });
  const kubeChain = async (): Promise<void> => {
    await createCa(ssl, {
      cert: pki.caCert,
      key: pki.caKey,
      subject: "/CN=broadside-sandbox-ca",
      keyType: "rsa",
    });
    await Promise.all([
      issue(ssl, dir, pki.caCert, pki.caKey, {
        name: "admin",
        subject: `/O=system:masters/CN=${adminUserName}`,
        usage: "serverAuth,clientAuth",
        altNames: apiServerNames,
        keyType: "rsa",
      }),
      issue(ssl, dir, pki.caCert, pki.caKey, {
        name: "viewer",
        subject: `/CN=${viewerUserName}`,
        usage: "clientAuth",
        altNames: [],
        keyType: "rsa",
      }),
    ]);
  };
  const etcdChain = async (): Promise<void> => {
    await createCa(ssl, {
      cert: pki.etcdCaCert,
      key: pki.etcdCaKey,
      subject: "/CN=broadside-sandbox-etcd-ca",
      keyType: "ec",
    });
    await Promise.all([
      // Server and peer: etcd presents it to clients and to itself as a peer, hence both usages.
      issue(ssl, dir, pki.etcdCaCert, pki.etcdCaKey, {
        name: "etcd-server",
        subject: "/CN=broadside-sandbox-etcd",
        usage: "serverAuth,clientAuth",
        altNames: etcdServerNames,
        keyType: "ec",
      }),
      issue(ssl, dir, pki.etcdCaCert, pki.etcdCaKey, {
        name: "etcd-client",
        subject: "/CN=kube-apiserver-etcd-client",
        usage: "clientAuth",
        altNames: [],
        keyType: "ec",
      }),
    ]);
  };
  const serviceAccountKeys = async (): Promise<void> => {
    await generateKey(ssl, pki.serviceAccountKey, "rsa");
    await ssl(["rsa", "-in", pki.serviceAccountKey, "-pubout", "-out", pki.serviceAccountPublicKey]);
  };
  await Promise.all([kubeChain(), etcdChain(), serviceAccountKeys()]);
  return pki;
}

async function generateKey(ssl: Ssl, key: string, type: KeyType): Promise<void> {
  await ssl(
    type === "rsa"
      ? ["genrsa", "-out", key, "2048"]
      : ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
  );
}

interface CaRequest {
  readonly cert: string;
  readonly key: string;
  readonly subject: string;
  readonly keyType: KeyType;
}

async function createCa(ssl: Ssl, ca: CaRequest): Promise<void> {
  await generateKey(ssl, ca.key, ca.keyType);
  await ssl([
    "req",
    "-x509",
    "-new",
    "-key",
    ca.key,
    "-sha256",
    "-days",
    "3650",
    "-subj",
    ca.subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    `keyUsage=critical,digitalSignature,${ca.keyType === "rsa" ? "keyEncipherment," : ""}keyCertSign`,
    "-out",
    ca.cert,
  ]);
}

interface CertificateRequest {
  /** File stem: <name>.key, <name>.crt. */
  readonly name: string;
  readonly subject: string;
  readonly usage: "serverAuth,clientAuth" | "clientAuth";
  /** subjectAltName entries, for certificates that serve TLS. */
  readonly altNames: readonly string[];
  readonly keyType: KeyType;
}

async function issue(ssl: Ssl, dir: string, caCert: string, caKey: string, request: CertificateRequest) {
  const key = join(dir, `${request.name}.key`);
  const csr = join(dir, `${request.name}.csr`);
  const extensionsFile = join(dir, `${request.name}.ext`);
  // keyEncipherment is an RSA usage: an EC key agrees keys instead of encrypting them.
  const keyUsage = request.keyType === "rsa" ? "digitalSignature,keyEncipherment" : "digitalSignature";
  const extensions = [
    "basicConstraints=critical,CA:FALSE",
    `keyUsage=critical,${keyUsage}`,
    `extendedKeyUsage=${request.usage}`,
    ...(request.altNames.length > 0 ? [`subjectAltName=${request.altNames.join(",")}`] : []),
  ];
  await writeFile(extensionsFile, `${extensions.join("\n")}\n`);
  await generateKey(ssl, key, request.keyType);
  await ssl(["req", "-new", "-key", key, "-subj", request.subject, "-out", csr]);
  await ssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caCert,
    "-CAkey",
    caKey,
    // A random serial, not a serial file: certificates of one CA are issued side by side.
    "-set_serial",
    randomSerial(),
    "-days",
    "3650",
    "-sha256",
    "-extfile",
    extensionsFile,
    "-out",
    join(dir, `${request.name}.crt`),
  ]);
}

/** 127 random bits, as a positive hex serial (the top bit clear, as RFC 5280 wants it positive). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString("hex")}`;
}
