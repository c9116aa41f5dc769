import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { freePorts } from "../ports.js";
import { assertDoorsNotBlocked, assertPortsFree, isPortInUse } from "./port-check.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function hold(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
}

describe("the check a command makes before it opens front doors", () => {
  it("finds a port in use by listening on it, and leaves a free one free", async () => {
    const [held = 0, free = 0] = await freePorts(2);
    await hold(held);
    expect(await isPortInUse(held)).toBe(true);
    expect(await isPortInUse(free)).toBe(false);
    // The check let go of the free port: it can be listened on again at once.
    await hold(free);
  });

  it("fails with BRD_PORT_IN_USE, exit 3, naming every taken port, what needs it, its holder, and the remedy", async () => {
    const [first = 0, second = 0, free = 0] = await freePorts(3);
    await hold(first);
    await hold(second);
    const needs = [
      { port: first, what: "the front door of demo-payments/checkout" },
      { port: free, what: "the front door of demo-shop/storefront" },
      { port: second, what: "the front door of demo-batch/ledger-writer" },
    ];
    const error = await assertPortsFree(needs, "choose other ports", (port) =>
      Promise.resolve(`pid 7 (holder ${port})`),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BroadsideError);
    expect(error).toMatchObject({
      code: "BRD_PORT_IN_USE",
      exitCode: 3,
      message:
        `127.0.0.1:${first} (the front door of demo-payments/checkout) is in use by pid 7 (holder ${first}); ` +
        `127.0.0.1:${second} (the front door of demo-batch/ledger-writer) is in use by pid 7 (holder ${second}); ` +
        "choose other ports",
    });
  });

  it("passes when every port is free", async () => {
    const ports = await freePorts(2);
    await expect(
      assertPortsFree(
        ports.map((port) => ({ port, what: "x" })),
        "r",
      ),
    ).resolves.toBeUndefined();
  });
});

describe("sandbox up's look at the doors the traffic process could not open", () => {
  it("fails with BRD_PORT_IN_USE for a door whose port another process holds, not for other failures", async () => {
    const [held = 0, freed = 0] = await freePorts(2);
    await hold(held);
    const failed = (service: string, port: number | null) => ({
      namespace: "shop",
      service,
      port,
      reason: "whatever the traffic process said",
    });
    const report = {
      open: [{ namespace: "shop", service: "open", port: 1 }],
      failed: [failed("taken", held), failed("freed-since", freed), failed("typo", null)],
    };
    await expect(
      assertDoorsNotBlocked(report, "it", () => Promise.resolve("pid 9 (x)")),
    ).rejects.toMatchObject({
      code: "BRD_PORT_IN_USE",
      message:
        `sandbox "it" is up, but not every front door can open: 127.0.0.1:${held} (the front door of shop/taken) ` +
        "is in use by pid 9 (x); stop it, or move the door: change the Service's broadside.dev/front-door-port annotation",
    });
    await expect(
      assertDoorsNotBlocked({ open: [], failed: [failed("typo", null)] }, "it"),
    ).resolves.toBeUndefined();
    await expect(assertDoorsNotBlocked(undefined, "it")).resolves.toBeUndefined();
  });
});
