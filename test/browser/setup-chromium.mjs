#!/usr/bin/env node
// Set-up for the browser tests: Debian's Chromium at /usr/bin/chromium (never a browser build that a test
// tool downloads). `npm test` calls ensureChromium() before the test tiers; run this file on its own to do
// only the set-up. Installs with apt-get when running as root on a machine that has it, with the output in
// a log file and one progress line; otherwise says what to install and reports failure.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apt, canInstall } from "../apt.mjs";

/** Where the browser tests expect Chromium; test/browser/report-page.ts uses the same path. */
export const chromiumPath = "/usr/bin/chromium";

const installHint =
  `Chromium is needed for the browser tests and is not at ${chromiumPath}. Install Debian's package, ` +
  `as root: apt-get update && apt-get install -y --no-install-recommends chromium`;

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
