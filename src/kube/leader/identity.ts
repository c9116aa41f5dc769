import { randomBytes } from "node:crypto";

/**
 * A candidate's identity as client-go makes one: the host (in a pod, the pod's name) and a random
 * suffix, so a replica restarted with the same pod name, or two processes on one host, never pass for
 * each other: a candidate that finds its own identity in the Lease renews it as its own.
 */
export function candidateIdentity(
  hostname: string,
  random: (bytes: number) => Uint8Array = randomBytes,
): string {
  return `${hostname}_${Buffer.from(random(6)).toString("hex")}`;
}
