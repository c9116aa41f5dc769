import { SandboxName } from "../../src/sandbox/sandbox-name.js";

/**
 * The sandbox the integration tier shares; tests that stop sandboxes use names of their own.
 * BROADSIDE_IT_SANDBOX lets two checkouts on one machine run their integration tiers side by side.
 */
export const integrationSandboxName = SandboxName.parse(
  process.env.BROADSIDE_IT_SANDBOX ?? "it",
  "BROADSIDE_IT_SANDBOX",
);
