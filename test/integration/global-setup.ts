import type { TestProject } from "vitest/node";
import { readConfig } from "../../src/cli/config.js";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { sandboxDown, sandboxNames, sandboxUp, defaultLifecycle } from "../../src/sandbox/sandbox.js";
import { integrationSandboxName } from "./names.js";

declare module "vitest" {
  export interface ProvidedContext {
    adminKubeconfig: string;
    viewerKubeconfig: string;
  }
}

/**
 * One sandbox for the whole integration run: reused when it is already up (a developer's loop),
 * otherwise started here and stopped when the run ends, so no server outlives the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const environment = { ...sandboxEnvironment(readConfig(process.env), processIo), onProgress: log };
  const alreadyUp = (await sandboxNames(environment)).includes(integrationSandboxName);
  const state = await sandboxUp(
    { name: integrationSandboxName, nodes: 3, lifecycle: defaultLifecycle },
    environment,
  );
  project.provide("adminKubeconfig", state.adminKubeconfig);
  project.provide("viewerKubeconfig", state.viewerKubeconfig);
  return async () => {
    if (!alreadyUp) await sandboxDown(environment, integrationSandboxName);
  };
}

function log(message: string): void {
  process.stderr.write(`[integration sandbox] ${message}\n`);
}
