import type { Command } from "commander";
import { systemClock } from "../core/clock.js";
import type { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import { countLimits, durationLimits } from "../core/input-limits.js";
import { demoFleetManifests } from "../demo/fleet-manifests.js";
import { systemHost } from "../sandbox/bodies/host.js";
import { podBodiesChoices, type PodBodiesChoice } from "../sandbox/bodies/mode.js";
import { optionalComponents, parseWith, type OptionalComponent } from "../sandbox/components-optional.js";
import type { FluxState } from "../sandbox/flux-state.js";
import type { PrometheusState } from "../sandbox/prometheus-state.js";
import { systemProc } from "../sandbox/liveness.js";
import { SandboxName } from "../sandbox/sandbox-name.js";
import {
  defaultLifecycle,
  sandboxBuild,
  sandboxDown,
  sandboxFrontDoors,
  sandboxNames,
  sandboxStatus,
  sandboxUp,
  type ComponentStatus,
  type SandboxEnvironment,
} from "../sandbox/sandbox.js";
import type { BodiesState } from "../sandbox/state-file.js";
import type { DoorsReport } from "../sandbox/traffic/front-doors.js";
import { assertDoorsNotBlocked } from "../sandbox/traffic/port-check.js";
import type { CliConfig } from "./config.js";
import { formatTable } from "./table.js";
import { choiceOption, durationOption, integerOption, type CliIo } from "./options.js";

export const defaultSandboxName = SandboxName.parse("default", "--name");

/** The --name option's parser: a name that is not a sandbox name is refused (exit 2) before anything runs. */
export function sandboxNameOption(flag: string): (value: string) => SandboxName {
  return (value) => SandboxName.parse(value, flag);
}

export function sandboxEnvironment(config: CliConfig, io: CliIo): SandboxEnvironment {
  return {
    stateRoot: config.stateDir,
    packageRoot: config.packageRoot,
    openssl: config.opensslBinary,
    build: {
      cacheDir: config.cacheDir,
      goModulesDir: config.goModulesDir,
      goBinary: config.goBinary,
      baseEnv: config.env,
    },
    onProgress: (message) => {
      io.err(`${message}\n`);
    },
    clock: systemClock,
    proc: systemProc,
    host: systemHost,
    uid: process.geteuid?.(),
  };
}

interface UpOptions {
  name: SandboxName;
  nodes: number;
  podReadyDelay: Duration;
  podReadyJitter: Duration;
  podShutdownDelay: Duration;
  podBodies: PodBodiesChoice;
  with: OptionalComponent[];
  fluxInterval?: Duration;
}

export function registerSandboxCommands(program: Command, config: CliConfig, io: CliIo): void {
  const env = sandboxEnvironment(config, io);
  const sandbox = program
    .command("sandbox")
    .description(
      "A local Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler) with kwok nodes and real HTTP on loopback",
    );

  sandbox
    .command("build")
    .description(
      "Build what `up` builds on first use (the control plane, and optional components), without starting anything",
    )
    .option(
      "--with <components>",
      `optional components to build too, comma-separated (${optionalComponents.join(", ")})`,
      parseWith,
      [],
    )
    .action(async (options: { with: OptionalComponent[] }) => {
      await sandboxBuild(env, options.with);
      const built = ["the control plane", ...options.with].join(", ");
      io.out(`built and cached in ${config.cacheDir}: ${built}\n`);
    });

  sandbox
    .command("up")
    .description("Build the binaries if missing, start the sandbox (or reuse it), create fake nodes")
    .option("--name <name>", "sandbox name", sandboxNameOption("--name"), defaultSandboxName)
    .option("--nodes <n>", "number of fake nodes", integerOption("--nodes", countLimits.sandboxNodes), 3)
    .option(
      "--pod-ready-delay <duration>",
      "minimum time from scheduling to Ready",
      durationOption("--pod-ready-delay", durationLimits.sandboxLifecycle),
      defaultLifecycle.readyDelay,
    )
    .option(
      "--pod-ready-jitter <duration>",
      "random extra time to Ready, up to this",
      durationOption("--pod-ready-jitter", durationLimits.sandboxLifecycle),
      defaultLifecycle.readyJitter,
    )
    .option(
      "--pod-shutdown-delay <duration>",
      "minimum time a deleted pod takes to exit (never beyond its grace period)",
      durationOption("--pod-shutdown-delay", durationLimits.sandboxLifecycle),
      defaultLifecycle.shutdownDelay,
    )
    .option(
      "--pod-bodies <mode>",
      "auto, netns (each serving pod in its own network namespace and cgroup; root) or loopback",
      choiceOption("--pod-bodies", podBodiesChoices),
      "auto",
    )
    .option(
      "--with <components>",
      `optional components to run too, comma-separated (${optionalComponents.join(", ")}); built on first use`,
      parseWith,
      [],
    )
    .option(
      "--flux-interval <duration>",
      "put the demo fleet under a Flux Kustomization reconciled this often (needs --with flux)",
      durationOption("--flux-interval", durationLimits.fluxInterval),
    )
    .action(async (options: UpOptions) => {
      const interval = options.fluxInterval;
      const state = await sandboxUp(
        {
          name: options.name,
          nodes: options.nodes,
          podBodies: options.podBodies,
          with: options.with,
          ...(interval === undefined ? {} : { fluxSync: { interval, manifests: demoFleetManifests() } }),
          lifecycle: {
            ...defaultLifecycle,
            readyDelay: options.podReadyDelay,
            readyJitter: options.podReadyJitter,
            shutdownDelay: options.podShutdownDelay,
          },
        },
        env,
      );
      io.out(`sandbox "${state.name}" is up at ${state.apiServer}\n`);
      io.out(`  kubectl --kubeconfig ${state.adminKubeconfig} get nodes\n`);
      io.out(`  pod bodies: ${describeBodies(state.bodies)}\n`);
      if (state.flux !== undefined) io.out(`  flux: ${describeFlux(state.flux)}\n`);
      if (state.prometheus !== undefined) io.out(`  prometheus: ${describePrometheus(state.prometheus)}\n`);
      await assertDoorsNotBlocked(await sandboxFrontDoors(env, state), state.name);
    });

  sandbox
    .command("kubeconfig")
    .description("Print the path of the sandbox's kubeconfig (admin, or the pod-reading viewer)")
    .option("--name <name>", "sandbox name", sandboxNameOption("--name"), defaultSandboxName)
    .option("--user <user>", "admin or viewer", choiceOption("--user", ["admin", "viewer"] as const), "admin")
    .action(async (options: { name: SandboxName; user: "admin" | "viewer" }) => {
      const { state } = await sandboxStatus(env, options.name);
      io.out(`${options.user === "admin" ? state.adminKubeconfig : state.viewerKubeconfig}\n`);
    });

  sandbox
    .command("status")
    .description("Report each component (pid, port, healthy) and the front doors; exit 3 when one is down")
    .option("--name <name>", "sandbox name", sandboxNameOption("--name"), defaultSandboxName)
    .option(
      "-o, --output <format>",
      "table or json",
      choiceOption("--output", ["table", "json"] as const),
      "table",
    )
    .action(async (options: { name: SandboxName; output: "table" | "json" }) => {
      const { state, components } = await sandboxStatus(env, options.name);
      const frontDoors = (await sandboxFrontDoors(env, state)) ?? null;
      const down = components.filter((component) => !component.healthy);
      if (options.output === "json") {
        const { name, apiServer, versions } = state;
        const flux = state.flux ?? null;
        const prometheus = state.prometheus ?? null;
        const report = { name, apiServer, versions, components, frontDoors, flux, prometheus };
        io.out(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        io.out(statusTable(components));
        if (frontDoors !== null) io.out(`\n${doorsTable(frontDoors)}`);
      }
      if (down.length > 0) {
        throw new BroadsideError(
          "BRD_SANDBOX_UNHEALTHY",
          `sandbox "${state.name}": ${down.map((c) => `${c.name} is ${c.running ? "unhealthy" : "down"}`).join(", ")}`,
        );
      }
    });

  sandbox
    .command("down")
    .description("Stop every process of the sandbox (by pid) and remove its state")
    .option("--name <name>", "sandbox name", sandboxNameOption("--name"), defaultSandboxName)
    .action(async (options: { name: SandboxName }) => {
      const wasUp = await sandboxDown(env, options.name);
      io.out(
        wasUp
          ? `sandbox "${options.name}" stopped and removed\n`
          : `no sandbox named "${options.name}"; nothing to stop\n`,
      );
    });

  sandbox
    .command("list")
    .description("Names of the sandboxes on this machine")
    .action(async () => {
      for (const name of await sandboxNames(env)) io.out(`${name}\n`);
    });
}

/** `sandbox up`'s line on how pods answer. */
export function describeBodies(bodies: BodiesState | undefined): string {
  if (bodies === undefined) return "loopback (listeners on 127.0.0.1; a sandbox started before pod bodies)";
  if (bodies.mode === "loopback") return `loopback (listeners on 127.0.0.1: ${bodies.reason})`;
  return `netns (each serving pod in its own network namespace on bridge ${bodies.bridge}, pod CIDR ${bodies.podCidr}, cgroup ${bodies.cgroups})`;
}

/** `sandbox up`'s line on Flux: its repository, and what it keeps in sync. */
export function describeFlux(flux: FluxState): string {
  const sync =
    flux.sync === undefined
      ? "nothing under a Kustomization yet (--flux-interval puts the demo fleet there)"
      : `Kustomization ${flux.sync.kustomization} applies ${flux.sync.path}/ every ${flux.sync.interval} (at ${flux.sync.revision})`;
  return `${flux.version}, repository ${flux.gitUrl} (work tree ${flux.workTree}); ${sync}`;
}

/** `sandbox up`'s line on Prometheus: its API, and where Broadside's processes are listed for it. */
export function describePrometheus(prometheus: PrometheusState): string {
  return `${prometheus.version}, API ${prometheus.url}; scrapes the control plane, Flux when it runs, and the Broadside processes listed in ${prometheus.targetsDir}/broadside-*.json`;
}

function statusTable(components: readonly ComponentStatus[]): string {
  const status = (c: ComponentStatus): string => (c.healthy ? "healthy" : c.running ? "unhealthy" : "down");
  return formatTable(
    ["COMPONENT", "PID", "PORT", "STATUS"],
    components.map((c) => [c.name, String(c.pid ?? "-"), String(c.port ?? "-"), status(c)]),
  );
}

/** One row per front door: open ones with their URL, failed ones with the reason. */
function doorsTable(doors: DoorsReport): string {
  if (doors.open.length === 0 && doors.failed.length === 0) {
    return "no front doors (label a Service and its pods broadside.dev/serve=http)\n";
  }
  return formatTable(
    ["FRONT DOOR", "URL", "STATUS"],
    [
      ...doors.open.map((d) => [`${d.namespace}/${d.service}`, `http://127.0.0.1:${d.port}/`, "open"]),
      ...doors.failed.map((d) => [
        `${d.namespace}/${d.service}`,
        d.port === null || d.port === 0 ? "-" : `http://127.0.0.1:${d.port}/`,
        `failed: ${d.reason}`,
      ]),
    ],
  );
}
