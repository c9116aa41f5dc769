import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "../src/core/duration.js";
import type { PodLifecycle } from "../src/sandbox/stages.js";

/** What every benchmark's sandbox shares: where the repository is, and how fast its pods live. */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Pods per node at most: under the 110 of a kwok node (and of a default kubelet). */
export const podsPerNode = 100;

/** Fast kwok stages: a pod is Running as soon as kwok sees it and gone as soon as its grace allows. */
export const fastLifecycle: PodLifecycle = {
  createDelay: Duration.ofMilliseconds(0),
  readyDelay: Duration.ofMilliseconds(0),
  readyJitter: Duration.ofMilliseconds(0),
  shutdownDelay: Duration.ofMilliseconds(0),
};
