import { describe, expect, it } from "vitest";
import { isLoopback, probeSchema, toProbe } from "./probes.js";

function httpProbe(http: object) {
  const probe = toProbe(probeSchema.parse({ name: "web", http }));
  if (probe.type !== "http") throw new Error(probe.type);
  return probe;
}

describe("probes", () => {
  it.each([
    ["http://localhost:8080/", true],
    ["http://127.0.0.1/", true],
    ["http://127.3.2.1:80/healthz", true],
    ["http://127.1/", true],
    ["http://2130706433/", true],
    ["http://[::1]:9898/", true],
    ["http://[::ffff:127.0.0.1]/", true],
    ["https://example.com/", false],
    ["http://10.244.0.5:9898/", false],
    ["http://128.0.0.1/", false],
    ["http://localhost.example.com/", false],
    ["not a url", false],
  ])("isLoopback(%s) is %s", (url, loopback) => {
    expect(isLoopback(url)).toBe(loopback);
  });

  it("reads expected statuses as codes, ranges and classes", () => {
    expect(
      httpProbe({ url: "http://localhost/", expectStatus: [204, "300-302", "4xx"] }).expectStatus,
    ).toEqual([
      { from: 204, to: 204 },
      { from: 300, to: 302 },
      { from: 400, to: 499 },
    ]);
  });

  it.each([
    [[99], "is not an HTTP status (100-599), got 99"],
    [["299-200"], 'the range "299-200" ends before it starts'],
    [["ok"], 'must be a status (200), a range ("200-299") or a class ("2xx"), got "ok"'],
    [[true], 'must be a status (200), a range ("200-299") or a class ("2xx"), got true'],
    [[], "must list at least one status"],
  ])("refuses expectStatus %j", (expectStatus, message) => {
    const result = probeSchema.safeParse({ name: "web", http: { url: "http://localhost/", expectStatus } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message.replaceAll('"', '\\"'));
  });

  it("samples HTTP at 1 Hz by default and at most 50 Hz", () => {
    expect(httpProbe({ url: "http://localhost/" }).frequencyHz).toBe(1);
    expect(httpProbe({ url: "http://localhost/", frequency: 50 }).frequencyHz).toBe(50);
    expect(
      probeSchema.safeParse({ name: "web", http: { url: "http://localhost/", frequency: 0 } }).success,
    ).toBe(false);
  });

  it("maps each Kubernetes condition", () => {
    const conditions = [
      [{ readyReplicasAtLeast: 2 }, { type: "readyReplicasAtLeast", count: 2 }],
      [{ allPodsReady: true }, { type: "allPodsReady" }],
      [{ restartCountAtMost: 0 }, { type: "restartCountAtMost", count: 0 }],
      [{ statusCondition: "Available" }, { type: "statusCondition", conditionType: "Available" }],
    ] as const;
    for (const [condition, expected] of conditions) {
      const probe = toProbe(
        probeSchema.parse({
          name: "ready",
          kubernetes: { kind: "deployment", namespace: "demo", name: "web", condition },
        }),
      );
      expect(probe).toMatchObject({ type: "kubernetes", condition: expected });
    }
  });
});
