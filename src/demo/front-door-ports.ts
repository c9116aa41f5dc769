import { usageError } from "../core/errors.js";
import { checkout, ledgerWriter, storefront, type DemoWorkload } from "./workloads.js";

/**
 * Where the demo fleet's front doors listen on 127.0.0.1, as the user chose (`--front-door-ports`, or
 * BROADSIDE_FRONT_DOOR_PORTS): fixed ports, one per workload, or `auto`, ephemeral ports the sandbox's
 * traffic process takes when each door opens (nothing to collide with: what the test tiers use).
 */
export type FrontDoorPorts =
  { readonly kind: "fixed"; readonly ports: ReadonlyMap<DemoWorkload, number> } | { readonly kind: "auto" };

/** The order of a base (base, base+1, base+2) and of a list: checkout, storefront, ledger-writer. */
export const frontDoorOrder: readonly DemoWorkload[] = [checkout, storefront, ledgerWriter];

/** The ports the demo has always used: checkout 18080, storefront 18081, ledger-writer 18082. */
export const defaultFrontDoorBase = 18080;

/** Ports below this need root to listen on; the demo never asks for one. */
const lowestPort = 1024;
const highestPort = 65535;

const grammar =
  `a base port (${defaultFrontDoorBase}: checkout, storefront and ledger-writer on ` +
  `${defaultFrontDoorBase}-${defaultFrontDoorBase + 2}), ${frontDoorOrder.length} ports separated by commas ` +
  `(${frontDoorOrder.map((w) => w.name).join(",")}), or auto (free ports, chosen as the doors open)`;

export function fixedFrontDoorPorts(ports: readonly number[]): FrontDoorPorts {
  return {
    kind: "fixed",
    ports: new Map(frontDoorOrder.map((workload, index) => [workload, ports[index] ?? 0])),
  };
}

export const defaultFrontDoorPorts: FrontDoorPorts = fixedFrontDoorPorts(
  frontDoorOrder.map((_, index) => defaultFrontDoorBase + index),
);

function portIn(text: string, field: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (port >= lowestPort && port <= highestPort) return port;
  throw usageError(
    field,
    `${JSON.stringify(text)} is not a port from ${lowestPort} to ${highestPort} (lower ports need root); give ${grammar}`,
  );
}

function fromBase(base: number, field: string): number[] {
  const last = base + frontDoorOrder.length - 1;
  if (last > highestPort)
    throw usageError(
      field,
      `a base of ${base} runs past ${highestPort}: use at most ${highestPort - frontDoorOrder.length + 1}`,
    );
  return frontDoorOrder.map((_, index) => base + index);
}

function fromList(ports: readonly number[], field: string): number[] {
  if (ports.length !== frontDoorOrder.length)
    throw usageError(field, `lists ${ports.length} ports; give ${grammar}`);
  const repeated = ports.find((port, index) => ports.indexOf(port) !== index);
  if (repeated !== undefined)
    throw usageError(field, `lists ${repeated} twice: each front door needs a port of its own`);
  return [...ports];
}

/** Parses `--front-door-ports` (or the variable named by `field`); a bad value is BRD_USAGE naming it. */
export function parseFrontDoorPorts(text: string, field: string): FrontDoorPorts {
  const value = text.trim();
  if (value === "auto") return { kind: "auto" };
  if (value === "") throw usageError(field, `is empty; give ${grammar}`);
  const ports = value.split(",").map((part) => portIn(part.trim(), field));
  const [base] = ports;
  return fixedFrontDoorPorts(
    ports.length === 1 && base !== undefined ? fromBase(base, field) : fromList(ports, field),
  );
}

/** The fixed port of a workload's front door; undefined when the ports are chosen as the doors open. */
export function frontDoorPortOf(ports: FrontDoorPorts, workload: DemoWorkload): number | undefined {
  return ports.kind === "fixed" ? ports.ports.get(workload) : undefined;
}
