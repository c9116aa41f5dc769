// apt-get for the test set-up scripts (test/browser/setup-chromium.mjs, test/integration/
// setup-network-tools.mjs): whether this machine can install Debian packages, and one apt-get command
// run with its output appended to a log file. argv arrays only, never a shell.
import { appendFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const aptGet = "apt-get";

/** Root, with apt-get on the PATH. */
export function canInstall() {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(aptGet, ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

/** Runs one apt-get command with its output appended to the log; returns whether it succeeded. */
export function apt(args, logFile) {
  appendFileSync(logFile, `\n$ ${aptGet} ${args.join(" ")}\n`);
  const result = spawnSync(aptGet, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    maxBuffer: 64 * 1024 * 1024,
  });
  appendFileSync(logFile, `${result.stdout ?? ""}${result.stderr ?? ""}`);
  if (result.error !== undefined) appendFileSync(logFile, `${String(result.error)}\n`);
  return result.status === 0;
}
