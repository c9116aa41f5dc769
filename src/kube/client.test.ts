import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { contextNamespace, kubeErrorCode, kubeFailure } from "./client.js";

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
    expect(kubeErrorCode(new ApiException(403, "Forbidden", "{}", {}))).toBe("BRD_KUBE_API");
    expect(kubeErrorCode(new TypeError("a bug"))).toBe("BRD_INTERNAL");
  });

  it("becomes an error that says what failed, with the failure as its cause", () => {
    const cause = new ApiException(403, "Forbidden", "{}", {});
    const failure = kubeFailure("patching configmap shop/app", cause);
    expect(failure).toMatchObject({ code: "BRD_KUBE_API", cause });
    expect(failure.message).toMatch(/^patching configmap shop\/app: /);
  });
});
