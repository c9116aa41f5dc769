import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { FakeClock } from "../core/fake-clock.js";
import { memoryEngine } from "../engine/memory-engine.js";
import { runPodChaos } from "../engine/pod-chaos.js";
import { putShop, webPod } from "../engine/shop-fixture.js";
import { podKill } from "../faults/pod-kill.js";
import type { CliIo } from "./options.js";
import { formatProgressLine, formatProgressSummary, ProgressLine, progressLineFor } from "./progress-line.js";

/**
 * `kill --mode all` over thousands of pods draws one line on a terminal's stderr, rewritten in place
 * ("shot 1,250/6,000 · 48 req/s · 12 failed"), and leaves a summary; nothing without a terminal or with
 * -o json.
 */

const clearLine = "\r\u001b[K";

describe("the progress line's text", () => {
  it("counts shots with thousands separators, requests per second, and failures once there are any", () => {
    expect(
      formatProgressLine({ done: 1250, total: 6000, failed: 12, requests: 1200, elapsedMs: 25_000 }),
    ).toBe("shot 1,250/6,000 · 48 req/s · 12 failed");
    expect(formatProgressLine({ done: 3, total: 40, failed: 0, requests: 7, elapsedMs: 1000 })).toBe(
      "shot 3/40 · 7.0 req/s",
    );
  });

  it("says 0 req/s before any time has passed rather than dividing by zero", () => {
    expect(formatProgressLine({ done: 0, total: 10, failed: 0, requests: 2, elapsedMs: 0 })).toBe(
      "shot 0/10 · 0 req/s",
    );
  });

  it("sums up with the time taken and the failures, even none", () => {
    expect(
      formatProgressSummary({ done: 6000, total: 6000, failed: 0, requests: 6240, elapsedMs: 121_400 }),
    ).toBe("shot 6,000/6,000 in 121.4 s · 51 req/s · 0 failed");
  });
});

/** A terminal's stderr: what was written, and the screen it leaves (CR + erase rewrites the last line). */
function terminal() {
  const writes: string[] = [];
  const screen = (): string[] => {
    const lines: string[] = [];
    let current = "";
    for (const text of writes) {
      // Each clearLine starts the last line over; each newline ends it.
      text.split(clearLine).forEach((part, index) => {
        if (index > 0) current = "";
        const [first = "", ...rest] = part.split("\n");
        current += first;
        for (const next of rest) {
          lines.push(current);
          current = next;
        }
      });
    }
    return [...lines, current];
  };
  return { writes, write: (text: string) => writes.push(text), screen };
}

describe("ProgressLine", () => {
  it("rewrites one line as shots are answered, at most every 100 ms, and leaves the summary after the last", async () => {
    const clock = new FakeClock(0);
    const tty = terminal();
    let requests = 10;
    const line = new ProgressLine({ enabled: true, write: tty.write, clock, requests: () => requests });

    line.planned(3);
    requests += 2;
    line.answered({ accepted: true, at: 0 });
    // Within 100 ms of the last drawing: not drawn again.
    expect(tty.screen()).toEqual(["shot 0/3 · 0 req/s"]);
    await clock.advance(500);
    requests += 2;
    line.answered({ accepted: false, at: 500, reason: "refused" });
    expect(tty.screen()).toEqual(["shot 2/3 · 8.0 req/s · 1 failed"]);
    await clock.advance(500);
    requests += 2;
    // The last answer leaves the summary at once, with the time to that answer.
    line.answered({ accepted: true, at: 1000 });
    expect(tty.screen()).toEqual(["shot 3/3 in 1.0 s · 6.0 req/s · 1 failed", ""]);
    // A recovery wait may follow: its messages pass through, and the summary is not written again.
    await clock.advance(30_000);
    line.message("waiting for recovery (up to 5m)...\n");
    line.finish();
    expect(tty.screen()).toEqual([
      "shot 3/3 in 1.0 s · 6.0 req/s · 1 failed",
      "waiting for recovery (up to 5m)...",
      "",
    ]);
  });

  it("prints other messages above the line and draws it again below them", () => {
    const clock = new FakeClock(0);
    const tty = terminal();
    const line = new ProgressLine({ enabled: true, write: tty.write, clock, requests: () => 0 });
    line.message("before any shot\n");
    line.planned(2);
    line.message("  pod-kill shop/web-1: accepted\n");
    expect(tty.screen()).toEqual([
      "before any shot",
      "  pod-kill shop/web-1: accepted",
      "shot 0/2 · 0 req/s",
    ]);
  });

  it("draws nothing when disabled, and passes messages through untouched", () => {
    const clock = new FakeClock(0);
    const tty = terminal();
    const line = new ProgressLine({ enabled: false, write: tty.write, clock, requests: () => 0 });
    line.planned(2);
    line.message("a message\n");
    line.answered({ accepted: true, at: 0 });
    line.finish();
    expect(tty.writes).toEqual(["a message\n"]);
  });
});

function cliIo(errIsTty: boolean) {
  const err: string[] = [];
  const io: CliIo = {
    out: () => undefined,
    err: (text) => {
      err.push(text);
    },
    errIsTty,
  };
  return { io, err };
}

describe("progressLineFor, over a kill --mode all on the in-memory engine", () => {
  async function killAll(errIsTty: boolean, output: string) {
    const engine = memoryEngine({ unsafe: true });
    putShop(engine);
    for (let n = 5; n <= 120; n += 1) engine.cluster.put(webPod(`web-abc-${String(n)}`));
    engine.cluster.refusals.set("delete shop/web-abc-7", new Error("connection reset"));
    const { io, err } = cliIo(errIsTty);
    const stderr = progressLineFor(io, output, engine.clock);
    const ctx = {
      ...engine.ctx,
      progress: (message: string) => {
        stderr.io.err(`${message}\n`);
      },
    };
    const progress = stderr.line(ctx.apiRequests);
    await runPodChaos(ctx, {
      fault: podKill,
      scope: ["shop"],
      selector: { labelSelector: "app=web" },
      mode: { kind: "all" },
      dryRun: false,
      wait: false,
      timeout: Duration.parse("30s", "--timeout"),
      progress,
    });
    progress.finish();
    return err.join("");
  }

  it("on a terminal, ends with the summary of all 120 shots and the one that failed", async () => {
    const text = await killAll(true, "table");
    expect(text).toContain(`${clearLine}shot 0/120 · 0 req/s`);
    expect(text.endsWith(`${clearLine}shot 120/120 in 0.0 s · 0 req/s · 1 failed\n`)).toBe(true);
    // Every shot's own line is still printed, above the progress line.
    expect(text.match(/pod-kill shop\/web-abc-\d+: /g)).toHaveLength(120);
  });

  it("with -o json, or when stderr is not a terminal, writes no progress line at all", async () => {
    for (const text of [await killAll(true, "json"), await killAll(false, "table")]) {
      expect(text).not.toContain("\r");
      expect(text).not.toMatch(/^shot /m);
      expect(text.match(/pod-kill shop\/web-abc-\d+: /g)).toHaveLength(120);
    }
  });
});
