/**
 * The sandbox's traffic process: `node dist/sandbox/traffic/main.js --kubeconfig PATH --health-port N`.
 * `sandbox up` starts it as the component "traffic" with its output in logs/traffic.log: one JSON line
 * per event (pino). Exits 0 on SIGTERM or SIGINT once every door and listener is closed, 2 on bad
 * arguments, 1 when it cannot start.
 */
import { pino } from "pino";
import { systemClock } from "../../core/clock.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import { connect } from "../../kube/client.js";
import { bodiesSetup } from "../bodies/setup.js";
import { parseDaemonArgs, startDaemon } from "./daemon.js";
import type { Daemon } from "./daemon.js";

const log = pino({ base: { component: "traffic", pid: process.pid } });

async function main(argv: readonly string[]): Promise<void> {
  let daemon: Daemon;
  try {
    const args = parseDaemonArgs(argv);
    const kube = connect({ kubeconfigPath: args.kubeconfig });
    const bodies = args.bodies === undefined ? undefined : await bodiesSetup(args.bodies, kube);
    daemon = await startDaemon(args, kube, log, {
      clock: systemClock,
      ...(bodies === undefined ? {} : { bodies }),
    });
  } catch (error: unknown) {
    const usage = error instanceof BroadsideError && error.code === "BRD_USAGE";
    log.error({ error: describeError(error) }, usage ? "bad arguments" : "traffic could not start");
    process.exit(usage ? 2 : 1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ error: describeError(error) }, "stopping failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  daemon.ready.catch((error: unknown) => {
    if (stopping) return;
    log.error({ error: describeError(error) }, "traffic could not start");
    process.exit(1);
  });
}

await main(process.argv.slice(2));
