import { createServer } from "node:net";
import { BroadsideError, describeError } from "../../core/errors.js";
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
): Promise<BroadsideError> {
  const each = await Promise.all(
    taken.map(
      async (need) =>
        `${loopbackHost}:${need.port} (${need.what}) is in use by ${await describeHolder(need.port)}`,
    ),
  );
  return new BroadsideError("BRD_PORT_IN_USE", `${each.join("; ")}; ${remedy}`);
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
