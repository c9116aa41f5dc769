import { BroadsideError, usageError } from "../core/errors.js";
import { frontDoorHttpUrl, isFrontDoorUrl, parseFrontDoorUrl } from "../experiments/files/front-door-url.js";
import type { HttpProbe, Probe } from "../experiments/files/model.js";
import type { RunPlan } from "../experiments/run/plan.js";
import { sandboxFrontDoors, sandboxStatus } from "../sandbox/sandbox.js";
import type { SandboxName } from "../sandbox/sandbox-name.js";
import { frontDoorPortAnnotation } from "../sandbox/traffic/front-door-port.js";
import type { DoorsReport } from "../sandbox/traffic/front-doors.js";
import { isPortInUse, portInUseError, type PortNeed } from "../sandbox/traffic/port-check.js";
import type { CliConfig } from "./config.js";
import type { CliIo } from "./options.js";
import { sandboxEnvironment } from "./sandbox-commands.js";

/**
 * `broadside run`'s last step before the first request: every http probe whose URL names a front door
 * (front-door://SERVICE.NAMESPACE/PATH, experiments/files/front-door-url.ts) gets the URL of that door
 * on 127.0.0.1, where the sandbox's traffic process says it listens. Not the Service's annotation: that
 * is the port asked for, and a door whose port another program holds would have the probe measure that
 * program. Such a door fails the run at once with BRD_PORT_IN_USE, naming the holder.
 */

export interface DoorLookup {
  /** The sandbox the run is on (--sandbox), for messages; undefined when it is not on one. */
  readonly sandbox: string | undefined;
  /** Its front doors as its traffic process reports them, undefined when that does not answer. */
  readonly doors: () => Promise<DoorsReport | undefined>;
  readonly progress: (line: string) => void;
}

/** The lookup of `broadside run`: the doors of the sandbox named by --sandbox. */
export function sandboxDoorLookup(
  config: CliConfig,
  io: CliIo,
  sandbox: SandboxName | undefined,
): DoorLookup {
  const env = sandboxEnvironment(config, io);
  return {
    sandbox,
    doors: async () =>
      sandbox === undefined ? undefined : sandboxFrontDoors(env, (await sandboxStatus(env, sandbox)).state),
    progress: (line) => {
      io.err(`${line}\n`);
    },
  };
}

const moveRemedy =
  `stop it, or move the door: the Service's ${frontDoorPortAnnotation} annotation ` +
  "(for the demo fleet, broadside demo --front-door-ports)";

function isDoorProbe(probe: Probe): probe is HttpProbe {
  return probe.type === "http" && isFrontDoorUrl(probe.url);
}

/** The plan with every front-door URL resolved; the plan itself when it has none. */
export async function resolveFrontDoors(plan: RunPlan, lookup: DoorLookup): Promise<RunPlan> {
  const probes = plan.hypothesis.probes;
  const first = probes.find(isDoorProbe);
  if (first === undefined) return plan;
  const { sandbox } = lookup;
  if (sandbox === undefined)
    throw usageError(
      `probe ${first.name}: url`,
      `${first.url} names a door of a Broadside sandbox: run with --sandbox NAME`,
    );
  const report = await lookup.doors();
  if (report === undefined) {
    throw new BroadsideError(
      "BRD_SANDBOX_UNHEALTHY",
      `sandbox "${sandbox}": its traffic process does not answer, so front-door URLs cannot be resolved; broadside sandbox up --name ${sandbox} restarts it`,
    );
  }
  const taken: PortNeed[] = [];
  const resolved: Probe[] = [];
  const said: string[] = [];
  for (const probe of probes) {
    if (!isDoorProbe(probe)) {
      resolved.push(probe);
      continue;
    }
    const door = await resolveProbe(probe, report, sandbox, taken);
    resolved.push(door);
    said.push(`probe ${probe.name}: ${probe.url} is ${door.url}`);
  }
  if (taken.length > 0) throw await portInUseError(taken, moveRemedy);
  for (const line of said) lookup.progress(line);
  return { ...plan, hypothesis: { ...plan.hypothesis, probes: resolved } };
}

/** The probe aimed at its door's port; a door blocked by another process is added to `taken`. */
async function resolveProbe(
  probe: HttpProbe,
  report: DoorsReport,
  sandbox: string,
  taken: PortNeed[],
): Promise<HttpProbe> {
  const target = parseFrontDoorUrl(probe.url);
  if ("problem" in target) throw usageError(`probe ${probe.name}: url`, target.problem);
  const { namespace, service } = target;
  const mine = (door: { namespace: string; service: string }): boolean =>
    door.namespace === namespace && door.service === service;
  const open = report.open.find(mine);
  if (open !== undefined) return { ...probe, url: frontDoorHttpUrl(target, open.port) };
  const failed = report.failed.find(mine);
  const what = `the front door of ${namespace}/${service}`;
  if (failed?.port != null && failed.port > 0 && (await isPortInUse(failed.port))) {
    taken.push({ port: failed.port, what: `${what}, probed by ${probe.name}` });
    return probe;
  }
  throw usageError(
    `probe ${probe.name}: url`,
    failed === undefined
      ? `sandbox "${sandbox}" has no front door for service ${namespace}/${service} (a Service labelled broadside.dev/serve=http; is the demo fleet deployed?)`
      : `${what} on sandbox "${sandbox}" could not open: ${failed.reason}`,
  );
}
