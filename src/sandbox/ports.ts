import { createServer } from "node:net";
import { BroadsideError } from "../core/errors.js";

/** Asks the kernel for a free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", (error: NodeJS.ErrnoException) => {
      reject(noPort(error.code ?? error.message, error));
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(noPort("no port assigned"));
        else resolve(address.port);
      });
    });
  });
}

function noPort(reason: string, cause?: unknown): BroadsideError {
  return new BroadsideError(
    "BRD_SANDBOX_START_FAILED",
    `cannot find a free port on 127.0.0.1 (${reason})`,
    cause === undefined ? undefined : { cause },
  );
}

/** `count` distinct free ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
