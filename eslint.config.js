// Lint: zero warnings allowed (npm run lint passes --max-warnings 0).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const argvOnly = {
  selector: "Property[key.name='shell'][value.value=true]",
  message: "Spawn processes with argv arrays, never through a shell.",
};

// One clock (src/core/clock.ts): code takes the time from the Clock it is given, so tests can step it.
const wallClockRead = {
  selector: "NewExpression[callee.name='Date'][arguments.length=0]",
  message: "new Date() reads the wall clock: take the time from the injected Clock (new Date(clock.now())).",
};
const dateNow = {
  object: "Date",
  property: "now",
  message: "Take the time from the injected Clock (src/core/clock.ts); only systemClock reads Date.now().",
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "sandbox/go/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      complexity: ["error", 10],
      // @kubernetes/client-node models are classes, but its serializer takes plain object literals,
      // which is how its own examples build them.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-restricted-syntax": ["error", argvOnly],
    },
  },
  {
    // Unit tests included: they step a FakeClock, or name systemClock when they time something real.
    files: ["src/**/*.ts"],
    ignores: [
      // The clock itself, and its test, which checks the real clock against the wall clock.
      "src/core/clock.ts",
      "src/core/clock.test.ts",
    ],
    rules: {
      "no-restricted-properties": ["error", dateNow],
      "no-restricted-syntax": ["error", argvOnly, wallClockRead],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly" },
    },
  },
);
