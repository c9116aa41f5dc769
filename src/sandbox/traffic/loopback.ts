import { isIPv4 } from "node:net";
import { BroadsideError } from "../../core/errors.js";

/** Where every sandbox listener binds: loopback only, so nothing is reachable from outside the machine. */
export const loopbackHost = "127.0.0.1";

/** Whether `host` is an IPv4 literal in 127.0.0.0/8. Names (even "localhost") are not: they resolve. */
export function isLoopbackHost(host: string): boolean {
  return isIPv4(host) && host.split(".")[0] === "127";
}

/**
 * Throws unless `host` is a 127.0.0.0/8 address. Sandbox pod IPs (10.244.x.y) are names that kwok
 * made up: dialing one would at best hang and at worst reach a real machine on the network, so every
 * connection the traffic layer opens passes through this check first.
 */
export function assertLoopbackHost(host: string): void {
  if (!isLoopbackHost(host)) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `sandbox traffic refused to dial ${JSON.stringify(host)}: only 127.0.0.0/8 may be dialed`,
    );
  }
}
