import { z } from "zod";
import { optional } from "../../core/objects.js";
import { count, name } from "./schema-fields.js";

/**
 * Restart counts of the targets and of their node-mates (pods on the same nodes that were not targets),
 * read before the fault and after recovery. Node-mates restarting is the sign that a fault meant for one
 * pod reached its neighbours (a memory squeeze that got the node's OOM killer going, say): the
 * "isolation held" check.
 */

export type RestartRole = "target" | "node-mate";

/** One pod's restart count (summed over its containers) before the fault and after recovery. */
export interface RestartObservation {
  readonly namespace: string;
  readonly name: string;
  readonly node?: string;
  readonly role: RestartRole;
  readonly before: number;
  /** Absent when the pod was gone afterwards: a killed target, or a node-mate that vanished. */
  readonly after?: number;
}

export const restartChangeSchema = z
  .object({
    namespace: z.string(),
    name,
    node: z.string().exactOptional(),
    before: count,
    after: count.exactOptional(),
    change: z
      .number()
      .int()
      .nullable()
      .meta({ description: "after - before; null when the pod was gone afterwards." }),
  })
  .readonly();
export type RestartChange = z.infer<typeof restartChangeSchema>;

export const restartReportSchema = z
  .object({
    targets: z.array(restartChangeSchema).readonly(),
    nodeMates: z.array(restartChangeSchema).readonly(),
    // A vanished node-mate counts against isolation: the report cannot tell an eviction caused by the
    // fault from an unrelated rollout, and a claim of isolation should not rest on a pod it could no
    // longer see.
    isolationHeld: z.boolean().meta({
      description: "No node-mate restarted and none disappeared. True when there were no node-mates.",
    }),
  })
  .readonly();
export type RestartReport = z.infer<typeof restartReportSchema>;

export function restartReport(observations: readonly RestartObservation[]): RestartReport {
  const changes = (role: RestartRole): RestartChange[] =>
    observations.filter((observation) => observation.role === role).map(restartChange);
  const nodeMates = changes("node-mate");
  return {
    targets: changes("target"),
    nodeMates,
    isolationHeld: nodeMates.every((mate) => mate.change === 0),
  };
}

function restartChange(observation: RestartObservation): RestartChange {
  return {
    namespace: observation.namespace,
    name: observation.name,
    ...optional("node", observation.node),
    before: observation.before,
    ...optional("after", observation.after),
    change: observation.after === undefined ? null : observation.after - observation.before,
  };
}

/** The observations a restart report was made from, for recomputing it. */
export function restartObservations(report: RestartReport): RestartObservation[] {
  const back = (role: RestartRole) => (change: RestartChange) => ({
    namespace: change.namespace,
    name: change.name,
    ...optional("node", change.node),
    role,
    before: change.before,
    ...optional("after", change.after),
  });
  return [...report.targets.map(back("target")), ...report.nodeMates.map(back("node-mate"))];
}

/** One sentence per node-mate that broke isolation. */
export function isolationProblems(report: RestartReport): string[] {
  return report.nodeMates
    .filter((mate) => mate.change !== 0)
    .map((mate) => `node-mate ${mate.namespace}/${mate.name} ${whatHappened(mate)}`);
}

function whatHappened(mate: RestartChange): string {
  if (mate.change === null) return "was gone after the fault";
  // Counts only grow for one pod, so a fall means a new pod took the name (a StatefulSet's, say).
  if (mate.change < 0) return `restart count fell from ${mate.before} to ${mate.after ?? 0}: a new pod?`;
  return `restarted ${mate.change} time${mate.change === 1 ? "" : "s"}`;
}
