import { usageError } from "../core/errors.js";
import { namespaceName } from "../core/names.js";
import { defaultProtectedNamespaces } from "../core/targeting/rails.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { collectionPath } from "../kube/watch/source.js";

/**
 * Where the agent watches and acts (docs/agent.md, "Namespaced or cluster mode"): every namespace
 * (cluster mode), or the namespaces of `--watch-namespaces` (namespaced mode, the chart's default), where
 * each kind is watched per namespace, so that Roles in those namespaces are all the RBAC it needs.
 */
export type WatchScope = readonly string[] | "all";

export const watchNamespacesFlag = "--watch-namespaces";

/**
 * `--watch-namespaces a,b`: namespace names, comma-separated, each once. A protected namespace is refused
 * here rather than silently never touched, so a typo in a Helm value shows at start-up.
 */
export function parseWatchNamespaces(text: string): readonly string[] {
  const names = text.split(",").map((name) => name.trim());
  if (names.some((name) => name === "")) {
    throw usageError(watchNamespacesFlag, `expected namespace names separated by commas, got "${text}"`);
  }
  for (const name of names) {
    namespaceName(name, watchNamespacesFlag);
    if (name === broadsideNamespace || defaultProtectedNamespaces.includes(name)) {
      throw usageError(watchNamespacesFlag, `namespace ${name} is protected and is never a target`);
    }
  }
  return [...new Set(names)];
}

/** The collections a kind is watched through: one cluster-wide, or one per namespace of the scope. */
export function watchedCollections(apiVersion: string, plural: string, scope: WatchScope): string[] {
  if (scope === "all") return [collectionPath(apiVersion, plural)];
  return scope.map((namespace) => collectionPath(apiVersion, plural, namespace));
}
