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
