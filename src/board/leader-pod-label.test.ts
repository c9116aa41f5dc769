import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import type { PodLabels } from "../kube/pod-labels.js";
import { boardLeaderLabel, LeaderPodLabel } from "./leader-pod-label.js";

/**
 * The leader's pod label (board/leader-pod-label.ts) over pods in memory: claimed, the label leaves every
 * other pod of the namespace and lands on the replica's own; released, it leaves the replica's own pod;
 * failures are logged and claims tried again while leading, never thrown.
 */

const { key, value } = boardLeaderLabel;

/** Pods as namespace/name -> labels; `failures` makes the next calls of a method reject. */
class MemoryPodLabels implements PodLabels {
  readonly pods = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  failures = { carrying: 0, label: 0 };

  constructor(pods: Record<string, Record<string, string>>) {
    for (const [name, labels] of Object.entries(pods)) this.pods.set(name, { ...labels });
  }

  carrying(namespace: string, wanted: string, is: string): Promise<string[]> {
    this.calls.push(`list ${namespace}`);
    if (this.failures.carrying > 0) {
      this.failures.carrying -= 1;
      return Promise.reject(new Error("connect ECONNREFUSED"));
    }
    const names = [...this.pods]
      .filter(([at, labels]) => at.startsWith(`${namespace}/`) && labels[wanted] === is)
      .map(([at]) => at.slice(namespace.length + 1));
    return Promise.resolve(names);
  }

  label(namespace: string, name: string, label: string, to: string | null): Promise<void> {
    this.calls.push(`${to === null ? "unlabel" : "label"} ${namespace}/${name}`);
    if (this.failures.label > 0) {
      this.failures.label -= 1;
      return Promise.reject(new Error("the server is currently unable to handle the request"));
    }
    const labels = this.pods.get(`${namespace}/${name}`);
    if (labels === undefined) return Promise.resolve();
    const others = Object.entries(labels).filter(([name]) => name !== label);
    this.pods.set(
      `${namespace}/${name}`,
      Object.fromEntries(to === null ? others : [...others, [label, to]]),
    );
    return Promise.resolve();
  }

  /** The namespace/names of the pods that carry the leader's label. */
  labelled(): string[] {
    return [...this.pods].filter(([, labels]) => labels[key] === value).map(([at]) => at);
  }
}

function setUp(pods: Record<string, Record<string, string>>) {
  const memory = new MemoryPodLabels(pods);
  const clock = new FakeClock();
  const lines: { message: string; context: object }[] = [];
  const log = {
    info: (context: object, message: string) => lines.push({ message, context }),
    error: (context: object, message: string) => lines.push({ message, context }),
  };
  const self = { namespace: "broadside-system", name: "broadside-agent-b" };
  const label = new LeaderPodLabel({ pods: memory, self, clock, log, retryMs: 1_000 });
  return { memory, clock, lines, label };
}

describe("LeaderPodLabel", () => {
  it("takes the label off every other pod of its namespace, then puts it on its own", async () => {
    const { memory, label, lines } = setUp({
      "broadside-system/broadside-agent-a": { app: "broadside-agent", [key]: value },
      "broadside-system/broadside-agent-b": { app: "broadside-agent" },
      "broadside-system/broadside-agent-old": { app: "broadside-agent", [key]: value },
      // Another namespace is none of its business.
      "default/broadside-agent-a": { [key]: value },
    });
    await label.claim(new AbortController().signal);
    expect(memory.labelled()).toEqual(["broadside-system/broadside-agent-b", "default/broadside-agent-a"]);
    // The other pods first: at no point after the claim do two pods of its namespace carry the label.
    expect(memory.calls).toEqual([
      "list broadside-system",
      "unlabel broadside-system/broadside-agent-a",
      "unlabel broadside-system/broadside-agent-old",
      "label broadside-system/broadside-agent-b",
    ]);
    expect(memory.pods.get("broadside-system/broadside-agent-a")).toEqual({ app: "broadside-agent" });
    expect(lines).toEqual([
      {
        message: "board pod labelled: leader",
        context: {
          pod: { kind: "Pod", namespace: "broadside-system", name: "broadside-agent-b" },
          unlabelled: ["broadside-agent-a", "broadside-agent-old"],
        },
      },
    ]);
  });

  it("keeps its label when it already has it, and takes it off its own pod on release", async () => {
    const { memory, label } = setUp({ "broadside-system/broadside-agent-b": { [key]: value, app: "x" } });
    await label.claim(new AbortController().signal);
    expect(memory.labelled()).toEqual(["broadside-system/broadside-agent-b"]);
    expect(memory.calls).not.toContain("unlabel broadside-system/broadside-agent-b");
    await label.release();
    expect(memory.labelled()).toEqual([]);
    expect(memory.pods.get("broadside-system/broadside-agent-b")).toEqual({ app: "x" });
  });

  it("tries again every retryMs while leading when the API refuses, and logs each failure", async () => {
    const { memory, label, clock, lines } = setUp({
      "broadside-system/broadside-agent-a": { [key]: value },
      "broadside-system/broadside-agent-b": {},
    });
    memory.failures = { carrying: 1, label: 1 };
    let done = false;
    const claimed = label.claim(new AbortController().signal).then(() => {
      done = true;
    });
    await clock.advance(999);
    expect(done).toBe(false);
    expect(memory.labelled()).toEqual(["broadside-system/broadside-agent-a"]);
    await clock.advance(1);
    // The second try listed, then failed to unlabel a; the third does it all.
    await clock.advance(1_000);
    await claimed;
    expect(memory.labelled()).toEqual(["broadside-system/broadside-agent-b"]);
    expect(lines.map((line) => line.message)).toEqual([
      "could not label the board's pod; retrying",
      "could not label the board's pod; retrying",
      "board pod labelled: leader",
    ]);
    expect(JSON.stringify(lines[0]?.context)).toContain("ECONNREFUSED");
  });

  it("stops trying once leadership ends, and a failed release is logged, not thrown", async () => {
    const { memory, label, clock, lines } = setUp({ "broadside-system/broadside-agent-b": {} });
    memory.failures = { carrying: 100, label: 1 };
    const leading = new AbortController();
    const claimed = label.claim(leading.signal);
    await clock.advance(3_000);
    leading.abort();
    await claimed;
    const tries = memory.calls.length;
    await clock.advance(10_000);
    expect(memory.calls.length).toBe(tries);
    expect(memory.labelled()).toEqual([]);
    await expect(label.release()).resolves.toBeUndefined();
    expect(lines.at(-1)?.message).toBe(
      "could not unlabel the board's pod; the next leader removes the label",
    );
  });
});
