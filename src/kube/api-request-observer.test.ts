import { describe, expect, it } from "vitest";
import { apiVerb } from "./api-request-observer.js";

describe("apiVerb names a request as RBAC and the audit log do", () => {
  const base = "https://127.0.0.1:6443";
  it.each([
    ["GET", "/api/v1/namespaces/shop/pods/web-1", "get"],
    ["GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb", "list"],
    ["GET", "/api/v1/pods", "list"],
    ["GET", "/api/v1/namespaces", "list"],
    ["GET", "/api/v1/namespaces/shop", "get"],
    ["GET", "/apis/apps/v1/namespaces/shop/deployments/web", "get"],
    ["GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale", "get"],
    ["GET", "/apis/apps/v1/deployments", "list"],
    ["GET", "/api/v1/namespaces/shop/pods?watch=true&resourceVersion=12", "watch"],
    ["GET", "/version", "get"],
    ["POST", "/api/v1/namespaces/shop/pods/web-1/eviction", "create"],
    ["POST", "/api/v1/namespaces/shop/configmaps", "create"],
    ["PUT", "/api/v1/namespaces/shop/configmaps/ledger", "update"],
    ["PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "patch"],
    ["DELETE", "/api/v1/namespaces/shop/pods/web-1", "delete"],
    ["DELETE", "/api/v1/namespaces/shop/pods", "deletecollection"],
    ["HEAD", "/api/v1/namespaces/shop/pods", "other"],
    ["OPTIONS", "/api/v1/pods", "other"],
  ])("%s %s is %s", (method, path, verb) => {
    expect(apiVerb(method, `${base}${path}`)).toBe(verb);
  });
});
