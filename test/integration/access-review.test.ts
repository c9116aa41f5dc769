import { describe, expect, it } from "vitest";
import { ClusterAccessReviewer, type AccessAttributes } from "../../src/kube/access-review.js";
import { adminClients, eventually, useTestNamespace } from "./harness.js";

/*
 * The board's operator logs in with a Kubernetes bearer token (issue 11). The story, on the sandbox's
 * real API server: a ServiceAccount's minted token is recognised for who it is, a forged or altered one
 * is not, a token minted for another audience is refused when the board asks for its own, and the
 * operator's right to act is the cluster's RBAC answer: refused until a RoleBinding grants the verb.
 */

const namespace = useTestNamespace("access");

async function mintToken(audiences: string[] = []): Promise<string> {
  const minted = await adminClients().core.createNamespacedServiceAccountToken({
    name: "operator",
    namespace: namespace(),
    body: { spec: { audiences, expirationSeconds: 600 } },
  });
  return minted.status?.token ?? "";
}

function operate(): AccessAttributes {
  return { group: "broadside.dev", resource: "boards", verb: "operate", namespace: namespace() };
}

describe("operator login through TokenReview and SubjectAccessReview", () => {
  it("knows a ServiceAccount's token for who it is, and refuses a forged or altered one", async () => {
    const kube = adminClients();
    await kube.core.createNamespacedServiceAccount({
      namespace: namespace(),
      body: { metadata: { name: "operator" } },
    });
    const reviewer = new ClusterAccessReviewer(kube);
    const token = await mintToken();

    const verdict = await reviewer.authenticate(token);
    expect(verdict).toMatchObject({
      authenticated: true,
      user: { username: `system:serviceaccount:${namespace()}:operator` },
    });
    if (verdict.authenticated) expect(verdict.user.groups).toContain("system:serviceaccounts");

    expect(await reviewer.authenticate("not-a-token")).toMatchObject({ authenticated: false });
    expect(await reviewer.authenticate(`${token.slice(0, -4)}AAAA`)).toMatchObject({ authenticated: false });
    expect(await reviewer.authenticate("")).toEqual({ authenticated: false, reason: "no token" });
  });

  it("refuses a token minted for another audience when the board names its own", async () => {
    const reviewer = new ClusterAccessReviewer(adminClients(), ["broadside-board"]);
    expect(await reviewer.authenticate(await mintToken())).toMatchObject({ authenticated: false });
    expect(await reviewer.authenticate(await mintToken(["broadside-board"]))).toMatchObject({
      authenticated: true,
    });
  });

  it("lets the cluster's RBAC decide whether the operator may act, and says who may not do what", async () => {
    const kube = adminClients();
    const reviewer = new ClusterAccessReviewer(kube);
    const verdict = await reviewer.authenticate(await mintToken());
    if (!verdict.authenticated) throw new Error(`not authenticated: ${verdict.reason}`);

    expect(await reviewer.authorize(verdict.user, operate())).toEqual({
      allowed: false,
      reason: expect.stringContaining(
        `system:serviceaccount:${namespace()}:operator may not operate boards.broadside.dev in namespace ${namespace()}`,
      ) as string,
    });

    await kube.rbac.createNamespacedRole({
      namespace: namespace(),
      body: {
        metadata: { name: "board-operator" },
        rules: [{ apiGroups: ["broadside.dev"], resources: ["boards"], verbs: ["operate"] }],
      },
    });
    await kube.rbac.createNamespacedRoleBinding({
      namespace: namespace(),
      body: {
        metadata: { name: "board-operator" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "board-operator" },
        subjects: [{ kind: "ServiceAccount", name: "operator", namespace: namespace() }],
      },
    });
    await eventually("the RoleBinding to take effect", async () =>
      (await reviewer.authorize(verdict.user, operate())).allowed ? true : undefined,
    );
    // The grant is for this namespace and this verb only.
    expect(await reviewer.authorize(verdict.user, { ...operate(), verb: "delete" })).toMatchObject({
      allowed: false,
    });
    expect(await reviewer.authorize(verdict.user, { ...operate(), namespace: "default" })).toMatchObject({
      allowed: false,
    });
  });
});
