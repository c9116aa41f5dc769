import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { apiErrorMessage, contextNamespace, kubeErrorCode, kubeFailure } from "./client.js";

function kubeconfig(namespace: string | undefined): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443" }],
    users: [{ name: "u" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u", ...(namespace === undefined ? {} : { namespace }) }],
    currentContext: "ctx",
  });
  return config;
}

describe("the namespace commands act in without -n", () => {
  it("is the current context's, else default, as kubectl's", () => {
    expect(contextNamespace(kubeconfig("shop"))).toBe("shop");
    expect(contextNamespace(kubeconfig(undefined))).toBe("default");
  });
});

describe("the code of a failed request", () => {
  it("keeps a BroadsideError's own, and tells an unreachable server from one that refused", () => {
    expect(kubeErrorCode(new BroadsideError("BRD_KUBE_API", "refused a value"))).toBe("BRD_KUBE_API");
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    expect(kubeErrorCode(refused)).toBe("BRD_KUBE_UNREACHABLE");
    expect(kubeErrorCode(new ApiException(403, "Forbidden", "{}", {}))).toBe("BRD_KUBE_FORBIDDEN");
    expect(kubeErrorCode(new ApiException(500, "Internal", "{}", {}))).toBe("BRD_KUBE_API");
    expect(kubeErrorCode(new TypeError("a bug"))).toBe("BRD_INTERNAL");
  });

  it("becomes an error that says what failed, with the failure as its cause", () => {
    const cause = new ApiException(403, "Forbidden", "{}", {});
    const failure = kubeFailure("patching configmap shop/app", cause);
    expect(failure).toMatchObject({ code: "BRD_KUBE_FORBIDDEN", cause });
    expect(failure.message).toMatch(/^patching configmap shop\/app: /);
  });
});

describe("a refusal in the API server's own words", () => {
  /** What kube-apiserver sends for a request RBAC denies, as client-node hands it over. */
  const refusal = new ApiException(
    403,
    "Unknown API Status Code!",
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message:
        'pods is forbidden: User "system:serviceaccount:broadside-system:broadside" cannot list resource "pods" in API group "" in the namespace "outside"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    }),
    { "audit-id": "4b1c", "content-type": "application/json" },
  );

  it("names the identity, the verb, the resource and the namespace, and no HTTP header", () => {
    const message = apiErrorMessage(refusal);
    expect(message).toContain("answered 403 (forbidden)");
    expect(message).toContain(
      'User "system:serviceaccount:broadside-system:broadside" cannot list resource "pods" in API group "" in the namespace "outside"',
    );
    expect(message).not.toMatch(/audit-id|content-type|HTTP-Code|Headers/);
  });

  it("still says 403 when the body is no Status", () => {
    expect(apiErrorMessage(new ApiException(403, "Forbidden", "<html>", {}))).toMatch(
      /^the Kubernetes API answered 403 \(forbidden\): forbidden;/,
    );
  });

  it("keeps other statuses' messages, and describes other errors as they are", () => {
    const missing = new ApiException(404, "x", JSON.stringify({ message: 'pods "web" not found' }), {});
    expect(apiErrorMessage(missing)).toBe('the Kubernetes API answered 404: pods "web" not found');
    expect(apiErrorMessage(new Error("socket hang up"))).toBe("socket hang up");
  });
});
