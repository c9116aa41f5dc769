/**
 * A probe URL that names a Service's front door on a Broadside sandbox instead of its port:
 *
 *   front-door://checkout.demo-payments/healthz
 *
 * The host is SERVICE.NAMESPACE (how a pod in another namespace calls the Service), the path and query
 * are the request's. `broadside run --sandbox NAME` asks that sandbox's traffic process where the door
 * listens and probes http://127.0.0.1:PORT/healthz (cli/front-door-probes.ts), so a file or a command
 * line keeps working whatever ports the user chose for the doors (`demo --front-door-ports`), and never
 * probes a port that another program holds. It can only ever mean 127.0.0.1: the loopback rule holds.
 */

export const frontDoorProtocol = "front-door:";

export interface FrontDoorTarget {
  readonly namespace: string;
  readonly service: string;
  /** The path and query to request, "/" at least. */
  readonly path: string;
}

/** A Service name is a DNS-1035 label, a namespace a DNS-1123 label: neither holds a dot. */
const serviceDotNamespace = /^([a-z]([-a-z0-9]{0,61}[a-z0-9])?)\.([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/;

const shape = "front-door://SERVICE.NAMESPACE/PATH (no port: the sandbox knows where the door listens)";

export function isFrontDoorUrl(url: string): boolean {
  return url.toLowerCase().startsWith(frontDoorProtocol);
}

/** The door a front-door URL names, or what is wrong with it. */
export function parseFrontDoorUrl(text: string): FrontDoorTarget | { readonly problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `a front-door URL is ${shape}, got ${JSON.stringify(text)}` };
  }
  const names = serviceDotNamespace.exec(url.hostname);
  const service = names?.[1];
  const namespace = names?.[3];
  if (
    url.port !== "" ||
    url.username !== "" ||
    url.password !== "" ||
    service === undefined ||
    namespace === undefined
  )
    return { problem: `a front-door URL is ${shape}, got ${JSON.stringify(text)}` };
  return { namespace, service, path: `${url.pathname === "" ? "/" : url.pathname}${url.search}` };
}

/** Where the door's requests go, once the sandbox says which port it listens on. */
export function frontDoorHttpUrl(target: FrontDoorTarget, port: number): string {
  return `http://127.0.0.1:${port}${target.path}`;
}
