import { parseArgs } from "node:util";
import { BroadsideError, describeError, usageError } from "../../core/errors.js";
import type { Behaviour } from "../traffic/behaviour.js";
import type { PodIdentity } from "../traffic/pod-server.js";

/*
 * How the traffic process talks to a body's process (body-main.ts): the pod's identity, port and first
 * behaviour as arguments; then, on its stdin, one line "start" once the process is in its cgroups (it
 * listens only after that, so nothing it serves is charged elsewhere), then one JSON line per behaviour
 * change. Its stdout says "listening <port>" once it listens. When its stdin closes (the traffic process
 * stopped or died) it exits: a body never outlives the process that supervises it.
 */

export const startLine = "start";

export interface BodyArgs {
  readonly identity: PodIdentity;
  readonly port: number;
  readonly behaviour: Behaviour;
}

export function bodyArgs(args: BodyArgs): string[] {
  const { identity, port, behaviour } = args;
  return [
    `--pod=${identity.pod}`,
    `--namespace=${identity.namespace}`,
    `--uid=${identity.uid}`,
    `--port=${port}`,
    `--latency-ms=${behaviour.latencyMs}`,
    `--error-rate=${behaviour.errorRate}`,
  ];
}

export function parseBodyArgs(argv: readonly string[]): BodyArgs {
  let values: Record<string, string | undefined>;
  try {
    const option = { type: "string" } as const;
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        pod: option,
        namespace: option,
        uid: option,
        port: option,
        "latency-ms": option,
        "error-rate": option,
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    throw new BroadsideError("BRD_USAGE", describeError(error));
  }
  const text = (name: string): string => {
    const value = values[name];
    if (value === undefined || value === "") throw usageError(`--${name}`, "is required");
    return value;
  };
  const number = (name: string, ok: (value: number) => boolean): number => {
    const value = Number(text(name));
    if (!ok(value)) throw usageError(`--${name}`, `is out of range: ${text(name)}`);
    return value;
  };
  return {
    identity: { pod: text("pod"), namespace: text("namespace"), uid: text("uid") },
    port: number("port", (v) => Number.isInteger(v) && v >= 1 && v <= 65_535),
    behaviour: {
      latencyMs: number("latency-ms", (v) => v >= 0 && Number.isFinite(v)),
      errorRate: number("error-rate", (v) => v >= 0 && v <= 1),
    },
  };
}

export function behaviourLine(behaviour: Behaviour): string {
  return `${JSON.stringify({ latencyMs: behaviour.latencyMs, errorRate: behaviour.errorRate })}\n`;
}

/** A behaviour line read back; undefined for anything else. */
export function parseBehaviourLine(line: string): Behaviour | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== "object" || value === null) return undefined;
    const { latencyMs, errorRate } = value as Record<string, unknown>;
    if (typeof latencyMs !== "number" || typeof errorRate !== "number") return undefined;
    if (!(latencyMs >= 0) || !(errorRate >= 0 && errorRate <= 1)) return undefined;
    return { latencyMs, errorRate };
  } catch {
    return undefined;
  }
}

/** The port in a "listening <port>" line, or undefined. */
export function parseListeningLine(line: string): number | undefined {
  const match = /^listening (\d{1,5})$/.exec(line.trim());
  return match === null ? undefined : Number(match[1]);
}
