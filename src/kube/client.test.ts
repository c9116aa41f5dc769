import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { contextNamespace } from "./client.js";

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
