import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tiers with their own runs: unit tests sit beside the code they test and need nothing but Node; browser
// tests live in test/browser and open pages in Debian's headless Chromium (`npm test` installs it);
// integration tests live in test/integration and run against one real sandbox cluster per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // scripts/ holds the closing count of npm test, tested like code.
          include: ["src/**/*.test.ts", "scripts/**/*.test.ts"],
        },
      },
      {
        test: {
          // Generated hostile input against the CLI, the parser and the planner, no cluster needed; seeded
          // (BROADSIDE_FUZZ_SEED) and sized (BROADSIDE_FUZZ_RUNS) by test/fuzz/global-setup.ts.
          name: "fuzz",
          include: ["test/fuzz/**/*.test.ts"],
          globalSetup: ["test/fuzz/global-setup.ts"],
          // Each case runs in a directory of its own as its working directory: process.chdir needs a
          // process per worker, not a thread.
          pool: "forks",
          testTimeout: 600_000,
          // A case that drops --kubeconfig must find no cluster, never the developer's.
          env: {
            KUBECONFIG: fileURLToPath(new URL("test/fuzz/fixtures/unreachable.kubeconfig", import.meta.url)),
          },
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One sandbox per run: files share it, so run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
