import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { parseNodeWorkSpec } from "../core/node-work.js";
import { parseMemorySize, planStressTargets, stressWork } from "./stress.js";

function pod(name: string, containers: { name: string; memory?: string }[]): V1Pod {
  return {
    metadata: { namespace: "shop", name, uid: "0b5a6c1e-1111-4222-8333-944455556666" },
    spec: {
      nodeName: "kwok-node-0",
      containers: containers.map((each) => ({
        name: each.name,
        ...(each.memory === undefined ? {} : { resources: { limits: { memory: each.memory } } }),
      })),
    },
  };
}

const memory = { memory: { bytes: 512e6, workers: 1 } };

function refusal(run: () => unknown): BroadsideError {
  try {
    run();
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error("not refused");
}

describe("stress's plan (ADR 0040): the container and the seed's memory-limit pre-check", () => {
  it("takes the first container by default, or the one named", () => {
    const pods = [
      pod("web-1", [
        { name: "web", memory: "256Mi" },
        { name: "side", memory: "64Mi" },
      ]),
    ];
    expect(planStressTargets(pods, memory, { unsafe: false })[0]?.container).toBe("web");
    expect(planStressTargets(pods, memory, { container: "side", unsafe: false })[0]?.container).toBe("side");
  });

  it("refuses a container the pod does not have, naming the ones it has", () => {
    const error = refusal(() =>
      planStressTargets([pod("web-1", [{ name: "web", memory: "256Mi" }])], memory, {
        container: "db",
        unsafe: false,
      }),
    );
    expect(error.code).toBe("BRD_USAGE");
    expect(error.message).toBe('--container: pod shop/web-1 has no container "db" (it has web)');
  });

  it("refuses a memory stress on a container without a memory limit, naming it, unless --unsafe", () => {
    const pods = [pod("web-1", [{ name: "web" }])];
    const error = refusal(() => planStressTargets(pods, memory, { unsafe: false }));
    expect(error.code).toBe("BRD_REFUSED_BY_RAIL");
    expect(error.message).toContain("container web of pod shop/web-1 has no memory limit");
    expect(planStressTargets(pods, memory, { unsafe: true })).toHaveLength(1);
    // A CPU stress needs no memory limit.
    expect(planStressTargets(pods, { cpu: { workers: 1, load: 50 } }, { unsafe: false })).toHaveLength(1);
  });

  it("writes --unsafe into the work so the daemon's own check lets it through", () => {
    const [target] = planStressTargets([pod("web-1", [{ name: "web" }])], memory, { unsafe: true });
    if (target === undefined) throw new Error("no target");
    const record = {
      ledgerId: "20261207t133000-abc123",
      createdAt: 1,
      deadline: 2,
      durationMs: 3,
      actor: "a@b",
    };
    const spec = stressWork(target, memory, true, record);
    expect(spec.stress).toEqual({ memory: { bytes: 512e6, workers: 1, unlimitedAllowed: true } });
    expect(parseNodeWorkSpec(spec)).toEqual(spec);
    expect(stressWork(target, memory, false, record).stress).toEqual(memory);
  });

  it("reads --memory decimal as Chaos Mesh does, binary as Kubernetes does, and percentages", () => {
    expect(parseMemorySize("512MB")).toEqual({ bytes: 512e6 });
    expect(parseMemorySize("512M")).toEqual({ bytes: 512e6 });
    expect(parseMemorySize("256Mi")).toEqual({ bytes: 256 * 2 ** 20 });
    expect(parseMemorySize("1GiB")).toEqual({ bytes: 2 ** 30 });
    expect(parseMemorySize("4096")).toEqual({ bytes: 4096 });
    expect(parseMemorySize("50%")).toEqual({ percent: 50 });
    for (const bad of ["0%", "101%", "lots", "-1M", "1XB", "0"]) expect(parseMemorySize(bad)).toBeUndefined();
  });
});
