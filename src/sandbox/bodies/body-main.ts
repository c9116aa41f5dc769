/**
 * A pod body's process: `ip netns exec <netns> node dist/sandbox/bodies/body-main.js --pod ... --port N`,
 * started by the traffic process (pod-bodies.ts) inside the pod's network namespace. It waits for the
 * line "start" on stdin (sent once it is in its cgroups), then serves the pod's HTTP on 0.0.0.0:<port>
 * (the pod's eth0 and lo: nothing else is in its namespace) and says "listening <port>" on stdout.
 * Behaviour lines on stdin change its answers; when stdin closes it exits 0. Protocol: protocol.ts.
 */
import { createInterface } from "node:readline";
import { describeError } from "../../core/errors.js";
import { PodServer } from "../traffic/pod-server.js";
import { parseBehaviourLine, parseBodyArgs, startLine } from "./protocol.js";

function main(argv: readonly string[]): void {
  let args;
  try {
    args = parseBodyArgs(argv);
  } catch (error: unknown) {
    process.stderr.write(`body: bad arguments: ${describeError(error)}\n`);
    process.exit(2);
  }
  const { identity, port, behaviour } = args;
  let server: PodServer | undefined;
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (server === undefined) {
      if (line !== startLine) return;
      server = new PodServer(identity, behaviour, Math.random, { host: "0.0.0.0", port });
      server.listening.then(
        (bound) => process.stdout.write(`listening ${bound}\n`),
        (error: unknown) => {
          process.stderr.write(`body ${identity.namespace}/${identity.pod}: ${describeError(error)}\n`);
          process.exit(1);
        },
      );
      return;
    }
    const next = parseBehaviourLine(line);
    if (next !== undefined) server.behaviour = next;
  });
  lines.on("close", () => process.exit(0));
}

main(process.argv.slice(2));
