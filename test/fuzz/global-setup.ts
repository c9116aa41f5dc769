import { randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { secretMarker } from "./generators/hostile.js";
import "./settings.js";

/** The API server of the fuzz tier: loopback, on a port only root could listen on and nobody does. */
export const unreachableServer = "https://127.0.0.1:1";

/** Default size of a run: at least 10,000 generated cases in all, shared by the tests by weight. */
const defaultRuns = 10_000;

function positiveInteger(text: string | undefined, variable: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`${variable} must be a whole number, got "${text}"`);
  return Number(text);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ECONNREFUSED");
    });
  });
}

function kubeconfigText(token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: nowhere",
    `  cluster: {server: "${unreachableServer}", insecure-skip-tls-verify: true}`,
    "contexts:",
    "- name: nowhere",
    "  context: {cluster: nowhere, user: fuzz, namespace: default}",
    "current-context: nowhere",
    "users:",
    "- name: fuzz",
    `  user: {token: "${token}"}`,
    "",
  ].join("\n");
}

export default async function setup(project: TestProject): Promise<() => void> {
  if (!(await refused(1))) throw new Error(`the fuzz tier needs ${unreachableServer} to refuse connections`);
  const seed =
    positiveInteger(process.env.BROADSIDE_FUZZ_SEED, "BROADSIDE_FUZZ_SEED") ?? randomInt(2 ** 31 - 1);
  const runs = positiveInteger(process.env.BROADSIDE_FUZZ_RUNS, "BROADSIDE_FUZZ_RUNS") ?? defaultRuns;
  const base = mkdtempSync(join(tmpdir(), "broadside-fuzz-"));
  const root = join(base, "cases");
  mkdirSync(root);
  const secret = secretMarker(seed);
  const kubeconfig = join(base, "unreachable.kubeconfig");
  writeFileSync(kubeconfig, kubeconfigText(secret));
  process.stdout.write(
    `fuzz: seed ${String(seed)}, ${String(runs)} generated cases (replay: BROADSIDE_FUZZ_SEED=${String(seed)} npm run fuzz -- --runs ${String(runs)})\n`,
  );
  project.provide("fuzzSeed", seed);
  project.provide("fuzzRuns", runs);
  project.provide("fuzzRoot", root);
  project.provide("unreachableKubeconfig", kubeconfig);
  project.provide("fuzzSecret", secret);
  project.provide("fuzzSummaryDir", process.env.BROADSIDE_FUZZ_SUMMARY_DIR ?? "");
  return () => {
    rmSync(base, { recursive: true, force: true });
  };
}
