import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked } from "./exec.js";

/**
 * The sandbox's certificates, made with openssl as kwokctl makes them: one CA; an admin certificate
 * (O=system:masters) that serves the API and authenticates every component and the admin user; a viewer
 * certificate for a restricted user that RBAC lets read pods and nothing else; and a separate key pair
 * that signs service-account tokens.
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
  };
}

const serverNames = [
  "DNS:localhost",
  "DNS:kubernetes",
  "DNS:kubernetes.default",
  "DNS:kubernetes.default.svc",
  "DNS:kubernetes.default.svc.cluster.local",
  "IP:127.0.0.1",
  "IP:10.96.0.1",
];

export async function createPki(dir: string, openssl: string): Promise<Pki> {
  const pki = pkiPaths(dir);
  const ssl = (args: string[]): Promise<string> => runChecked(openssl, args, { cwd: dir });
  await ssl(["genrsa", "-out", pki.caKey, "2048"]);
  await ssl([
    "req",
    "-x509",
    "-new",
    "-key",
    pki.caKey,
    "-sha256",
    "-days",
    "3650",
    "-subj",
    "/CN=broadside-sandbox-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
    "-out",
    pki.caCert,
  ]);
  await issue(ssl, dir, pki, {
    name: "admin",
    subject: `/O=system:masters/CN=${adminUserName}`,
    serving: true,
  });
  await issue(ssl, dir, pki, { name: "viewer", subject: `/CN=${viewerUserName}`, serving: false });
  await ssl(["genrsa", "-out", pki.serviceAccountKey, "2048"]);
  await ssl(["rsa", "-in", pki.serviceAccountKey, "-pubout", "-out", pki.serviceAccountPublicKey]);
  return pki;
}

interface CertificateRequest {
  readonly name: "admin" | "viewer";
  readonly subject: string;
  /** Whether the certificate also serves TLS for the API server (and so needs its host names). */
  readonly serving: boolean;
}

async function issue(
  ssl: (args: string[]) => Promise<string>,
  dir: string,
  pki: Pki,
  request: CertificateRequest,
) {
  const key = join(dir, `${request.name}.key`);
  const csr = join(dir, `${request.name}.csr`);
  const extensionsFile = join(dir, `${request.name}.ext`);
  const extensions = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${request.serving ? "serverAuth,clientAuth" : "clientAuth"}`,
    ...(request.serving ? [`subjectAltName=${serverNames.join(",")}`] : []),
  ];
  await writeFile(extensionsFile, `${extensions.join("\n")}\n`);
  await ssl(["genrsa", "-out", key, "2048"]);
  await ssl(["req", "-new", "-key", key, "-subj", request.subject, "-out", csr]);
  await ssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    pki.caCert,
    "-CAkey",
    pki.caKey,
    "-CAcreateserial",
    "-days",
    "3650",
    "-sha256",
    "-extfile",
    extensionsFile,
    "-out",
    join(dir, `${request.name}.crt`),
  ]);
}
