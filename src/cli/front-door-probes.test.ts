import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import { parseExperimentFile } from "../experiments/files/load.js";
import { runPlanOf, type RunPlan } from "../experiments/run/plan.js";
import { freePorts } from "../sandbox/ports.js";
import type { DoorsReport } from "../sandbox/traffic/front-doors.js";
import { resolveFrontDoors, type DoorLookup } from "./front-door-probes.js";
import { probesFromFlags } from "./probe-flag.js";

const examples = join(import.meta.dirname, "..", "..", "examples");

/** The plan of an example as `broadside run` makes it against a sandbox (loopback probes only). */
async function examplePlan(file: string, probes: string[] = []): Promise<RunPlan> {
  const loaded = parseExperimentFile(await readFile(join(examples, file), "utf8"), file);
  return runPlanOf(loaded, {
    extraProbes: probesFromFlags(probes),
    window: Duration.parse("5s", "--window"),
    maxFaultDuration: Duration.parse("1h", "max"),
    loopbackOnly: true,
    runFor: Duration.parse("50s", "--for"),
  });
}

/** The doors of sandbox "demo" (or of no sandbox: a run with --kubeconfig), as `report` says. */
function lookup(report: DoorsReport | undefined, onSandbox = true) {
  const sandbox = onSandbox ? "demo" : undefined;
  const said: string[] = [];
  let asked = 0;
  const doors: DoorLookup = {
    sandbox,
    doors: () => {
      asked += 1;
      return Promise.resolve(report);
    },
    progress: (line) => said.push(line),
  };
  return { doors, said, asked: () => asked };
}

function urls(plan: RunPlan): string[] {
  return plan.hypothesis.probes.map((probe) => (probe.type === "kubernetes" ? "-" : (probe.url ?? "")));
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe("front-door URLs, resolved where the sandbox's doors listen", () => {
  it("points each at 127.0.0.1 on its door's port, says so, and leaves other probes alone", async () => {
    const plan = await examplePlan("experiment-checkout-pod-loss.yaml");
    const { doors, said } = lookup({
      open: [{ namespace: "demo-payments", service: "checkout", port: 28080 }],
      failed: [],
    });
    expect(urls(await resolveFrontDoors(plan, doors))).toEqual(["http://127.0.0.1:28080/healthz", "-"]);
    expect(said).toEqual([
      "probe checkout-http: front-door://checkout.demo-payments/healthz is http://127.0.0.1:28080/healthz",
    ]);
  });

  it("leaves a plan without any untouched, and does not ask the sandbox", async () => {
    const plan = await examplePlan("schedule-pod-kill-2-replicas.yaml", ["name=x,url=http://127.0.0.1:9/"]);
    const { doors, asked } = lookup(undefined, false);
    expect(await resolveFrontDoors(plan, doors)).toBe(plan);
    expect(asked()).toBe(0);
  });

  it("needs a sandbox, and its traffic process", async () => {
    const plan = await examplePlan("schedule-pod-kill-2-replicas.yaml", [
      "name=checkout,url=front-door://checkout.demo-payments/",
    ]);
    await expect(resolveFrontDoors(plan, lookup(undefined, false).doors)).rejects.toThrow(
      "probe checkout: url: front-door://checkout.demo-payments/ names a door of a Broadside sandbox: run with --sandbox NAME",
    );
    await expect(resolveFrontDoors(plan, lookup(undefined).doors)).rejects.toMatchObject({
      code: "BRD_SANDBOX_UNHEALTHY",
    });
  });

  it("refuses a door the sandbox does not have, or one that failed for another reason, naming the probe", async () => {
    const plan = await examplePlan("chaos-mesh-podchaos.yaml", [
      "name=storefront,url=front-door://storefront.demo-shop/",
    ]);
    await expect(resolveFrontDoors(plan, lookup({ open: [], failed: [] }).doors)).rejects.toThrow(
      'probe storefront: url: sandbox "demo" has no front door for service demo-shop/storefront',
    );
    const typo = { namespace: "demo-shop", service: "storefront", port: null, reason: "annotation typo" };
    await expect(resolveFrontDoors(plan, lookup({ open: [], failed: [typo] }).doors)).rejects.toThrow(
      'probe storefront: url: the front door of demo-shop/storefront on sandbox "demo" could not open: annotation typo',
    );
  });

  it("fails with BRD_PORT_IN_USE when another process holds the door's port, naming it", async () => {
    const [held = 0] = await freePorts(1);
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(held, "127.0.0.1", resolve));
    const plan = await examplePlan("schedule-pod-kill-1-replica.yaml", [
      "name=ledger-writer,url=front-door://ledger-writer.demo-batch/",
    ]);
    const failed = { namespace: "demo-batch", service: "ledger-writer", port: held, reason: "in use" };
    const error = await resolveFrontDoors(plan, lookup({ open: [], failed: [failed] }).doors).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BroadsideError);
    expect(error).toMatchObject({ code: "BRD_PORT_IN_USE", exitCode: 3 });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1:${held} \\(the front door of demo-batch/ledger-writer, probed by ledger-writer\\) is in use by pid ${process.pid} \\(`,
      ),
    );
  });
});
