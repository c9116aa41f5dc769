import { describe, expect, it } from "vitest";
import { lazyWatchSources } from "./lazy-sources.js";
import type { CollectionQuery, WatchSource } from "./source.js";

describe("lazyWatchSources", () => {
  it("loads the client on the first list or watch, once, and makes each collection's source once", async () => {
    let loads = 0;
    const made: string[] = [];
    const sources = lazyWatchSources(() => {
      loads += 1;
      return Promise.resolve((collection: CollectionQuery): WatchSource => {
        made.push(collection.path);
        return {
          list: () => Promise.resolve({ items: [collection.path], resourceVersion: "1" }),
          watch: () => Promise.resolve({ abort: () => undefined }),
        };
      });
    });
    const pods = sources({ path: "/api/v1/namespaces/shop/pods" });
    const sets = sources({ path: "/apis/apps/v1/namespaces/shop/replicasets" });
    // Made, but nothing asked of them yet: nothing loaded (a `kill --no-wait`).
    expect(loads).toBe(0);
    const signal = new AbortController().signal;
    await expect(pods.list(signal)).resolves.toEqual({
      items: ["/api/v1/namespaces/shop/pods"],
      resourceVersion: "1",
    });
    await pods.watch(
      "1",
      () => undefined,
      () => undefined,
    );
    await sets.list(signal);
    expect(loads).toBe(1);
    expect(made).toEqual(["/api/v1/namespaces/shop/pods", "/apis/apps/v1/namespaces/shop/replicasets"]);
  });
});
