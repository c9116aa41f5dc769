import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as realDelay } from "node:timers/promises";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../core/fake-clock.js";
import type { NotificationEvent } from "../../core/notify/event.js";
import { webhookBodySchema } from "../../core/notify/payload.js";
import { parseNotificationConfig } from "./config.js";
import { createNotifier, type Notifier } from "./notifier.js";
import { MemoryNotificationCounters, MemorySecretKeyReader } from "./ports.js";

/*
 * The notifier against real HTTP receivers on 127.0.0.1 (a port of their own per test, closed after it),
 * on a FakeClock: backoff waits, Retry-After and attempt timeouts pass only when the test advances the
 * clock, so each test shows exactly which wait came before which request.
 */

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the receiver answers its n-th request (from 0): a status, headers and body, or not at all. */
type Answer =
  { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | "hang";

class Receiver {
  private constructor(
    private readonly server: Server,
    private readonly port: number,
    readonly requests: readonly Received[],
    private readonly held: ServerResponse[],
  ) {}

  static async start(
    answer: (index: number, request: Received) => Answer = () => ({ status: 200 }),
  ): Promise<Receiver> {
    const requests: Received[] = [];
    const held: ServerResponse[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const received = {
          method: request.method ?? "",
          path: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        requests.push(received);
        const reply = answer(requests.length - 1, received);
        if (reply === "hang") held.push(response);
        else response.writeHead(reply.status, reply.headers).end(reply.body ?? "");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return new Receiver(server, (server.address() as AddressInfo).port, requests, held);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The JSON bodies received so far. */
  bodies(): unknown[] {
    return this.requests.map((request) => JSON.parse(request.body) as unknown);
  }

  async close(): Promise<void> {
    for (const response of this.held.splice(0)) response.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }
}

/** Waits, in real time, for real I/O to reach a state; a test that never gets there fails, not hangs. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 1000; tries += 1) {
    if (condition()) return;
    await realDelay(5);
  }
  throw new Error(`never happened: ${what}`);
}

const slackPath = "/services/T0SECRET/B0SECRET/xoxSECRETKEY";

const injected: NotificationEvent = {
  type: "injected",
  faultKind: "pod-kill",
  target: { kind: "Pod", namespace: "shop", name: "web-7d9f-abcde", uid: "0b5e-11" },
  source: { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", namespace: "shop", name: "kill-web" },
  milestones: { acceptedMs: 14 },
  at: Date.UTC(2026, 11, 6, 18, 30, 0, 0),
};

const recovered: NotificationEvent = {
  ...injected,
  type: "recovered",
  milestones: {
    acceptedMs: 14,
    goneMs: 2040,
    createdMs: 38,
    scheduledMs: 51,
    readyMs: 1870,
    restoredMs: 1902,
  },
  at: Date.UTC(2026, 11, 6, 18, 30, 2, 0),
};

function eventNumbered(index: number): NotificationEvent {
  return { ...injected, target: { ...injected.target, name: `web-${index}` } };
}

interface Harness {
  readonly clock: FakeClock;
  readonly counters: MemoryNotificationCounters;
  readonly secrets: MemorySecretKeyReader;
  readonly logLines: string[];
  readonly notifier: Notifier;
}

const opened: { receivers: Receiver[]; notifiers: { notifier: Notifier; clock: FakeClock }[] } = {
  receivers: [],
  notifiers: [],
};

afterEach(async () => {
  // Past any drain deadline: every loop stops, and no request is left in flight for the next test.
  for (const { notifier, clock } of opened.notifiers.splice(0)) {
    const closing = notifier.close();
    await clock.advance(3_600_000);
    await closing;
  }
  for (const receiver of opened.receivers.splice(0)) await receiver.close();
});

async function receiver(answer?: (index: number, request: Received) => Answer): Promise<Receiver> {
  const started = await Receiver.start(answer);
  opened.receivers.push(started);
  return started;
}

/** A notifier over `sinks`, its Secrets in memory, its log through a real pino logger into `logLines`. */
function harness(notifications: unknown, secrets: Record<string, Record<string, string>>): Harness {
  const clock = new FakeClock(Date.UTC(2026, 11, 6, 18, 30, 5));
  const counters = new MemoryNotificationCounters();
  const secretReader = new MemorySecretKeyReader(secrets);
  const logLines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => logLines.push(line) });
  const notifier = createNotifier(parseNotificationConfig(notifications, "agent.yaml"), {
    clock,
    secrets: secretReader,
    counters,
    log,
    random: () => 0.5,
  });
  opened.notifiers.push({ notifier, clock });
  return { clock, counters, secrets: secretReader, logLines, notifier };
}

function slackSink(extra: object = {}): object {
  return {
    name: "team",
    type: "slack",
    urlFrom: { secretKeyRef: { name: "notify", key: "slack" } },
    ...extra,
  };
}

describe("each sink's payload, as the receiver gets it", () => {
  it("posts Slack a JSON {text} rendered from the default template", async () => {
    const slack = await receiver();
    const { notifier, counters } = harness(
      { sinks: [slackSink()] },
      { notify: { slack: slack.url(slackPath) } },
    );
    notifier.notify(recovered);
    await until(() => counters.of("team").delivered === 1, "delivered");
    expect(slack.requests).toHaveLength(1);
    const [request] = slack.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(slackPath);
    expect(request?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(slack.bodies()).toEqual([
      {
        text: "Pod shop/web-7d9f-abcde recovered from pod-kill: replacement created 38 ms, scheduled 51 ms, Ready 1870 ms, workload restored 1902 ms",
      },
    ]);
  });

  it("escapes Slack markup and shows control characters from the cluster as escapes", async () => {
    const slack = await receiver();
    const { notifier, counters } = harness(
      { sinks: [slackSink({ templates: { refused: "*Refused* {{target.name}}: {{reason}}" } })] },
      { notify: { slack: slack.url(slackPath) } },
    );
    notifier.notify({
      ...injected,
      type: "refused",
      target: { ...injected.target, name: "web<!channel>" },
      reason: "blocked & <https://evil.example|see> \u001b[2J\r\u202e",
    });
    await until(() => counters.of("team").delivered === 1, "delivered");
    expect(slack.bodies()).toEqual([
      {
        text: "*Refused* web&lt;!channel&gt;: blocked &amp; &lt;https://evil.example|see&gt; \\u001b[2J\\u000d\\u202e",
      },
    ]);
  });

  it("posts Webex's messages API a room and plain text, with the token as a Bearer", async () => {
    const webex = await receiver();
    const { notifier, counters } = harness(
      {
        sinks: [
          {
            name: "ops",
            type: "webex",
            roomId: "Y2lzY29zcGFyazovL3VzL1JPT00vYmJj",
            tokenFrom: { secretKeyRef: { name: "notify", key: "webex-token" } },
            apiUrl: webex.url("/v1/messages"),
            templates: { injected: "{{fault.kind}} hit <{{target.name}}> & more" },
          },
        ],
      },
      { notify: { "webex-token": "NzQ0YTk3ZWQtSECRET\n" } },
    );
    notifier.notify(injected);
    await until(() => counters.of("ops").delivered === 1, "delivered");
    const [request] = webex.requests;
    expect(request?.path).toBe("/v1/messages");
    expect(request?.headers.authorization).toBe("Bearer NzQ0YTk3ZWQtSECRET");
    expect(webex.bodies()).toEqual([
      { roomId: "Y2lzY29zcGFyazovL3VzL1JPT00vYmJj", text: "pod-kill hit <web-7d9f-abcde> & more" },
    ]);
  });

  it("posts the generic webhook Broadside's versioned JSON body", async () => {
    const hook = await receiver();
    const { notifier, counters } = harness(
      {
        sinks: [
          { name: "audit", type: "webhook", urlFrom: { secretKeyRef: { name: "notify", key: "hook" } } },
        ],
      },
      { notify: { hook: hook.url("/hooks/chaos?token=abc123") } },
    );
    notifier.notify(recovered);
    await until(() => counters.of("audit").delivered === 1, "delivered");
    expect(hook.requests[0]?.path).toBe("/hooks/chaos?token=abc123");
    const [body] = hook.bodies();
    expect(body).toEqual({
      schemaVersion: "broadside.dev/notification/v1",
      event: "recovered",
      time: "2026-12-06T18:30:02.000Z",
      fault: { kind: "pod-kill" },
      target: { kind: "Pod", namespace: "shop", name: "web-7d9f-abcde", uid: "0b5e-11" },
      source: { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", namespace: "shop", name: "kill-web" },
      milestones: {
        acceptedMs: 14,
        goneMs: 2040,
        createdMs: 38,
        scheduledMs: 51,
        readyMs: 1870,
        restoredMs: 1902,
      },
      reason: null,
      text: "Pod shop/web-7d9f-abcde recovered from pod-kill: replacement created 38 ms, scheduled 51 ms, Ready 1870 ms, workload restored 1902 ms",
    });
    expect(webhookBodySchema.safeParse(body).success).toBe(true);
  });

  it("sends a sink only the events it asked for, in the order they happened", async () => {
    const slack = await receiver();
    const { notifier, counters } = harness(
      {
        sinks: [
          slackSink({
            events: ["injected", "refused"],
            templates: { injected: "{{event}} {{target.name}}", refused: "{{event}} {{target.name}}" },
          }),
        ],
      },
      { notify: { slack: slack.url(slackPath) } },
    );
    notifier.notify(eventNumbered(1));
    notifier.notify(recovered);
    notifier.notify({ ...eventNumbered(2), type: "refused" });
    notifier.notify(eventNumbered(3));
    await until(() => counters.of("team").delivered === 3, "three delivered");
    expect(slack.bodies()).toEqual([
      { text: "injected web-1" },
      { text: "refused web-2" },
      { text: "injected web-3" },
    ]);
  });

  it("reads the Secret for each delivery, so a rotated URL is used from the next notification on", async () => {
    const before = await receiver();
    const after = await receiver();
    const { notifier, counters, secrets } = harness(
      { sinks: [slackSink()] },
      { notify: { slack: before.url("/old") } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").delivered === 1, "first delivered");
    secrets.set("notify", "slack", after.url("/new"));
    notifier.notify(recovered);
    await until(() => counters.of("team").delivered === 2, "second delivered");
    expect([before.requests.length, after.requests.length]).toEqual([1, 1]);
  });
});

describe("retries: network errors, 5xx and 429 again, with backoff on the clock; other 4xx never", () => {
  const fast = { attempts: 5, backoffMin: "1s", backoffMax: "1m", attemptTimeout: "2s" };

  it("delivers after two 500s, waiting 1.5 s then 2.5 s (full jitter at 0.5 of 1-2 s and 1-4 s)", async () => {
    const flaky = await receiver((index) => (index < 2 ? { status: 500, body: "oops" } : { status: 200 }));
    const { notifier, counters, clock } = harness(
      { sinks: [slackSink()], delivery: fast },
      { notify: { slack: flaky.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").retried === 1, "first retry planned");
    expect(flaky.requests).toHaveLength(1);
    await clock.advance(1499);
    expect(flaky.requests).toHaveLength(1);
    await clock.advance(1);
    await until(() => counters.of("team").retried === 2, "second retry planned");
    expect(flaky.requests).toHaveLength(2);
    await clock.advance(2500);
    await until(() => counters.of("team").delivered === 1, "delivered");
    expect(flaky.requests).toHaveLength(3);
    expect(counters.of("team")).toEqual({ delivered: 1, failed: 0, dropped: 0, retried: 2 });
    expect(clock.sleeps.filter((ms) => ms !== 2000)).toEqual([1500, 2500]);
  });

  it("waits exactly the Retry-After of a 429, not its own backoff", async () => {
    const limited = await receiver((index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "7" } } : { status: 200 },
    );
    const { notifier, counters, clock } = harness(
      { sinks: [slackSink()], delivery: fast },
      { notify: { slack: limited.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").retried === 1, "retry planned");
    await clock.advance(6999);
    expect(limited.requests).toHaveLength(1);
    await clock.advance(1);
    await until(() => counters.of("team").delivered === 1, "delivered");
    expect(limited.requests).toHaveLength(2);
  });

  it("gives up at once on a Retry-After longer than backoffMax, rather than retry early", async () => {
    const limited = await receiver(() => ({ status: 503, headers: { "retry-after": "3600" } }));
    const { notifier, counters, logLines } = harness(
      { sinks: [slackSink()], delivery: fast },
      { notify: { slack: limited.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(counters.of("team")).toEqual({ delivered: 0, failed: 1, dropped: 0, retried: 0 });
    expect(logLines.join("")).toContain("Retry-After asked for 3600000 ms, more than backoffMax 60000 ms");
  });

  it("does not retry a 400, counts it failed and logs the receiver's answer", async () => {
    const strict = await receiver(() => ({ status: 400, body: "invalid_payload" }));
    const { notifier, counters, logLines } = harness(
      { sinks: [slackSink()], delivery: fast },
      { notify: { slack: strict.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(strict.requests).toHaveLength(1);
    expect(counters.of("team")).toEqual({ delivered: 0, failed: 1, dropped: 0, retried: 0 });
    const failure = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === "notification failed");
    expect(failure).toMatchObject({
      sink: "team",
      type: "slack",
      event: "injected",
      status: 400,
      problem: "answered 400: invalid_payload",
      attempts: 1,
    });
  });

  it("cuts an attempt the receiver never answers at the attempt timeout, and gives up after the last attempt", async () => {
    const silent = await receiver(() => "hang");
    const { notifier, counters, clock, logLines } = harness(
      { sinks: [slackSink()], delivery: { ...fast, attempts: 2 } },
      { notify: { slack: silent.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => silent.requests.length === 1, "first request");
    await clock.advance(2000);
    await until(() => counters.of("team").retried === 1, "retry planned");
    await clock.advance(1500);
    await until(() => silent.requests.length === 2, "second request");
    await clock.advance(2000);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(counters.of("team")).toEqual({ delivered: 0, failed: 1, dropped: 0, retried: 1 });
    expect(logLines.join("")).toContain("no answer within 2000 ms (gave up after 2 attempts)");
  });

  it("does not follow a redirect, which would carry the message (and a token) elsewhere", async () => {
    const elsewhere = await receiver();
    const moved = await receiver(() => ({ status: 307, headers: { location: elsewhere.url("/stolen") } }));
    const { notifier, counters } = harness(
      { sinks: [slackSink()], delivery: fast },
      { notify: { slack: moved.url(slackPath) } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").failed === 1, "failed");
    expect([moved.requests.length, elsewhere.requests.length]).toEqual([1, 0]);
  });

  it("retries a refused connection", async () => {
    const gone = await Receiver.start();
    const url = gone.url(slackPath);
    await gone.close();
    const { notifier, counters, logLines } = harness(
      { sinks: [slackSink()], delivery: { ...fast, attempts: 1 } },
      { notify: { slack: url } },
    );
    notifier.notify(injected);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(logLines.join("")).toMatch(
      /fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(gave up after 1 attempts\)/,
    );
  });

  it("retries when the Secret cannot be read (the API did not answer)", async () => {
    const slack = await receiver();
    const { notifier, counters, clock, secrets } = harness({ sinks: [slackSink()], delivery: fast }, {});
    const flakyApi = { calls: 0 };
    const readReal = secrets.read.bind(secrets);
    secrets.read = (ref) => {
      flakyApi.calls += 1;
      return flakyApi.calls === 1
        ? Promise.reject(new Error("connect ECONNREFUSED 10.96.0.1:443"))
        : readReal(ref);
    };
    secrets.set("notify", "slack", slack.url(slackPath));
    notifier.notify(injected);
    await until(() => counters.of("team").retried === 1, "retry planned");
    await clock.advance(1500);
    await until(() => counters.of("team").delivered === 1, "delivered");
    expect(slack.requests).toHaveLength(1);
  });

  it("counts a Secret read that never answers against the attempt timeout", async () => {
    const { notifier, counters, clock, secrets, logLines } = harness(
      { sinks: [slackSink()], delivery: { ...fast, attempts: 1 } },
      {},
    );
    secrets.read = () => new Promise<never>(() => undefined);
    notifier.notify(injected);
    await clock.advance(1999);
    expect(counters.of("team").failed).toBe(0);
    await clock.advance(1);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(logLines.join("")).toContain("no Secret within 2000 ms (gave up after 1 attempts)");
  });

  it("fails a notification whose Secret or key is missing, naming them, without retrying", async () => {
    const { notifier, counters, logLines, secrets } = harness({ sinks: [slackSink()] }, {});
    notifier.notify(injected);
    await until(() => counters.of("team").failed === 1, "failed");
    expect(secrets.reads).toBe(1);
    expect(logLines.join("")).toContain(
      'urlFrom (Secret \\"notify\\", key \\"slack\\"): no such Secret or key',
    );
  });
});

describe("delivery never holds the engine up", () => {
  it("drops the oldest waiting notifications when the queue is full, counting them, and returns at once", async () => {
    const slow = await receiver(() => "hang");
    const { notifier, counters } = harness(
      { sinks: [slackSink({ templates: { injected: "{{target.name}}" } })], delivery: { queueSize: 2 } },
      { notify: { slack: slow.url(slackPath) } },
    );
    for (let index = 1; index <= 5; index += 1) notifier.notify(eventNumbered(index));
    // web-1 left the queue for its attempt; web-2 and web-3 made way for web-4 and web-5.
    expect(counters.of("team").dropped).toBe(2);
    await until(() => slow.requests.length === 1, "first request");
    expect(slow.bodies()).toEqual([{ text: "web-1" }]);
  });

  it("sends what is left, newest kept, once the receiver answers again", async () => {
    let answering = false;
    const gate = await receiver(() => (answering ? { status: 200 } : { status: 503 }));
    const { notifier, counters, clock } = harness(
      {
        sinks: [slackSink({ templates: { injected: "{{target.name}}" } })],
        delivery: { queueSize: 2, backoffMin: "1s" },
      },
      { notify: { slack: gate.url(slackPath) } },
    );
    for (let index = 1; index <= 5; index += 1) notifier.notify(eventNumbered(index));
    await until(() => counters.of("team").retried === 1, "retry planned");
    answering = true;
    await clock.advance(1500);
    await until(() => counters.of("team").delivered === 3, "three delivered");
    expect(gate.bodies()).toEqual([
      { text: "web-1" },
      { text: "web-1" },
      { text: "web-4" },
      { text: "web-5" },
    ]);
    expect(counters.of("team")).toEqual({ delivered: 3, failed: 0, dropped: 2, retried: 1 });
  });

  it("on close, delivers what is queued, then resolves", async () => {
    const slack = await receiver();
    const { notifier, counters } = harness(
      { sinks: [slackSink()] },
      { notify: { slack: slack.url(slackPath) } },
    );
    notifier.notify(injected);
    notifier.notify(recovered);
    await notifier.close();
    expect(counters.of("team")).toEqual({ delivered: 2, failed: 0, dropped: 0, retried: 0 });
    notifier.notify(injected);
    expect(counters.of("team").dropped).toBe(1);
  });

  it("on close, stops at the drain deadline: the attempt in flight is aborted and the rest dropped", async () => {
    const silent = await receiver(() => "hang");
    const { notifier, counters, clock, logLines } = harness(
      { sinks: [slackSink()], delivery: { attemptTimeout: "1m", drainTimeout: "5s" } },
      { notify: { slack: silent.url(slackPath) } },
    );
    for (let index = 1; index <= 3; index += 1) notifier.notify(eventNumbered(index));
    await until(() => silent.requests.length === 1, "first request");
    let closed = false;
    const closing = notifier.close().then(() => {
      closed = true;
    });
    await clock.advance(4999);
    expect(closed).toBe(false);
    await clock.advance(1);
    await closing;
    expect(counters.of("team")).toEqual({ delivered: 0, failed: 0, dropped: 3, retried: 0 });
    expect(silent.requests).toHaveLength(1);
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((line) => line.msg)).toEqual([
      "notifier closed, dropped a notification in flight",
      "notifier closed, dropped queued notifications",
    ]);
    expect(logged[1]).toMatchObject({ sink: "team", type: "slack", dropped: 2 });
  });

  it("closes once: a second close() waits for the same drain", async () => {
    const slack = await receiver();
    const { notifier } = harness({ sinks: [slackSink()] }, { notify: { slack: slack.url(slackPath) } });
    expect(notifier.close()).toBe(notifier.close());
    await notifier.close();
  });

  it("never throws into the engine, even for an event not of the declared shape", async () => {
    const slack = await receiver();
    const { notifier, counters } = harness(
      { sinks: [slackSink()] },
      { notify: { slack: slack.url(slackPath) } },
    );
    const malformed = JSON.parse(
      '{"type":"injected","faultKind":"pod-kill","target":null,"at":0}',
    ) as NotificationEvent;
    expect(() => {
      notifier.notify(malformed);
    }).not.toThrow();
    expect(counters.of("team").failed).toBe(1);
    notifier.notify(injected);
    await until(() => counters.of("team").delivered === 1, "the next one delivered");
  });
});

describe("the webhook URL and the token never reach a log or an error", () => {
  it("keeps them out of every log line, even when a receiver quotes them back", async () => {
    const echo = await receiver((_index, request) => ({
      status: 400,
      body: `bad hook ${request.path} Bearer ${request.headers.authorization ?? ""}`,
    }));
    const token = "WEBEXSECRETTOKEN42";
    const { notifier, counters, logLines } = harness(
      {
        sinks: [
          slackSink(),
          {
            name: "ops",
            type: "webex",
            roomId: "room1",
            tokenFrom: { secretKeyRef: { name: "notify", key: "token" } },
            apiUrl: echo.url("/v1/messages"),
          },
          { name: "plain", type: "webhook", urlFrom: { secretKeyRef: { name: "notify", key: "insecure" } } },
        ],
      },
      {
        notify: {
          slack: echo.url(slackPath),
          token,
          insecure: "http://hooks.example.com/services/PLAINSECRET",
        },
      },
    );
    notifier.notify(injected);
    await until(
      () => counters.of("team").failed + counters.of("ops").failed + counters.of("plain").failed === 3,
      "all failed",
    );
    const log = logLines.join("");
    expect(log).toContain('"problem":"answered 400: bad hook *** Bearer"');
    expect(log).toContain('"problem":"answered 400: bad hook /v1/messages Bearer Bearer ***"');
    expect(log).toContain("must use https (plain http only to 127.0.0.0/8 or ::1)");
    for (const secret of [slackPath, "xoxSECRETKEY", token, "PLAINSECRET", echo.url(slackPath)])
      expect(log).not.toContain(secret);
  });

  it("keeps a URL out of the configuration's errors", () => {
    expect(() =>
      parseNotificationConfig(
        {
          sinks: [
            {
              name: "ops",
              type: "webex",
              roomId: "r",
              tokenFrom: { secretKeyRef: { name: "n", key: "k" } },
              apiUrl: "http://webex.example/SECRETPATH",
            },
          ],
        },
        "agent.yaml",
      ),
    ).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("SECRETPATH") as unknown }) as Error,
    );
  });
});
