import type { NodeWorkSpec } from "./node-work.js";

/** A well-formed container-kill work spec, for unit tests. */
export const sampleWork: NodeWorkSpec = {
  kind: "container-kill",
  ledgerId: "20261207t133000-abc123",
  node: "kwok-node-0",
  pod: { namespace: "shop", name: "web-1", uid: "0b5a6c1e-1111-4222-8333-944455556666" },
  container: "web",
  signal: "SIGKILL",
  createdAt: 1_000,
  deadline: 31_000,
  actor: "admin@laptop",
};
