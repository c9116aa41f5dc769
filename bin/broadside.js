#!/usr/bin/env node
// The `broadside` command: runs the bundled CLI (npm ci builds dist/ through the prepare script: tsc,
// then scripts/bundle.mjs). ADR 0020.
import module from "node:module";

// Node 22.1 and later keep the code they compiled in a cache on disk and skip compiling it on the next
// start; Node 20 has no such cache, and nothing happens there.
module.enableCompileCache?.();

const { main } = await import("../dist/bundle/main.js");
process.exitCode = await main(process.argv, process.env);
