import { afterAll, describe, expect, inject, it } from "vitest";
import { agentHttpConfig, startAgentHttp, type AgentHttpServer } from "../../src/agent/http/server.js";
import { AgentMetrics } from "../../src/agent/metrics/agent-metrics.js";
import { connect } from "../../src/kube/client.js";
import { clientNodeSources } from "../../src/kube/watch/client-node-source.js";
import { collectionPath } from "../../src/kube/watch/source.js";
import { httpStatusOf, useTestNamespace } from "./harness.js";

/**
 * The API latency metric against a real API server: every request client-node's typed clients and the
 * informers' LISTs send is seen with the verb RBAC would name and the code the server answered, and
 * /metrics serves it over real HTTP on loopback.
 */
describe("the agent's metrics observe real API requests", () => {
  const namespace = useTestNamespace("metrics");
  const metrics = new AgentMetrics({ version: "it", processMetrics: false, maxFieldManagers: 20 });
  let server: AgentHttpServer | undefined;

  afterAll(async () => {
    await server?.close();
  });

  async function scraped(series: string): Promise<number | undefined> {
    server ??= await startAgentHttp(
      agentHttpConfig({ metricsAddress: "127.0.0.1:0", healthAddress: "127.0.0.1:0" }),
      {
        metrics,
        readiness: [],
      },
    );
    const text = await (await fetch(`${server.metrics.url}/metrics`)).text();
    const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  const count = (verb: string, code: string) =>
    scraped(`broadside_api_request_duration_seconds_count{verb="${verb}",code="${code}"}`);

  it("names create, get, list and delete with their codes, a missing object as 404", async () => {
    const admin = connect({ kubeconfigPath: inject("adminKubeconfig"), observer: metrics });
    const ns = namespace();
    await admin.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "observed" }, data: { LOG_LEVEL: "info" } },
    });
    await admin.core.readNamespacedConfigMap({ namespace: ns, name: "observed" });
    await admin.core.listNamespacedConfigMap({ namespace: ns });
    await admin.core.deleteNamespacedConfigMap({ namespace: ns, name: "observed" });
    const missing = await admin.core
      .readNamespacedConfigMap({ namespace: ns, name: "observed" })
      .catch((error: unknown) => httpStatusOf(error));
    expect(missing).toBe(404);

    expect(await count("create", "201")).toBe(1);
    expect(await count("get", "200")).toBe(1);
    expect(await count("list", "200")).toBe(1);
    expect(await count("delete", "200")).toBe(1);
    expect(await count("get", "404")).toBe(1);
  });

  it("sees the API server refuse the viewer with 403", async () => {
    const viewer = connect({ kubeconfigPath: inject("viewerKubeconfig"), observer: metrics });
    const refused = await viewer.core
      .deleteCollectionNamespacedPod({ namespace: namespace() })
      .catch((error: unknown) => httpStatusOf(error));
    expect(refused).toBe(403);
    expect(await count("deletecollection", "403")).toBe(1);
  });

  it("sees an informer's LIST", async () => {
    const admin = connect({ kubeconfigPath: inject("adminKubeconfig") });
    const sources = clientNodeSources(admin.config, admin.counter, metrics);
    const before = (await count("list", "200")) ?? 0;
    await sources({ path: collectionPath("v1", "pods", namespace()) }).list(new AbortController().signal);
    expect(await count("list", "200")).toBe(before + 1);
  });
});
