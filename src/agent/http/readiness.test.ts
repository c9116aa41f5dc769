import { describe, expect, it } from "vitest";
import { informersSynced } from "./readiness.js";

describe("informersSynced", () => {
  it("is ready only once every informer has synced, including one added later", () => {
    const pods = { stats: { synced: false } };
    const deployments = { stats: { synced: true } };
    const informers = [pods, deployments];
    const check = informersSynced(informers);

    expect(check.name).toBe("informers-synced");
    expect(check.isReady()).toBe(false);
    pods.stats.synced = true;
    expect(check.isReady()).toBe(true);
    informers.push({ stats: { synced: false } });
    expect(check.isReady()).toBe(false);
  });
});
