import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { webhookBodySchema, type WebhookBody } from "../../src/core/notify/payload.js";
import {
  type RunningAgent,
  applyManifest,
  installCrds,
  logged,
  optIntoChaos,
  podKillOne,
  scrape,
  startAgent,
} from "./agent-process.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  httpStatusOf,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * The agent tells people what it did. A receiver on 127.0.0.1 plays a Slack incoming webhook, a generic
 * JSON webhook, and a flaky webhook answering 500 twice before it takes anything; their URLs are in a
 * Secret of broadside-system, the configuration in a --notifications file. A PodChaos applied with
 * kubectl is reconciled, and each receiver gets "injected" and "recovered" (with the ms) in the shapes
 * docs/agent.md documents; the flaky one gets its message after the retries; /metrics counts the results.
 */

interface Received {
  readonly path: string;
  readonly body: string;
}

/** One HTTP server on loopback; `/flaky/...` answers 500 to its first two requests. */
class Receiver {
  readonly requests: Received[] = [];
  private flakyAnswers = 0;
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "";
        this.requests.push({ path, body: Buffer.concat(chunks).toString("utf8") });
        const failing = path.startsWith("/flaky/") && this.flakyAnswers < 2;
        if (path.startsWith("/flaky/")) this.flakyAnswers += 1;
        response.writeHead(failing ? 500 : 200).end(failing ? "busy" : "ok");
      });
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}`;
  }

  to(prefix: string): Received[] {
    return this.requests.filter((request) => request.path.startsWith(prefix));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }
}

const receiver = new Receiver();
/** Stands for the key a real webhook URL carries in its path: it must never reach a log. */
const urlKey = `K${randomBytes(8).toString("hex")}`;
const secretName = `it-notify-${randomBytes(3).toString("hex")}`;
let installedCrds = false;
let configFile = "";

beforeAll(async () => {
  installedCrds = await installCrds(join(repoRoot, "deploy", "crds"), "podchaos.broadside.dev");
  const base = await receiver.start();
  const core = adminClients().core;
  await core.createNamespace({ body: { metadata: { name: "broadside-system" } } }).catch((error: unknown) => {
    if (httpStatusOf(error) !== 409) throw error;
  });
  await core.createNamespacedSecret({
    namespace: "broadside-system",
    body: {
      metadata: { name: secretName },
      stringData: {
        "slack-url": `${base}/slack/T000/B000/${urlKey}`,
        "hook-url": `${base}/hook/${urlKey}`,
        "flaky-url": `${base}/flaky/${urlKey}`,
      },
    },
  });
  configFile = join(tmpdir(), `${secretName}.yaml`);
  const sink = (name: string, type: string, key: string) => [
    `    - name: ${name}`,
    `      type: ${type}`,
    "      urlFrom:",
    `        secretKeyRef: { name: ${secretName}, key: ${key} }`,
  ];
  await writeFile(
    configFile,
    [
      "notifications:",
      "  sinks:",
      ...sink("team-chat", "slack", "slack-url"),
      ...sink("audit", "webhook", "hook-url"),
      ...sink("flaky", "webhook", "flaky-url"),
      "  delivery:",
      "    attempts: 5",
      "    backoffMin: 100ms",
      "    backoffMax: 1s",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await receiver.close();
  await adminClients().core.deleteNamespacedSecret({ name: secretName, namespace: "broadside-system" });
  if (installedCrds)
    await kubectl(inject("adminKubeconfig"), "delete", "-f", join(repoRoot, "deploy", "crds"));
});

function webhookBodies(prefix: string): WebhookBody[] {
  return receiver.to(prefix).map((request) => webhookBodySchema.parse(JSON.parse(request.body)));
}

/** The webhook's two bodies, in the documented shape; returns the recovered one. */
function expectInjectedThenRecovered(bodies: readonly WebhookBody[], namespace: string): WebhookBody {
  expect(bodies.map((body) => body.event)).toEqual(["injected", "recovered"]);
  const [injected, recovered] = bodies;
  if (injected === undefined || recovered === undefined) throw new Error("two bodies expected");
  const source = {
    apiVersion: "broadside.dev/v1alpha1",
    kind: "PodChaos",
    namespace,
    name: "kill-one",
  };
  expect(injected).toMatchObject({
    schemaVersion: "broadside.dev/notification/v1",
    fault: { kind: "pod-kill" },
    target: { kind: "Pod", namespace },
    source,
    reason: null,
  });
  expect(injected.target.name).toMatch(/^web-/);
  expect(injected.text).toBe(
    `Broadside injected pod-kill into Pod ${namespace}/${injected.target.name} (PodChaos kill-one)`,
  );
  expect(recovered.target).toEqual(injected.target);
  const readyMs = recovered.milestones.readyMs;
  expect(readyMs).toBeGreaterThan(0);
  expect(recovered.text).toContain(`Ready ${String(readyMs)} ms`);

  return recovered;
}

/**
 * Slack gets the same two messages as its `text`, and nothing else. Each sink sends on its own, so
 * Slack's second message may come a moment after the webhook's.
 */
async function expectSlackSaidTheSame(injected: WebhookBody, recovered: WebhookBody): Promise<void> {
  const slack = await eventually("Slack to receive both messages", () => {
    const received = receiver
      .to("/slack/")
      .map((request) => JSON.parse(request.body) as Record<string, unknown>);
    return received.length >= 2 ? received : undefined;
  });
  expect(slack).toEqual([{ text: injected.text }, { text: recovered.text }]);
}

/** The flaky receiver's messages came after its two 500s; /metrics and the log say what happened. */
async function expectRetriedAndCounted(agent: RunningAgent, recovered: WebhookBody): Promise<void> {
  // The flaky receiver answered 500, 500, then 200: the first message arrived on the third attempt.
  const flaky = await eventually("the flaky webhook to get both messages", () => {
    const received = webhookBodies("/flaky/");
    return received.length >= 4 ? received : undefined;
  });
  expect(flaky.map((body) => body.event)).toEqual(["injected", "injected", "injected", "recovered"]);
  expect(flaky[3]).toEqual(recovered);

  expect(await scrape(agent, 'broadside_notifications_total{channel="slack",result="delivered"}')).toBe(2);
  expect(await scrape(agent, 'broadside_notifications_total{channel="webhook",result="delivered"}')).toBe(4);
  expect(await scrape(agent, 'broadside_notifications_total{channel="webhook",result="failed"}')).toBe(0);
  // The URLs are credentials: the retries were logged without them.
  expect(agent.logs.some((line) => line.msg === "notification attempt failed, retrying")).toBe(true);
  expect(agent.stderr()).not.toContain(urlKey);
}

describe("broadside agent --notifications", () => {
  const namespace = useTestNamespace("it-notify");

  beforeAll(async () => {
    await optIntoChaos(namespace());
    await deployAndWait(namespace(), testDeployment("web", 2));
  });

  it("tells Slack and a webhook that a pod was killed and recovered, retries a failing receiver, and counts it", async () => {
    const agent = startAgent("--notifications", configFile);
    await logged(agent, "notifications on");
    await logged(agent, "leading: reconciling");
    await applyManifest(podKillOne(namespace(), "kill-one"));

    const bodies = await eventually(
      "the webhook to receive injected and recovered",
      () => {
        const received = webhookBodies("/hook/");
        return received.length >= 2 ? received : undefined;
      },
      150_000,
    ).catch((error: unknown) => {
      const tail = agent.logs.slice(-15).map((line) => JSON.stringify(line));
      throw new Error(`${String(error)}\nagent:\n${tail.join("\n")}`, { cause: error });
    });
    const recovered = expectInjectedThenRecovered(bodies, namespace());
    const [injected] = bodies;
    if (injected === undefined) throw new Error("the injected body is gone");
    await expectSlackSaidTheSame(injected, recovered);
    await expectRetriedAndCounted(agent, recovered);

    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("refuses a bad notifications file before it connects, naming the field", async () => {
    const bad = join(tmpdir(), `${secretName}-bad.yaml`);
    await writeFile(
      bad,
      "notifications:\n  sinks:\n    - name: chat\n      type: slack\n      urlFrom: { secretKeyRef: { name: x, key: y } }\n      templates: { recovered: 'ready in {{milestones.ready}}' }\n",
    );
    const result = await broadside("agent", "--notifications", bad, "--kubeconfig", "/nonexistent");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("notifications.sinks[0].templates.recovered");
    expect(result.stderr).toContain("unknown placeholder");
  });
});
