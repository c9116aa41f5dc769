/*
 * Finding a target container's process on this node. The daemon asks through this interface; the
 * sandbox's pod records answer it in the sandbox (sandbox-finder.ts), the container runtime through its
 * CRI on a real node (cri-finder.ts). Either way the answer is a pid with its start time, so the process
 * acted on later is provably the one found (a pid may be reused, a pid with its start time may not).
 */

export interface ContainerTarget {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly container: string;
  /** containerStatuses[].containerID when the work was written ("containerd://<hex>"). */
  readonly containerId?: string | undefined;
}

export type FoundProcess =
  | { readonly found: true; readonly pid: number; readonly startTime: string; readonly how: string }
  | { readonly found: false; readonly reason: string };

export type FoundNetns =
  | { readonly found: true; readonly path: string; readonly how: string }
  | { readonly found: false; readonly reason: string };

export interface ProcessFinder {
  /** "sandbox" or "cri", for logs and statuses. */
  readonly name: string;
  find(target: ContainerTarget): Promise<FoundProcess>;
  /** The pod's network namespace, as a path `nsenter --net=` takes (ADR 0032). */
  netns(target: ContainerTarget): Promise<FoundNetns>;
  /** Every pod network namespace of this node, for the start-up scan for leftovers. */
  netnsPaths(): Promise<string[]>;
}
