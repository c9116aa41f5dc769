import { spawn } from "node:child_process";
import { collect, exitOf } from "../shot-latency/processes.js";

/** LIST requests the API server has answered at cluster scope, by resource (apiserver_request_total). */
export type ListCounts = Readonly<Record<string, number>>;

/** Reads kube-apiserver's /metrics through the pinned kubectl and sums the cluster-scope LISTs. */
export async function clusterScopeLists(kubectl: string, kubeconfig: string): Promise<ListCounts> {
  const child = spawn(kubectl, ["get", "--raw", "/metrics", "--kubeconfig", kubeconfig], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const body = collect(child.stdout);
  const exit = await exitOf(child, "kubectl get --raw /metrics", 60_000);
  if (exit.code !== 0) throw new Error("kubectl get --raw /metrics failed");
  return parseClusterLists(body());
}

export function parseClusterLists(text: string): ListCounts {
  const counts: Record<string, number> = {};
  for (const row of text.split("\n")) {
    const sample = clusterListSample(row);
    if (sample !== undefined) counts[sample.resource] = (counts[sample.resource] ?? 0) + sample.count;
  }
  return counts;
}

const sampleLine = /^apiserver_request_total\{([^}]*)\} (\S+)$/;

/** A sample of apiserver_request_total for verb LIST at cluster scope, or undefined for any other line. */
function clusterListSample(row: string): { resource: string; count: number } | undefined {
  const match = sampleLine.exec(row);
  const labels = match?.[1];
  if (labels === undefined || !labels.includes('verb="LIST"') || !labels.includes('scope="cluster"')) {
    return undefined;
  }
  return { resource: /(?:^|,)resource="([^"]*)"/.exec(labels)?.[1] ?? "?", count: Number(match?.[2]) };
}

/** What was counted between two readings, resources with no new request left out. */
export function listsBetween(before: ListCounts, after: ListCounts): ListCounts {
  return Object.fromEntries(
    Object.entries(after)
      .map(([resource, count]) => [resource, count - (before[resource] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

export function total(counts: ListCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
