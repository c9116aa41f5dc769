import { defineConfig } from "vitest/config";

// Two tiers with their own scripts: unit tests sit beside the code they test and need nothing but Node;
// integration tests live in test/integration and run against one real sandbox cluster per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
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
