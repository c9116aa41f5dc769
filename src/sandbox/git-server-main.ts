/**
 * The sandbox's Git server (`sandbox up --with flux`): `node dist/sandbox/git-server-main.js --root=DIR
 * --repository=NAME --port=N` serves DIR/NAME.git read-only over git's smart HTTP on 127.0.0.1:N
 * (git-server.ts). Its output, one JSON line per request, goes to the sandbox's logs/git-server.log.
 * Exits 0 on SIGTERM or SIGINT, 2 on bad arguments, 1 when it cannot listen.
 */
import { pino } from "pino";
import { systemClock } from "../core/clock.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { parseGitServerArgs, startGitServer, type GitServer } from "./git-server.js";

const log = pino({ base: { component: "git-server", pid: process.pid } });

async function main(argv: readonly string[]): Promise<void> {
  let server: GitServer;
  try {
    const args = parseGitServerArgs(argv);
    server = await startGitServer(
      { ...args, git: "git", path: process.env.PATH ?? "/usr/bin:/bin" },
      args.port,
      log,
      systemClock,
    );
    log.info({ port: server.port, repository: args.repository }, "listening");
  } catch (error: unknown) {
    const usage = error instanceof BroadsideError && error.code === "BRD_USAGE";
    log.error({ error: describeError(error) }, usage ? "bad arguments" : "git server could not start");
    process.exit(usage ? 2 : 1);
  }
  const stop = (signal: NodeJS.Signals): void => {
    log.info({ signal }, "stopping");
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

await main(process.argv.slice(2));
