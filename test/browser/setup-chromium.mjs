#!/usr/bin/env node
// Set-up for the browser tests: Debian's Chromium at /usr/bin/chromium (never a browser build that a test
// tool downloads). `npm test` calls ensureChromium() before the test tiers; run this file on its own to do
// only the set-up. Installs with apt-get when running as root on a machine that has it, with the output in
// a log file and one progress line; otherwise says what to install and reports failure.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the browser tests expect Chromium; test/browser/report-page.ts uses the same path. */
export const chromiumPath = "/usr/bin/chromium";

const aptGet = "apt-get";
const installHint =
  `Chromium is needed for the browser tests and is not at ${chromiumPath}. Install Debian's package, ` +
  `as root: apt-get update && apt-get install -y --no-install-recommends chromium`;

/** Root, with apt-get on the PATH. */
function canInstall() {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(aptGet, ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

/** Runs one apt-get command with its output appended to the log; returns whether it succeeded. */
function apt(args, logFile) {
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

/**
 * Makes sure Chromium is at chromiumPath. Returns { ok: true } when it is (already, or after installing),
 * or { ok: false, message } saying what to do.
 */
export function ensureChromium({
  logDir = ".test-results",
  write = (line) => process.stdout.write(line),
} = {}) {
  if (existsSync(chromiumPath)) return { ok: true };
  if (!canInstall()) {
    return { ok: false, message: `${installHint} (not running as root with apt-get here, so not installed)` };
  }
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, "chromium-install.log");
  write(`Installing Chromium with apt-get for the browser tests (log: ${logFile})\n`);
  const installed =
    apt(["update"], logFile) &&
    apt(["install", "-y", "--no-install-recommends", "chromium"], logFile) &&
    existsSync(chromiumPath);
  return installed
    ? { ok: true }
    : { ok: false, message: `apt-get could not install Chromium; see ${logFile}. ${installHint}` };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = ensureChromium({
    logDir: resolve(dirname(fileURLToPath(import.meta.url)), "../../.test-results"),
  });
  if (result.ok) {
    process.stdout.write(`Chromium: ${chromiumPath}\n`);
  } else {
    process.stderr.write(`${result.message}\n`);
    process.exitCode = 1;
  }
}
