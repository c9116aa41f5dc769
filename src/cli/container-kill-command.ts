import { BroadsideError, usageError } from "../core/errors.js";
import { containerNameSchema } from "../core/schemas.js";
import { runContainerKill } from "../engine/container-kill.js";
import { parseParams } from "../faults/plan-support.js";
import { connectForPods } from "./chaos-commands.js";
import type { PodTargetFlags } from "./chaos-flags.js";
import type { CliConfig } from "./config.js";
import { containerKillResultJson, printContainerKillResult } from "./container-kill-output.js";
import type { CliIo } from "./options.js";

/** `kill --container`: every flag checked first, then the pods chosen as `kill` chooses them (ADR 0029). */
export async function killContainers(
  config: CliConfig,
  io: CliIo,
  pods: readonly string[],
  flags: PodTargetFlags & { container: string },
): Promise<void> {
  const container = parseParams(containerNameSchema, flags.container, () => "--container");
  if (flags.gracePeriod !== undefined)
    throw usageError("--grace-period", "does not go with --container: the container is killed with SIGKILL");
  if (flags.maxShots !== undefined) throw usageError("--max-shots", "does not go with --container");
  const { ctx, scope, selector, mode } = await connectForPods(config, io, flags, pods);
  const result = await runContainerKill(ctx, {
    scope,
    selector,
    mode,
    containers: [container],
    containersField: "--container",
    dryRun: flags.dryRun,
    wait: flags.wait,
    timeout: flags.timeout,
  });
  if (flags.output === "json")
    io.out(`${JSON.stringify(containerKillResultJson(flags.dryRun, result, flags.explain), null, 2)}\n`);
  else printContainerKillResult(io, flags.dryRun, result, flags.explain);
  const refused = result.kills.filter((kill) => !kill.outcome.accepted);
  if (refused.length > 0) {
    const reasons = [...new Set(refused.map((kill) => (kill.outcome.accepted ? "" : kill.outcome.reason)))];
    throw new BroadsideError(
      "BRD_SHOT_REFUSED",
      `${refused.length} of ${result.kills.length} container kill(s) refused: ${reasons.join("; ")}`,
    );
  }
}
