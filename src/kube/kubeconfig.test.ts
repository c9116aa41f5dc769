import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { loadKubeconfig } from "./kubeconfig.js";

function kubeconfigText(server: string, context = "ctx"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `current-context: ${context}`,
    "clusters: [{name: c, cluster: {server: " + JSON.stringify(server) + "}}]",
    "users: [{name: u, user: {token: t}}]",
    `contexts: [{name: ${context}, context: {cluster: c, user: u, namespace: shop}}]`,
  ].join("\n");
}

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), "broadside-kubeconfig-"));
}

function refusal(attempt: () => unknown): BroadsideError {
  try {
    attempt();
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("finding the kubeconfig as kubectl does, and saying what was looked for", () => {
  it("takes --kubeconfig first", () => {
    const home = tempHome();
    writeFileSync(join(home, "flag.yaml"), kubeconfigText("https://127.0.0.1:6443", "from-flag"));
    const config = loadKubeconfig({ flagPath: join(home, "flag.yaml"), home, inCluster: false });
    expect(config.getCurrentContext()).toBe("from-flag");
  });

  it("merges the existing files of KUBECONFIG and skips missing ones", () => {
    const home = tempHome();
    writeFileSync(join(home, "a.yaml"), kubeconfigText("https://127.0.0.1:6443", "a"));
    const list = [join(home, "missing.yaml"), join(home, "a.yaml")].join(":");
    expect(loadKubeconfig({ envKubeconfig: list, home, inCluster: false }).getCurrentContext()).toBe("a");
  });

  it("falls back to ~/.kube/config", () => {
    const home = tempHome();
    mkdirSync(join(home, ".kube"));
    writeFileSync(join(home, ".kube", "config"), kubeconfigText("https://127.0.0.1:6443", "home"));
    expect(loadKubeconfig({ home, inCluster: false }).getCurrentContext()).toBe("home");
  });

  it("with nothing to find, says where it looked and how to point at a cluster (exit 2)", () => {
    const home = tempHome();
    const error = refusal(() => loadKubeconfig({ home, inCluster: false }));
    expect(error.code).toBe("BRD_KUBECONFIG");
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`${join(home, ".kube", "config")} does not exist`);
    expect(error.message).toContain("broadside sandbox up");
  });

  it("names --kubeconfig when its file is missing, instead of an ENOENT", () => {
    const home = tempHome();
    const error = refusal(() => loadKubeconfig({ flagPath: join(home, "nope"), home, inCluster: false }));
    expect(error.message).toBe(`--kubeconfig: there is no file at ${join(home, "nope")}`);
  });

  it("names KUBECONFIG when none of its files exists", () => {
    const home = tempHome();
    const error = refusal(() => loadKubeconfig({ envKubeconfig: "/nope/a:/nope/b", home, inCluster: false }));
    expect(error.message).toMatch(/^KUBECONFIG: none of its files exists \(\/nope\/a, \/nope\/b\)/);
  });

  it("refuses a file that is not a kubeconfig, naming it", () => {
    const home = tempHome();
    writeFileSync(join(home, "bad.yaml"), "{{{ not yaml");
    const error = refusal(() => loadKubeconfig({ flagPath: join(home, "bad.yaml"), home, inCluster: false }));
    expect(error.message).toContain(`--kubeconfig: ${join(home, "bad.yaml")} is not a usable kubeconfig`);
  });

  it("refuses a plain-http API server rather than failing later with a TLS message", () => {
    const home = tempHome();
    writeFileSync(join(home, "http.yaml"), kubeconfigText("http://localhost:8080"));
    const error = refusal(() =>
      loadKubeconfig({ flagPath: join(home, "http.yaml"), home, inCluster: false }),
    );
    expect(error.message).toContain("is served over http, not https");
  });
});
