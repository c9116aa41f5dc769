/**
 * Who healed a drift, by the field manager of the update that restored it (its managedFields entry): a
 * GitOps controller reconciling the object back to Git, a person with kubectl, Broadside's own revert at
 * the deadline (or on halt), or someone else. The scoreboard counts heals by these classes, and names the
 * managers themselves too.
 */

export const healerClasses = ["gitops", "kubectl", "broadside", "other"] as const;
export type HealerClass = (typeof healerClasses)[number];

/** Broadside's own field manager (kube/objects.ts `fieldManager`): its revert. */
export const broadsideManager = "broadside";

/**
 * The field managers of GitOps controllers as they write: Flux's controllers (kustomize-controller,
 * helm-controller), Argo CD's application controller (argocd-controller when it applies server-side,
 * argocd-application-controller otherwise), and Fleet's agent.
 */
const gitopsManagers: readonly RegExp[] = [
  /^kustomize-controller$/,
  /^helm-controller$/,
  /^flux(-|$)/,
  /^argocd(-|$)/,
  /^fleet-agent$/,
];

/** kubectl and its subcommands' managers: kubectl, kubectl-edit, kubectl-client-side-apply, kubectl-patch. */
const kubectlManager = /^kubectl(-|$)/;

/** The class of a field manager; an unknown or missing manager is "other". */
export function classifyManager(manager: string | undefined): HealerClass {
  if (manager === undefined) return "other";
  if (manager === broadsideManager) return "broadside";
  if (gitopsManagers.some((pattern) => pattern.test(manager))) return "gitops";
  if (kubectlManager.test(manager)) return "kubectl";
  return "other";
}
