import { access } from "node:fs/promises";
import { get } from "node:http";
import { join } from "node:path";
import { z } from "zod";
import { BroadsideError } from "../core/errors.js";
import type { TrafficProgram } from "./components.js";
import type { DoorsReport } from "./traffic/front-doors.js";

/**
 * The sandbox's sixth component, "traffic": Node running the compiled dist/sandbox/traffic/main.js. The
 * script is found from the package root, so the CLI (running from dist/) and tests (importing src/
 * through vitest) start the same compiled file.
 */
export function trafficProgram(packageRoot: string): TrafficProgram {
  return { node: process.execPath, script: join(packageRoot, "dist", "sandbox", "traffic", "main.js") };
}

/** Throws BRD_PREREQUISITE_MISSING, saying to build, when the compiled traffic script is not there. */
export async function assertTrafficScript(script: string): Promise<void> {
  try {
    await access(script);
  } catch {
    throw new BroadsideError(
      "BRD_PREREQUISITE_MISSING",
      `the sandbox's traffic process ${script} is missing: run \`npm run build\` (npm ci does it too), then sandbox up again`,
    );
  }
}

const doorsSchema = z.object({
  open: z.array(z.object({ namespace: z.string(), service: z.string(), port: z.number().int() })),
  failed: z.array(
    z.object({
      namespace: z.string(),
      service: z.string(),
      port: z.number().int().nullable(),
      reason: z.string(),
    }),
  ),
});

/**
 * The front doors as the traffic process reports them (GET /doors on its health port), or undefined
 * when it does not answer with them (down, or still starting).
 */
export function fetchFrontDoors(healthPort: number, timeoutMs = 2000): Promise<DoorsReport | undefined> {
  return new Promise((resolve) => {
    const request = get(`http://127.0.0.1:${healthPort}/doors`, { timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", () => {
        resolve(undefined);
      });
      response.on("end", () => {
        if (response.statusCode !== 200) {
          resolve(undefined);
          return;
        }
        resolve(parseDoors(Buffer.concat(chunks).toString("utf8")));
      });
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => {
      resolve(undefined);
    });
  });
}

export function parseDoors(text: string): DoorsReport | undefined {
  try {
    const parsed = doorsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
