import { join } from "node:path";
import type { Command } from "commander";
import { hostname } from "node:os";
import { pino } from "pino";
import { describeError, usageError } from "../core/errors.js";
import { objectName } from "../core/names.js";
import { defaultProtectedNamespaces } from "../core/targeting/rails.js";
import { CriFinder } from "../daemon/cri-finder.js";
import { NodeDaemon } from "../daemon/daemon.js";
import type { ProcessFinder } from "../daemon/finder.js";
import { FileJournal } from "../daemon/journal.js";
import { systemProcessTable } from "../daemon/proc.js";
import { systemArgvRunner } from "../daemon/run-argv.js";
import { NodeProxyLauncher } from "../daemon/proxy-launcher.js";
import { NodeStressHost } from "../daemon/stress-launcher.js";
import { systemProcessLister } from "../daemon/orphan-proxies.js";
import { SandboxRecordsFinder } from "../daemon/sandbox-finder.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { ConfigMapNodeWork } from "../kube/node-work-store.js";
import { systemHost } from "../sandbox/bodies/host.js";
import { FileRecords } from "../sandbox/bodies/records.js";
import { SandboxName } from "../sandbox/sandbox-name.js";
import { sandboxLayout } from "../sandbox/state-dir.js";
import type { CliConfig } from "./config.js";
import { addClusterFlags, type ClusterFlags } from "./engine-context.js";
import { connectEngine } from "./engine-setup.js";
import { choiceOption, type CliIo } from "./options.js";

interface DaemonFlags extends ClusterFlags {
  readonly node: string;
  readonly runtime: "cri" | "sandbox";
  readonly sandbox?: string;
  readonly journal: string;
  readonly crictl: string;
  readonly runtimeEndpoint: string;
}

/** How long a stopping daemon waits for its watches and the work in hand before it exits anyway. */
const stopGraceMs = 10_000;

/** Where the DaemonSet's hostPath keeps the journal on a real node. */
export const defaultJournalDir = "/var/lib/broadside/daemon";

/**
 * `broadside daemon --node NAME` (ADR 0029, docs/daemon.md): the node daemon. It acts only on the work
 * objects labelled with its node, journals each before acting, and answers on the object. SIGTERM and
 * SIGINT stop it after the work in hand (exit 0); a SIGKILLed daemon finishes its journal on the next start.
 */
export function registerDaemonCommand(program: Command, config: CliConfig, io: CliIo): void {
  addClusterFlags(program.command("daemon"))
    .description("Run the node daemon: kill containers (and, later, shape traffic and stress) on this node")
    .requiredOption("--node <name>", "the node this daemon serves (in a DaemonSet: spec.nodeName)")
    .option(
      "--runtime <runtime>",
      "how containers' processes are found: cri (crictl over the CRI socket) or sandbox (a sandbox's pod bodies)",
      choiceOption("--runtime", ["cri", "sandbox"] as const),
      "cri",
    )
    .option("--sandbox <name>", "with --runtime sandbox: the sandbox whose pod bodies this node runs")
    .option("--journal <dir>", "the node-local journal's directory", defaultJournalDir)
    .option("--crictl <path>", "with --runtime cri: the crictl binary", "crictl")
    .option(
      "--runtime-endpoint <url>",
      "with --runtime cri: the CRI socket",
      "unix:///run/containerd/containerd.sock",
    )
    .action(async (flags: DaemonFlags) => {
      const node = objectName(flags.node, "--node");
      const proxyScript = join(config.packageRoot, "dist", "daemon", "proxy-main.js");
      const finder = finderOf(config, flags);
      const connected = connectEngine(config, io, flags);
      const log = pino({ base: { component: "daemon", node } }, pino.destination(2));
      const daemon = new NodeDaemon({
        node,
        namespace: broadsideNamespace,
        watches: connected.ctx.watches,
        store: new ConfigMapNodeWork(connected.kube.core, broadsideNamespace),
        journal: new FileJournal(flags.journal),
        finder,
        processes: systemProcessTable,
        runner: systemArgvRunner,
        ledger: connected.ctx.ledger,
        scratchDir: flags.journal,
        proxies: new NodeProxyLauncher({ node: process.execPath, script: proxyScript }, flags.journal),
        orphanScan: { lister: systemProcessLister, script: proxyScript, journalDir: flags.journal },
        stressors: new NodeStressHost(
          { node: process.execPath, script: join(config.packageRoot, "dist", "daemon", "stress-main.js") },
          flags.journal,
        ),
        halt: connected.ctx.halt,
        clock: connected.ctx.clock,
        protectedNamespaces: [...defaultProtectedNamespaces, broadsideNamespace],
        self: { host: hostname(), pid: process.pid },
        log: (message, fields) => {
          log.info(fields ?? {}, message);
        },
        failpoint: (name) => {
          if (`daemon-${name}` === config.failpoint) process.kill(process.pid, "SIGKILL");
        },
      });
      const stopped = new Promise<void>((resolve) => {
        process.once("SIGTERM", resolve);
        process.once("SIGINT", resolve);
      });
      // A signal while it starts (an API server that does not answer keeps start waiting) stops it too.
      const starting = daemon.start();
      const first = await Promise.race([
        starting.then(() => "started" as const),
        stopped.then(() => "signalled" as const),
      ]);
      if (first === "started") await stopped;
      else starting.catch(() => undefined);
      log.info({}, "stopping");
      // Bounded: what it holds is in its journal, and the next start reverts or holds it again.
      setTimeout(() => {
        log.warn(
          {},
          `not stopped after ${String(stopGraceMs / 1000)} s; exiting, the journal keeps what it holds`,
        );
        process.exit(0);
      }, stopGraceMs).unref();
      await daemon.stop().catch((error: unknown) => {
        log.warn({ err: describeError(error) }, "stopping");
      });
    });
}

/** The finder the flags ask for; checked before the first request. */
function finderOf(config: CliConfig, flags: DaemonFlags): ProcessFinder {
  if (flags.runtime === "cri") {
    if (flags.sandbox !== undefined) throw usageError("--sandbox", "goes with --runtime sandbox only");
    return new CriFinder(
      { crictl: flags.crictl, endpoint: flags.runtimeEndpoint },
      systemArgvRunner,
      systemProcessTable,
    );
  }
  if (flags.sandbox === undefined) throw usageError("--sandbox", "is required with --runtime sandbox");
  const sandbox = SandboxName.parse(flags.sandbox, "--sandbox");
  const layout = sandboxLayout(config.stateDir, sandbox);
  return new SandboxRecordsFinder(sandbox, new FileRecords(layout.bodiesDir), systemHost, systemProcessTable);
}
