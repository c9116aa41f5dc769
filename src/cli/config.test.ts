import { describe, expect, it } from "vitest";
import { checkout } from "../demo/fleet.js";
import { frontDoorPortOf } from "../demo/front-door-ports.js";
import { readConfig } from "./config.js";

describe("the configuration read from the environment", () => {
  it("takes the demo's front-door ports from BROADSIDE_FRONT_DOOR_PORTS, and none without it", () => {
    const ports = readConfig({ BROADSIDE_FRONT_DOOR_PORTS: "28080" }).frontDoorPorts;
    expect(ports !== undefined && frontDoorPortOf(ports, checkout)).toBe(28080);
    expect(readConfig({}).frontDoorPorts).toBeUndefined();
  });

  it("refuses a bad BROADSIDE_FRONT_DOOR_PORTS, naming the variable", () => {
    expect(() => readConfig({ BROADSIDE_FRONT_DOOR_PORTS: "1,2" })).toThrow(/^BROADSIDE_FRONT_DOOR_PORTS: /);
  });
});
