import type { V1ClusterRole, V1PolicyRule, V1Role } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { rm, writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { BroadsideError } from "../core/errors.js";
import { createIfMissing } from "../kube/api-errors.js";
import type { KubeClients } from "../kube/client.js";
import { broadsideNamespace } from "../kube/ledger-store.js";

/**
 * The two identities of a GameDay (docs/board.md, "How to run a GameDay"), made with least privilege so
 * that what the presenter runs is what a cluster would grant:
 *
 * - the operator, a ServiceAccount allowed only `operate` on boards.broadside.dev, in the board's
 *   operator namespace and in each game namespace (a ClusterRole bound by RoleBindings, so nowhere else);
 * - the board, a ServiceAccount with what `broadside board` needs: read pods and workloads, delete and
 *   evict pods, its ledger and kill switch in broadside-system, and TokenReview/SubjectAccessReview
 *   (system:auth-delegator) to check the operator; and for fog and anchor, in each game namespace only
 *   (a ClusterRole bound by RoleBindings there), what the engine's object-fault path uses on ConfigMaps
 *   and workloads (ADR 0026's addendum).
 *
 * Each logs in with a token from the TokenRequest API, never a long-lived Secret.
 */

export const operatorServiceAccount = "gameday-operator";
export const boardServiceAccount = "broadside-board";
export const operatorClusterRole = "broadside-board-operator";
export const boardClusterRole = "broadside-board";
/** Fog and anchor's grants, bound in each game namespace only. */
export const boardDriftClusterRole = "broadside-board-drift";

/** How long the two tokens are valid: longer than any GameDay, short enough not to outlive the week. */
export const gamedayTokenSeconds = 12 * 3600;

const operateBoards: V1PolicyRule = {
  apiGroups: ["broadside.dev"],
  resources: ["boards"],
  verbs: ["operate"],
};

/** What the board reads and does in the cluster (kill and evict paths, the sea's informers). */
export const boardRules: readonly V1PolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  {
    apiGroups: ["apps"],
    resources: ["replicasets", "deployments", "statefulsets", "daemonsets"],
    verbs: ["get", "list", "watch"],
  },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["list"] },
];

/**
 * Fog and anchor (ADR 0028), bound by RoleBindings in the game's namespaces only: exactly the verbs the
 * engine's object-fault path sends. The plan and recovery read the object (get) and change it with a
 * conditional JSON patch (patch); the engine's HealWatch follows it while the drift is on (list and
 * watch, one object by field selector). The workloads' get, list and watch are in boardRules already
 * (the sea reads them), so they add patch only. No create, update or delete: a fog or an anchor never
 * makes or removes an object.
 */
export const boardDriftRules: readonly V1PolicyRule[] = [
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "patch"] },
  { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets"], verbs: ["patch"] },
];

/** The ledger and the kill switch, in broadside-system only. */
export const boardLedgerRules: readonly V1PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["configmaps"],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
  { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "create", "delete"] },
];

export interface GamedayIdentities {
  /** The operator's bearer token, for the operator's login. */
  readonly operatorToken: string;
  /** system:serviceaccount:broadside-system:gameday-operator */
  readonly operatorUser: string;
  /** When both tokens expire (epoch ms). */
  readonly expiresAt: number;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Opts each game namespace in (broadside.dev/chaos=enabled), whatever it held before. */
export async function optIn(kube: KubeClients, namespaces: readonly string[]): Promise<void> {
  for (const name of namespaces) {
    await kube.core.patchNamespace(
      { name, body: { metadata: { annotations: { "broadside.dev/chaos": "enabled" } } } },
      mergePatch,
    );
  }
}

/**
 * Creates (or keeps) both ServiceAccounts and their grants, writes the board's kubeconfig (mode 0600) to
 * `boardKubeconfig`, and returns the operator's token.
 */
export async function setUpIdentities(
  kube: KubeClients,
  options: { readonly namespaces: readonly string[]; readonly boardKubeconfig: string; readonly now: number },
): Promise<GamedayIdentities> {
  await createIfMissing(() =>
    kube.core.createNamespace({ body: { metadata: { name: broadsideNamespace } } }),
  );
  for (const name of [operatorServiceAccount, boardServiceAccount]) {
    await createIfMissing(() =>
      kube.core.createNamespacedServiceAccount({
        namespace: broadsideNamespace,
        body: { metadata: { name } },
      }),
    );
  }
  await grantOperator(kube, options.namespaces);
  await grantBoard(kube, options.namespaces);
  const boardToken = await mintToken(kube, boardServiceAccount);
  await writeBoardKubeconfig(kube, boardToken, options.boardKubeconfig);
  return {
    operatorToken: await mintToken(kube, operatorServiceAccount),
    operatorUser: `system:serviceaccount:${broadsideNamespace}:${operatorServiceAccount}`,
    expiresAt: options.now + gamedayTokenSeconds * 1000,
  };
}

async function grantOperator(kube: KubeClients, namespaces: readonly string[]): Promise<void> {
  await createIfMissing(() =>
    kube.rbac.createClusterRole({ body: clusterRole(operatorClusterRole, [operateBoards]) }),
  );
  for (const namespace of [broadsideNamespace, ...namespaces]) {
    await createIfMissing(() =>
      kube.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: operatorServiceAccount },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: operatorClusterRole },
          subjects: [{ kind: "ServiceAccount", name: operatorServiceAccount, namespace: broadsideNamespace }],
        },
      }),
    );
  }
}

async function grantBoard(kube: KubeClients, namespaces: readonly string[]): Promise<void> {
  const subject = { kind: "ServiceAccount", name: boardServiceAccount, namespace: broadsideNamespace };
  await createIfMissing(() =>
    kube.rbac.createClusterRole({ body: clusterRole(boardClusterRole, boardRules) }),
  );
  for (const [name, role] of [
    [boardClusterRole, boardClusterRole],
    [`${boardClusterRole}-auth-delegator`, "system:auth-delegator"],
  ] as const) {
    await createIfMissing(() =>
      kube.rbac.createClusterRoleBinding({
        body: {
          metadata: { name },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
          subjects: [subject],
        },
      }),
    );
  }
  await createIfMissing(() =>
    kube.rbac.createClusterRole({ body: clusterRole(boardDriftClusterRole, boardDriftRules) }),
  );
  for (const namespace of namespaces) {
    await createIfMissing(() =>
      kube.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: boardDriftClusterRole },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: boardDriftClusterRole,
          },
          subjects: [subject],
        },
      }),
    );
  }
  const ledgerRole: V1Role = { metadata: { name: boardClusterRole }, rules: [...boardLedgerRules] };
  await createIfMissing(() =>
    kube.rbac.createNamespacedRole({ namespace: broadsideNamespace, body: ledgerRole }),
  );
  await createIfMissing(() =>
    kube.rbac.createNamespacedRoleBinding({
      namespace: broadsideNamespace,
      body: {
        metadata: { name: boardClusterRole },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: boardClusterRole },
        subjects: [subject],
      },
    }),
  );
}

function clusterRole(name: string, rules: readonly V1PolicyRule[]): V1ClusterRole {
  return { metadata: { name, labels: { "broadside.dev/gameday": "true" } }, rules: [...rules] };
}

async function mintToken(kube: KubeClients, serviceAccount: string): Promise<string> {
  const minted = await kube.core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: broadsideNamespace,
    body: { spec: { audiences: [], expirationSeconds: gamedayTokenSeconds } },
  });
  const token = minted.status?.token;
  if (token === undefined || token === "") {
    throw new BroadsideError(
      "BRD_KUBE_API",
      `the API server minted no token for ServiceAccount ${serviceAccount}`,
    );
  }
  return token;
}

/** A kubeconfig for the board: the admin kubeconfig's cluster, the board's token; readable by the owner only. */
async function writeBoardKubeconfig(kube: KubeClients, token: string, path: string): Promise<void> {
  const cluster = kube.config.getCurrentCluster();
  if (cluster === null) throw new BroadsideError("BRD_KUBECONFIG", "the kubeconfig has no current cluster");
  const name = "broadside-gameday-board";
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: cluster.server,
          ...(cluster.caData === undefined ? {} : { "certificate-authority-data": cluster.caData }),
          ...(cluster.caFile === undefined ? {} : { "certificate-authority": cluster.caFile }),
          ...(cluster.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
        },
      },
    ],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  };
  await writeSecretFile(path, stringify(document));
}

/**
 * Writes `text` readable by the owner only: a file there before (of any mode) is removed first, and the
 * new one is created exclusively with mode 0600, so the secret is never readable by others, not even
 * for a moment.
 */
export async function writeSecretFile(path: string, text: string): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, text, { mode: 0o600, flag: "wx" });
}
