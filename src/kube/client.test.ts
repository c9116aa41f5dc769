import {
  ApiException,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type Configuration,
} from "@kubernetes/client-node";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { contextNamespace, listWire } from "./client.js";
import { apiErrorMessage, kubeErrorCode, kubeFailure } from "./api-errors.js";
import { defaultApiRateLimits, throttledHttpLibrary, type RequestCounter } from "./throttled-http.js";

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

describe("listWire: a LIST as the wire's JSON, through the typed clients' HTTP layer", () => {
  /** A stand-in API server on 127.0.0.1 over plain HTTP: one namespace lists, another is forbidden. */
  async function standIn(): Promise<{
    server: Server;
    configuration: Configuration;
    counter: RequestCounter;
  }> {
    const server = createServer((request, response) => {
      response.setHeader("content-type", "application/json");
      if (request.url === "/api/v1/namespaces/shop/pods") {
        response.end(
          JSON.stringify({
            kind: "PodList",
            apiVersion: "v1",
            metadata: { resourceVersion: "7" },
            items: [
              { metadata: { name: "web-0", namespace: "shop", creationTimestamp: "2026-12-07T03:00:00Z" } },
            ],
          }),
        );
        return;
      }
      response.statusCode = 403;
      response.end(
        JSON.stringify({
          kind: "Status",
          code: 403,
          reason: "Forbidden",
          message: 'pods is forbidden: User "viewer" cannot list resource "pods" in the namespace "vault"',
        }),
      );
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "ctx", cluster: "c", user: "u" }],
      currentContext: "ctx",
    });
    // As connect() builds it, except that connect() refuses plain HTTP, which this stand-in speaks.
    const counter: RequestCounter = { requests: 0 };
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(`http://127.0.0.1:${port}`, {}),
      authMethods: { default: config },
      httpApi: throttledHttpLibrary(defaultApiRateLimits, systemClock, counter),
    });
    return { server, configuration, counter };
  }

  it("hands over the items as sent (timestamps stay strings) and counts the request", async () => {
    const { server, configuration, counter } = await standIn();
    try {
      const pods = await listWire<{ metadata: { name: string; creationTimestamp: unknown } }>(
        configuration,
        "/api/v1/namespaces/shop/pods",
      );
      expect(pods).toEqual([
        { metadata: { name: "web-0", namespace: "shop", creationTimestamp: "2026-12-07T03:00:00Z" } },
      ]);
      expect(counter.requests).toBe(1);
    } finally {
      server.close();
    }
  });

  it("fails as a typed call would: 403 is BRD_KUBE_FORBIDDEN in the API server's own words", async () => {
    const { server, configuration } = await standIn();
    try {
      const failure = await listWire(configuration, "/api/v1/namespaces/vault/pods").catch(
        (error: unknown) => error,
      );
      expect(kubeErrorCode(failure)).toBe("BRD_KUBE_FORBIDDEN");
      expect(apiErrorMessage(failure)).toContain('User "viewer" cannot list resource "pods"');
    } finally {
      server.close();
    }
  });
});
