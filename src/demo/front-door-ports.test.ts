import { describe, expect, it } from "vitest";
import { checkout, ledgerWriter, storefront } from "./fleet.js";
import {
  defaultFrontDoorPorts,
  frontDoorPortOf,
  parseFrontDoorPorts,
  type FrontDoorPorts,
} from "./front-door-ports.js";

function portsOf(ports: FrontDoorPorts): (number | undefined)[] {
  return [checkout, storefront, ledgerWriter].map((workload) => frontDoorPortOf(ports, workload));
}

describe("--front-door-ports: where the demo's front doors listen", () => {
  it("defaults to the ports the demo has always used", () => {
    expect(portsOf(defaultFrontDoorPorts)).toEqual([18080, 18081, 18082]);
  });

  it("takes a base: checkout, storefront and ledger-writer on three ports from it", () => {
    expect(portsOf(parseFrontDoorPorts("28080", "--front-door-ports"))).toEqual([28080, 28081, 28082]);
  });

  it("takes three ports, in the order checkout, storefront, ledger-writer", () => {
    expect(portsOf(parseFrontDoorPorts(" 41000, 39000,40500 ", "--front-door-ports"))).toEqual([
      41000, 39000, 40500,
    ]);
  });

  it("takes auto: no fixed port, the traffic process picks free ones as the doors open", () => {
    expect(portsOf(parseFrontDoorPorts("auto", "--front-door-ports"))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it.each([
    ["80", '--front-door-ports: "80" is not a port from 1024 to 65535 (lower ports need root)'],
    ["18080x", '--front-door-ports: "18080x" is not a port from 1024 to 65535'],
    ["65534", "--front-door-ports: a base of 65534 runs past 65535: use at most 65533"],
    ["28080,28081", "--front-door-ports: lists 2 ports; give a base port"],
    ["28080,28081,28080", "--front-door-ports: lists 28080 twice: each front door needs a port of its own"],
    [
      "",
      "--front-door-ports: is empty; give a base port (18080: checkout, storefront and ledger-writer on 18080-18082), 3 ports separated by commas (checkout,storefront,ledger-writer), or auto",
    ],
  ])("refuses %j with a message naming the flag", (value, message) => {
    expect(() => parseFrontDoorPorts(value, "--front-door-ports")).toThrow(message);
  });

  it("names the variable when the value came from the environment", () => {
    expect(() => parseFrontDoorPorts("nope", "BROADSIDE_FRONT_DOOR_PORTS")).toThrow(
      /^BROADSIDE_FRONT_DOOR_PORTS: "nope" is not a port/,
    );
  });
});
