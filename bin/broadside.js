#!/usr/bin/env node
// The `broadside` command: runs the bundled CLI (npm ci builds dist/ through the prepare script: tsc,
// then scripts/bundle.mjs). ADR 0020.
import module from "node:module";

// Node 22.1 and later keep the code they compiled in a cache on disk and skip compiling it on the next
// start; Node 20 has no such cache, and nothing happens there.
module.enableCompileCache?.();

// client-node's HTTP stack loads `punycode` and calls `url.parse()`, which Node 22 and later deprecate
// at run time (DEP0040, DEP0169). A user can do nothing about either, and the warnings would come before
// every command's own first line on stderr; only these two codes are dropped, every other warning stays.
const dependencyDeprecations = new Set(["DEP0040", "DEP0169"]);
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const [typeOrOptions, code] = rest;
  const warningCode = typeof typeOrOptions === "object" && typeOrOptions !== null ? typeOrOptions.code : code;
  if (!dependencyDeprecations.has(warningCode)) emitWarning(warning, ...rest);
};

const { main } = await import("../dist/bundle/main.js");
process.exitCode = await main(process.argv, process.env);
