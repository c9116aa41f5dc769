/** The sandbox the integration tier shares; tests that stop sandboxes use names of their own. */
export const integrationSandboxName = "it";
