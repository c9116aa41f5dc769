import { describe, expect, it } from "vitest";
import { broadside } from "./harness.js";

describe("broadside demo", () => {
  it("brings a sandbox up, kills a checkout pod, prints the replacement timings, and exits 0", async () => {
    const demo = await broadside("demo", "--name", "it-demo");
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/Firing: deleting pod demo-payments\/checkout-/);
    for (const milestone of [
      /\+\s*\d+ ms {2}deletion accepted by the API server/,
      /\+\s*\d+ ms {2}replacement checkout-\S+ created by the ReplicaSet controller/,
      /\+\s*\d+ ms {2}replacement scheduled to kwok-node-\d by kube-scheduler/,
      /\+\s*\d+ ms {2}replacement Running and Ready/,
      /\+\s*\d+ ms {2}deployment checkout back at 2\/2 available/,
      /\+\s*\d+ ms {2}old pod checkout-\S+ gone after its graceful shutdown/,
    ]) {
      expect(demo.stdout).toMatch(milestone);
    }
    expect(demo.stdout).toMatch(/Recovered in \d+ ms/);
    // The demo stops the sandbox it started.
    expect((await broadside("sandbox", "status", "--name", "it-demo")).code).toBe(1);
  });
});
