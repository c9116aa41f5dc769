/*
 * The stressor (ADR 0040): `node dist/daemon/stress-main.js --work <name> --config <json>`, started by the
 * node daemon. It waits for the go line on stdin, which the daemon writes only once this process is in the
 * target container's cgroups and journaled; stdin closed before it (the daemon died) ends it at once. Then
 * its memory workers allocate and touch their share and hold it, its CPU workers busy-loop at the load's
 * duty cycle, until SIGKILL (the daemon's revert) or its config's `untilMs` (its own end).
 */
import { configArgument } from "./config-argument.js";
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";
import { systemClock } from "../core/clock.js";
import { goLine, stressorConfigSchema } from "./stress.js";

const config = configArgument(process.argv, stressorConfigSchema, "stressor");

/** A worker's body, evaluated in its thread: memory touches every page of its share; cpu busy-loops. */
const workerSource = `
const { workerData } = require("node:worker_threads");
if (workerData.kind === "memory") {
  const held = [];
  const chunk = 64 * 1024 * 1024;
  for (let left = workerData.bytes; left > 0; left -= chunk) {
    const buffer = Buffer.allocUnsafeSlow(Math.min(chunk, left));
    buffer.fill(0xa5);
    held.push(buffer);
  }
  globalThis.held = held;
  setInterval(() => undefined, 1 << 30);
} else {
  const period = 100;
  const busy = (period * workerData.load) / 100;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const start = Date.now();
    while (Date.now() - start < busy) {}
    if (period - busy > 0) Atomics.wait(pause, 0, 0, period - busy);
  }
}
`;

function workersOf(): object[] {
  const { memory, cpu } = config;
  const memoryWorkers =
    memory === undefined
      ? []
      : Array.from({ length: memory.workers }, () => ({ kind: "memory", bytes: memory.bytesPerWorker }));
  const cpuWorkers =
    cpu === undefined ? [] : Array.from({ length: cpu.workers }, () => ({ kind: "cpu", load: cpu.load }));
  return [...memoryWorkers, ...cpuWorkers];
}

function go(): void {
  for (const workerData of workersOf()) new Worker(workerSource, { eval: true, workerData });
  process.stdout.write("stressing\n");
}

let started = false;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (started || line.trim() !== goLine) return;
  started = true;
  go();
});
lines.on("close", () => {
  if (!started) process.exit(2);
});
setTimeout(
  () => {
    process.exit(0);
  },
  Math.max(0, config.untilMs - systemClock.now()),
);
process.once("SIGTERM", () => process.exit(0));
