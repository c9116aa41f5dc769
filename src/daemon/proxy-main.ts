/*
 * The proxy backend's process (ADR 0039): `nsenter --net=<pod netns> -- node dist/daemon/proxy-main.js
 * --config <json>`, started by the node daemon. Prints one ready line (JSON: the pod ports and the proxy's
 * ports) on stdout once it listens, then nothing more there; exits at the config's `untilMs`, on SIGTERM,
 * and on any error before it is ready (exit 1, the reason on stderr).
 */
import { configArgument } from "./config-argument.js";
import { systemClock } from "../core/clock.js";
import { proxyUid } from "./network.js";
import { proxyConfigSchema, startProxy } from "./proxy.js";

/**
 * Started as root, the proxy takes its own uid and gid (ADR 0041) before it opens any socket: the output
 * redirect of a filtered delay exempts that uid, and it needs no root. Everything it loads is loaded by
 * now, so Node and Broadside's files need not be readable by that uid.
 */
function dropToProxyUid(): void {
  if (process.getuid?.() !== 0) return;
  process.setgroups?.([proxyUid]);
  process.setgid?.(proxyUid);
  process.setuid?.(proxyUid);
}

const config = configArgument(process.argv, proxyConfigSchema, "proxy");
process.stdout.on("error", () => undefined);
try {
  dropToProxyUid();
  const { ready } = await startProxy(config);
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  setTimeout(
    () => {
      process.exit(0);
    },
    Math.max(0, config.untilMs - systemClock.now()),
  );
} catch (error: unknown) {
  process.stderr.write(`broadside proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.once("SIGTERM", () => process.exit(0));
