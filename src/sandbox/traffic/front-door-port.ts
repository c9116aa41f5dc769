import type { V1Service } from "@kubernetes/client-node";

/**
 * The Service annotation that fixes its front door's port on 127.0.0.1, so a person (or a browser) finds
 * it at http://127.0.0.1:<port>/ whatever the run: `broadside.dev/front-door-port: "18080"`. Experiments
 * name the door instead (front-door://SERVICE.NAMESPACE/), which also finds a door on a free port.
 */
export const frontDoorPortAnnotation = "broadside.dev/front-door-port";

/**
 * Where a Service's front door should listen: a port (0: an ephemeral one, for a Service without the
 * annotation), or why it should not open at all.
 */
export type PortChoice = { readonly port: number } | { readonly problem: string };

/**
 * The port a Service's front door asks for. A bad annotation does not fall back to an ephemeral port:
 * whoever wrote it means to probe that fixed port, and a door elsewhere would let the probe measure a
 * refused connection that is really a typo. The door stays shut and the problem names the Service, the
 * annotation and the value.
 */
export function portFor(service: V1Service): PortChoice {
  const value = service.metadata?.annotations?.[frontDoorPortAnnotation];
  if (value === undefined) return { port: 0 };
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (port >= 1 && port <= 65535) return { port };
  return {
    problem: `service ${nameOf(service)}: annotation ${frontDoorPortAnnotation} is ${JSON.stringify(value)}, not a port from 1 to 65535; its front door stays shut`,
  };
}

function nameOf(service: V1Service): string {
  return `${service.metadata?.namespace ?? ""}/${service.metadata?.name ?? ""}`;
}
