import { describe, expect, it } from "vitest";
import { containerLimits, parseCpuMillis, parseMemory } from "./limits.js";
import {
  behaviourLine,
  bodyArgs,
  parseBehaviourLine,
  parseBodyArgs,
  parseListeningLine,
} from "./protocol.js";

describe("what the traffic process tells a body's process", () => {
  it("passes identity, port and behaviour as arguments that read back the same", () => {
    const args = {
      identity: { pod: "web-1", namespace: "shop", uid: "u-1" },
      port: 8080,
      behaviour: { latencyMs: 50, errorRate: 0.1 },
    };
    expect(bodyArgs(args)).toEqual([
      "--pod=web-1",
      "--namespace=shop",
      "--uid=u-1",
      "--port=8080",
      "--latency-ms=50",
      "--error-rate=0.1",
    ]);
    expect(parseBodyArgs(bodyArgs(args))).toEqual(args);
    expect(() => parseBodyArgs(["--pod=web-1"])).toThrow(/--namespace/);
    expect(() =>
      parseBodyArgs([...bodyArgs(args).slice(0, 3), "--port=70000", "--latency-ms=0", "--error-rate=0"]),
    ).toThrow(/--port/);
  });

  it("changes behaviour by JSON lines and ignores anything else", () => {
    expect(parseBehaviourLine(behaviourLine({ latencyMs: 20, errorRate: 1 }))).toEqual({
      latencyMs: 20,
      errorRate: 1,
    });
    expect(parseBehaviourLine("start")).toBeUndefined();
    expect(parseBehaviourLine('{"latencyMs":-1,"errorRate":0}')).toBeUndefined();
    expect(parseListeningLine("listening 8080\n")).toBe(8080);
    expect(parseListeningLine("listening on 8080")).toBeUndefined();
  });
});

describe("a container's limits for its cgroup", () => {
  it("reads Kubernetes quantities: binary and decimal bytes, cores and millicores", () => {
    expect(parseMemory("96Mi")).toBe(100_663_296);
    expect(parseMemory("1G")).toBe(1_000_000_000);
    expect(parseMemory("1.5Gi")).toBe(1_610_612_736);
    expect(parseMemory("128")).toBe(128);
    expect(parseMemory("lots")).toBeUndefined();
    expect(parseCpuMillis("500m")).toBe(500);
    expect(parseCpuMillis("2")).toBe(2000);
    expect(parseCpuMillis("0.25")).toBe(250);
    expect(containerLimits({ resources: { limits: { memory: "64Mi", cpu: "fast" } } })).toEqual({
      limits: { memoryBytes: 67_108_864, cpuMillis: undefined },
      problems: ['limits.cpu "fast" does not read; left unlimited'],
    });
    expect(containerLimits({})).toEqual({
      limits: { memoryBytes: undefined, cpuMillis: undefined },
      problems: [],
    });
  });
});
