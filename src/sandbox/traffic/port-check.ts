import { createServer } from "node:net";
import { BroadsideError, describeError } from "../../core/errors.js";
import { frontDoorPortAnnotation } from "./front-door-port.js";
import type { DoorsReport } from "./front-doors.js";
import { loopbackHost } from "./loopback.js";
import { describePortHolder } from "./port-holder.js";

/** A port something of Broadside's is about to listen on, and what for ("the front door of demo-shop/storefront"). */
export interface PortNeed {
  readonly port: number;
  readonly what: string;
}

/**
 * Whether 127.0.0.1:port can be listened on right now, found the way the front door will do it: by
 * listening (and closing at once). Throws for anything but "in use" (a port below 1024 without
 * privileges, say), naming the port.
 */
export function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(true);
      else
        reject(
          new BroadsideError(
            "BRD_USAGE",
            `cannot listen on ${loopbackHost}:${port}: ${describeError(error)}`,
          ),
        );
    });
    server.listen(port, loopbackHost, () => {
      server.close(() => {
        resolve(false);
      });
    });
  });
}

/**
 * BRD_PORT_IN_USE for the ports that are taken, each with the process holding it where /proc tells:
 * "127.0.0.1:18081 (the front door of demo-shop/storefront) is in use by pid 4242 (python3 -m
 * http.server 18081)", then `remedy`.
 */
export async function portInUseError(
  taken: readonly PortNeed[],
  remedy: string,
  describeHolder: (port: number) => Promise<string> = describePortHolder,
  lead = "",
): Promise<BroadsideError> {
  const each = await Promise.all(
    taken.map(
      async (need) =>
        `${loopbackHost}:${need.port} (${need.what}) is in use by ${await describeHolder(need.port)}`,
    ),
  );
  return new BroadsideError("BRD_PORT_IN_USE", `${lead}${each.join("; ")}; ${remedy}`);
}

/** Throws BRD_PORT_IN_USE, naming every port taken and its holder, unless all of them are free. */
export async function assertPortsFree(
  needs: readonly PortNeed[],
  remedy: string,
  describeHolder?: (port: number) => Promise<string>,
): Promise<void> {
  const taken: PortNeed[] = [];
  for (const need of needs) if (await isPortInUse(need.port)) taken.push(need);
  if (taken.length > 0) throw await portInUseError(taken, remedy, describeHolder);
}

/** The doors of a /doors report that could not open because another process holds their port now. */
export async function blockedDoors(report: DoorsReport): Promise<PortNeed[]> {
  const blocked: PortNeed[] = [];
  for (const door of report.failed) {
    if (door.port === null || door.port === 0 || !(await isPortInUse(door.port))) continue;
    blocked.push({ port: door.port, what: `the front door of ${door.namespace}/${door.service}` });
  }
  return blocked;
}

/**
 * For `sandbox up`: BRD_PORT_IN_USE when a Service's front door cannot open because its port is
 * someone else's (the sandbox itself is up; the message says so first).
 */
export async function assertDoorsNotBlocked(
  report: DoorsReport | undefined,
  sandboxName: string,
  describeHolder?: (port: number) => Promise<string>,
): Promise<void> {
  const blocked = report === undefined ? [] : await blockedDoors(report);
  if (blocked.length === 0) return;
  throw await portInUseError(
    blocked,
    `stop it, or move the door: change the Service's ${frontDoorPortAnnotation} annotation`,
    describeHolder,
    `sandbox "${sandboxName}" is up, but not every front door can open: `,
  );
}
