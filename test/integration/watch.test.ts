import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/cli/config.js";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import type { BroadsideError } from "../../src/core/errors.js";
import { ClientNodeWatchSource } from "../../src/kube/watch/client-node-source.js";
import { collectionPath } from "../../src/kube/watch/source.js";
import { Informer } from "../../src/kube/watch/informer.js";
import type { InformerEvent, InformerOptions, InformerRetry } from "../../src/kube/watch/informer.js";
import { sandboxRestartComponent } from "../../src/sandbox/sandbox.js";
import { adminClients, eventually, isReady, useTestNamespace } from "./harness.js";
import { integrationSandboxName } from "./names.js";

const environment = {
  ...sandboxEnvironment(readConfig(process.env), processIo),
  onProgress: () => undefined,
};
const selector = "app=watched";

function pod(name: string): V1Pod {
  return {
    metadata: { name, labels: { app: "watched" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "registry.invalid/app:1" }],
    },
  };
}

/** An informer on the test's pods that records everything it reports. */
function podInformer(namespace: string, options: Partial<Omit<InformerOptions, "source">> = {}) {
  const events: InformerEvent<V1Pod>[] = [];
  const errors: BroadsideError[] = [];
  const retries: (InformerRetry & { readonly at: number })[] = [];
  const source = new ClientNodeWatchSource({
    config: adminClients().config,
    path: collectionPath("v1", "pods", namespace),
    labelSelector: selector,
  });
  const informer = new Informer<V1Pod>({
    source,
    description: `pods in ${namespace}`,
    onError: (error) => errors.push(error),
    onRetry: (retry) => retries.push({ ...retry, at: Date.now() }),
    ...options,
  });
  informer.subscribe((event) => events.push(event));
  return { informer, events, errors, retries };
}

/** name -> uid@resourceVersion, the view that must match between the cache and the server. */
function view(pods: readonly V1Pod[]): Record<string, string> {
  const entries = pods.map((p): [string, string] => [
    p.metadata?.name ?? "",
    `${p.metadata?.uid ?? ""}@${p.metadata?.resourceVersion ?? ""}`,
  ]);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

async function serverView(namespace: string): Promise<Record<string, string>> {
  return view((await adminClients().core.listNamespacedPod({ namespace, labelSelector: selector })).items);
}

/** Waits until the cache holds exactly what a fresh LIST returns, and returns that view. */
async function cacheMatchesServer(
  informer: Informer<V1Pod>,
  namespace: string,
): Promise<Record<string, string>> {
  let last = { cache: {}, server: {} };
  try {
    return await eventually("the informer's cache to match a fresh LIST", async () => {
      last = { cache: view(informer.list()), server: await serverView(namespace) };
      return JSON.stringify(last.cache) === JSON.stringify(last.server) ? last.server : undefined;
    });
  } catch (error: unknown) {
    // Show both sides: the difference says which event was lost.
    expect(last.cache).toEqual(last.server);
    throw error;
  }
}

interface Mutation {
  readonly type: "ADDED" | "DELETED";
  readonly name: string;
  readonly sentAt: number;
}

/** Retries an API call until the API server serves it (it may still be coming back); records when it was sent. */
async function whenServed(
  type: Mutation["type"],
  name: string,
  call: () => Promise<unknown>,
): Promise<Mutation> {
  return eventually(`${type} ${name} to be served`, async () => {
    const sentAt = Date.now();
    try {
      await call();
      return { type, name, sentAt };
    } catch {
      return undefined;
    }
  });
}

function arrival(events: readonly InformerEvent<V1Pod>[], type: string, name: string) {
  return events.find((event) => event.type === type && event.object.metadata?.name === name);
}

function report(line: string): void {
  process.stderr.write(`[watch.test] ${line}\n`);
}

/**
 * Creates a pod, then deletes the one before, again and again while `active()` holds: requests the
 * dying or starting API server refuses are simply tried again. Returns the mutations it got through.
 */
async function churnWhile(active: () => boolean, namespace: string): Promise<Mutation[]> {
  const { core } = adminClients();
  const done: Mutation[] = [];
  let previous: string | undefined;
  for (let n = 0; active(); await new Promise((resolve) => setTimeout(resolve, 250))) {
    const sentAt = Date.now();
    try {
      if (previous === undefined) {
        const name = `during-${n}`;
        await core.createNamespacedPod({ namespace, body: pod(name) });
        done.push({ type: "ADDED", name, sentAt });
        previous = name;
        n += 1;
      } else {
        await core.deleteNamespacedPod({ name: previous, namespace, gracePeriodSeconds: 0 });
        done.push({ type: "DELETED", name: previous, sentAt });
        previous = undefined;
      }
    } catch {
      // The API server is down or not ready yet: that is the point; try again.
    }
  }
  return done;
}

function lagOf(events: readonly InformerEvent<V1Pod>[], mutation: Mutation): string {
  const seen = events.find(
    (event) =>
      event.type === mutation.type &&
      event.object.metadata?.name === mutation.name &&
      event.receivedAt >= mutation.sentAt,
  );
  return seen === undefined ? "unseen" : `${seen.receivedAt - mutation.sentAt}ms/${seen.origin}`;
}

describe("the informer rides out a kube-apiserver restart", () => {
  const namespace = useTestNamespace("it-watch");

  it("restarts its watch and ends up with exactly the pods that exist, changes made around the restart included", async () => {
    const { core } = adminClients();
    for (const name of ["keep", "doomed"])
      await core.createNamespacedPod({ namespace: namespace(), body: pod(name) });
    const { informer, events, errors, retries } = podInformer(namespace());
    try {
      await informer.start();
      await cacheMatchesServer(informer, namespace());
      const before = informer.stats;

      const restartStarted = Date.now();
      let restarting = true;
      const churn = churnWhile(() => restarting, namespace());
      try {
        await sandboxRestartComponent(environment, integrationSandboxName, "kube-apiserver");
      } finally {
        restarting = false;
      }
      const restartMs = Date.now() - restartStarted;
      const during = await churn;
      // Right after it is back, too.
      const after = [
        await whenServed("ADDED", "born-after", () =>
          core.createNamespacedPod({ namespace: namespace(), body: pod("born-after") }),
        ),
        await whenServed("DELETED", "doomed", () =>
          core.deleteNamespacedPod({ name: "doomed", namespace: namespace(), gracePeriodSeconds: 0 }),
        ),
      ];

      const final = await cacheMatchesServer(informer, namespace());
      expect(Object.keys(final)).toContain("born-after");
      expect(Object.keys(final)).toContain("keep");
      expect(Object.keys(final)).not.toContain("doomed");
      const stats = informer.stats;
      expect(stats.restarts).toBeGreaterThan(before.restarts);
      for (const mutation of after) expect(lagOf(events, mutation)).not.toBe("unseen");
      expect(errors.every((error) => error.code === "BRD_KUBE_API")).toBe(true);

      const retryTimes = retries.map(
        (r) => `${r.reason} at +${r.at - restartStarted}ms, retry in ${r.delayMs}ms`,
      );
      report(
        `kube-apiserver restart (SIGTERM to healthy) took ${restartMs} ms; ` +
          `restarts ${stats.restarts - before.restarts}, relists ${stats.relists}, errors ${stats.errors}; ` +
          `retries: ${retryTimes.join(", ")}`,
      );
      const describeMutation = (m: Mutation): string =>
        `${m.type} ${m.name} sent at +${m.sentAt - restartStarted}ms, seen after ${lagOf(events, m)}`;
      report(`during the restart: ${during.map(describeMutation).join("; ") || "no request got through"}`);
      report(`after the restart: ${after.map(describeMutation).join("; ")}`);
    } finally {
      await informer.stop();
    }
  });
});

describe("the informer's watchdog", () => {
  const namespace = useTestNamespace("it-watch-quiet");

  it("restarts a watch that stays quiet past a short no-event timeout, and the cache stays correct", async () => {
    const { core } = adminClients();
    // Retried: just after the restart test, the controller manager may not have made the namespace's
    // default ServiceAccount yet, and pods are refused until it exists.
    await whenServed("ADDED", "settled", () =>
      core.createNamespacedPod({ namespace: namespace(), body: pod("settled") }),
    );
    // Only once kwok is done with the pod is the namespace quiet.
    await eventually("the pod to be Ready", async () => {
      const settled = await core.readNamespacedPod({ name: "settled", namespace: namespace() });
      return isReady(settled) ? true : undefined;
    });
    const { informer, events, errors } = podInformer(namespace(), { noEventTimeoutMs: 1500 });
    try {
      await informer.start();
      await eventually("three watchdog restarts", () =>
        informer.stats.watchdogFirings >= 3 ? true : undefined,
      );
      expect(informer.stats.restarts).toBeGreaterThanOrEqual(3);
      expect(errors.filter((error) => error.code === "BRD_TIMEOUT").length).toBeGreaterThanOrEqual(3);
      expect(Object.keys(await cacheMatchesServer(informer, namespace()))).toEqual(["settled"]);

      // Changes made while the watchdog keeps cutting the watch are all seen.
      await core.createNamespacedPod({ namespace: namespace(), body: pod("newcomer") });
      await core.deleteNamespacedPod({ name: "settled", namespace: namespace(), gracePeriodSeconds: 0 });
      const final = await cacheMatchesServer(informer, namespace());
      expect(Object.keys(final)).toEqual(["newcomer"]);
      expect(arrival(events, "ADDED", "newcomer")).toBeDefined();
      expect(arrival(events, "DELETED", "settled")).toBeDefined();
      report(
        `watchdog: ${informer.stats.watchdogFirings} firings, ${informer.stats.restarts} restarts, ` +
          `${informer.stats.relists} relists`,
      );
    } finally {
      await informer.stop();
    }
  });
});

describe("the informer's paged LIST", () => {
  const namespace = useTestNamespace("it-watch-pages");

  it("reads the API server's pages (limit and continue) into one cache, each page trimmed, then watches", async () => {
    const { core } = adminClients();
    const names = ["p-1", "p-2", "p-3", "p-4", "p-5"];
    await whenServed("ADDED", "p-1", () =>
      core.createNamespacedPod({ namespace: namespace(), body: pod("p-1") }),
    );
    for (const name of names.slice(1))
      await core.createNamespacedPod({ namespace: namespace(), body: pod(name) });
    const counter = { requests: 0 };
    const source = new ClientNodeWatchSource({
      config: adminClients().config,
      path: collectionPath("v1", "pods", namespace()),
      labelSelector: selector,
      counter,
    });
    // Keeps the metadata only: spec and status gone shows every page went through the transform.
    const trimmed = (p: V1Pod): V1Pod => (p.metadata === undefined ? {} : { metadata: p.metadata });
    const informer = new Informer<V1Pod>({ source, listPageSize: 2, transform: trimmed });
    try {
      await informer.start();
      // Five pods in pages of two: three LIST requests, the API server's continue tokens followed.
      expect(counter.requests).toBe(3);
      expect(informer.stats.lists).toBe(1);
      expect(
        informer
          .list()
          .map((p) => p.metadata?.name)
          .sort(),
      ).toEqual(names);
      expect(informer.list().every((p) => p.spec === undefined)).toBe(true);
      await core.deleteNamespacedPod({ name: "p-3", namespace: namespace(), gracePeriodSeconds: 0 });
      await cacheMatchesServer(informer, namespace());
    } finally {
      await informer.stop();
    }
  });
});
