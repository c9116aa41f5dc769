// `broadside` from the sources, for corpus entries that need a process of their own (their environment is
// the whole of the process's): node --import tsx test/fuzz/harness/cli-process.ts ARGS...
import { runCli } from "../adapters.js";

process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
