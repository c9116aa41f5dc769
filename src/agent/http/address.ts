import { isIPv4, isIPv6 } from "node:net";
import { usageError } from "../../core/errors.js";

/**
 * Where one of the agent's read-only HTTP listeners binds, as HOST:PORT. HOST is an IP literal
 * (`127.0.0.1`, `0.0.0.0`, `[::1]`, `[::]`) or `localhost`: no other name, so binding never depends on
 * DNS. PORT is 0 to 65535; 0 asks for any free port (tests read the bound one back).
 */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** The flag or variable that set it, named in every error about it. */
  readonly field: string;
}

/** The agent's flags for its two listeners; both default to one loopback listener on 8080. */
export const healthAddressFlag = "--health-probe-bind-address";
export const metricsAddressFlag = "--metrics-bind-address";
export const defaultListenAddress = "127.0.0.1:8080";

const grammar =
  "give HOST:PORT with an IP address or localhost as HOST (127.0.0.1:8080; 0.0.0.0:8080 for every " +
  "interface, as in a pod; [::1]:8080) and a PORT from 0 to 65535";

export function parseListenAddress(text: string, field: string): ListenAddress {
  const separator = text.lastIndexOf(":");
  if (separator < 0) throw usageError(field, `${JSON.stringify(text)} has no port; ${grammar}`);
  const host = hostIn(text.slice(0, separator), text, field);
  const port = portIn(text.slice(separator + 1), text, field);
  return { host, port, field };
}

function hostIn(written: string, text: string, field: string): string {
  if (written === "") {
    throw usageError(
      field,
      `${JSON.stringify(text)} has no host: write 0.0.0.0 for every interface; ${grammar}`,
    );
  }
  const bracketed = /^\[(.*)\]$/.exec(written);
  if (bracketed !== null && isIPv6(bracketed[1] ?? "")) return bracketed[1] ?? "";
  if (written === "localhost" || isIPv4(written)) return written;
  const hint = isIPv6(written) ? "an IPv6 address goes in brackets" : grammar;
  throw usageError(field, `${JSON.stringify(written)} is not an IP address or localhost; ${hint}`);
}

function portIn(written: string, text: string, field: string): number {
  const port = /^\d{1,5}$/.test(written) ? Number(written) : Number.NaN;
  if (port <= 65535) return port;
  throw usageError(
    field,
    `${JSON.stringify(text)} has no valid port (${JSON.stringify(written)}); ${grammar}`,
  );
}

/** "127.0.0.1:8080", "[::1]:8080": as it is written, so a message or a log shows what to curl. */
export function formatListenAddress(address: Pick<ListenAddress, "host" | "port">): string {
  const host = isIPv6(address.host) ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}
