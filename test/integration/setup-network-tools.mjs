#!/usr/bin/env node
// Set-up for the network faults' integration tests (issue 12): Debian's nftables (`nft`) and iproute2
// (`tc`, `ip`), which the node daemon runs inside the sandbox's pod namespaces. `npm test` calls
// ensureNetworkTools() before the test tiers, and test/integration/network-chaos.test.ts calls it again;
// run this file on its own to do only the set-up. Installs with apt-get (after apt-get update) when
// running as root on a machine that has it, with the output in a log file and one progress line;
// otherwise says what to install and reports failure.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apt, canInstall } from "../apt.mjs";

/** Each tool, where Debian's package puts it, and the package. */
export const networkTools = [
  { tool: "nft", paths: ["/usr/sbin/nft", "/sbin/nft"], pkg: "nftables" },
  { tool: "tc", paths: ["/usr/sbin/tc", "/sbin/tc"], pkg: "iproute2" },
  { tool: "ip", paths: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"], pkg: "iproute2" },
];

function missing() {
  return networkTools.filter((each) => !each.paths.some((path) => existsSync(path)));
}

/**
 * Makes sure nft, tc and ip are installed. Returns { ok: true } when they are (already, or after
 * installing), or { ok: false, message } saying what is missing and what to do.
 */
export function ensureNetworkTools({
  logDir = ".test-results",
  write = (line) => process.stdout.write(line),
} = {}) {
  const absent = missing();
  if (absent.length === 0) return { ok: true };
  const packages = [...new Set(absent.map((each) => each.pkg))];
  const hint =
    `${absent.map((each) => each.tool).join(", ")} missing: the network faults' tests need them. ` +
    `Install Debian's packages, as root: apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (!canInstall())
    return { ok: false, message: `${hint} (not running as root with apt-get here, so not installed)` };
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, "network-tools-install.log");
  write(`Installing ${packages.join(", ")} with apt-get for the network faults' tests (log: ${logFile})\n`);
  const installed =
    apt(["update"], logFile) &&
    apt(["install", "-y", "--no-install-recommends", ...packages], logFile) &&
    missing().length === 0;
  return installed
    ? { ok: true }
    : { ok: false, message: `apt-get could not install them; see ${logFile}. ${hint}` };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = ensureNetworkTools({
    logDir: resolve(dirname(fileURLToPath(import.meta.url)), "../../.test-results"),
  });
  if (result.ok) process.stdout.write("nft, tc, ip: installed\n");
  else {
    process.stderr.write(`${result.message}\n`);
    process.exitCode = 1;
  }
}
