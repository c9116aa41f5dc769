// Builds of Broadside against each other: cold `broadside kill` shots by each build in turn, round by
// round, on a fleet the shot-latency benchmark left up (`npm run bench -- --keep`), to tell what one
// change to the CLI is worth under the same noise (ADR 0024, addendum).
//
//   npx tsx bench/shot-latency-ab.ts --kubeconfig K --namespace bench-100 [--rounds 15] [--raw] NAME=DIR ...
//
// Each DIR is a checkout with a built dist/ (npm ci or npm run build); its bin/broadside.js is run by the
// Node that runs this script, with the shot-latency benchmark's argv. After every shot the victim is
// replaced as the benchmark does, so every shot sees the same fleet. Prints one Markdown table (medians
// of the rounds: spawn to DELETE accepted, spawn to exit, CPU time, API requests) to stdout and writes
// every shot to bench/results/shot-latency-ab-<start time>.json. --raw adds the benchmark's raw LIST +
// DELETE to every round (shots.ts rawShot) and each build's median as a ratio of the raw one's: issue
// 14's "within 1.5x of raw" for each build under the same noise.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "../src/kube/client.js";
import { replaceVictim, type Fleet } from "./shot-latency/fleet.js";
import { rawClient, type RawClient } from "./shot-latency/raw.js";
import { broadsideShot, rawShot, type ShotMeasurement, type ShotTarget } from "./shot-latency/shots.js";
import { repoRoot } from "./settings.js";

interface Build {
  readonly name: string;
  readonly root: string;
}

function parseBuilds(specs: readonly string[]): Build[] {
  if (specs.length === 0) throw new Error("name at least one build: NAME=DIR");
  return specs.map((spec) => {
    const [name, dir, ...rest] = spec.split("=");
    if (name === undefined || name === "" || dir === undefined || dir === "" || rest.length > 0)
      throw new Error(`"${spec}" is not NAME=DIR`);
    return { name, root: resolve(dir) };
  });
}

/** The fleet as it stands: every pod of the namespace with its node; replacements named after the last. */
async function currentFleet(kube: ReturnType<typeof connect>, namespace: string): Promise<Fleet> {
  const pods = await kube.core.listNamespacedPod({ namespace });
  const nodes = new Map(pods.items.map((pod) => [pod.metadata?.name ?? "", pod.spec?.nodeName ?? ""]));
  const replaced = [...nodes.keys()].map((name) => Number(/-r(\d+)$/.exec(name)?.[1] ?? 0));
  return { namespace, selector: `app=${namespace}`, nodes, replacements: Math.max(0, ...replaced) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function row(name: string, shots: readonly ShotMeasurement[], raw: readonly ShotMeasurement[]): string {
  const of = (pick: (shot: ShotMeasurement) => number | undefined) =>
    Math.round(median(shots.map(pick).filter((value): value is number => value !== undefined)));
  const latency = shots.map((shot) => shot.latencyMs);
  const ratio =
    raw.length === 0 ? "" : ` ${(median(latency) / median(raw.map((shot) => shot.latencyMs))).toFixed(2)} |`;
  return `| ${name} | ${of((s) => s.latencyMs)} (${Math.round(Math.min(...latency))}-${Math.round(Math.max(...latency))}) | ${of((s) => s.exitMs)} | ${of((s) => s.cpuMs)} | ${of((s) => s.requestsToDelete)} |${ratio}`;
}

/** A random pod of the fleet, for the raw DELETE (which, unlike the tools, is told its victim). */
function anyPod(fleet: Fleet): string {
  const names = [...fleet.nodes.keys()];
  const name = names[Math.floor(Math.random() * names.length)];
  if (name === undefined) throw new Error(`${fleet.namespace} has no pod left`);
  return name;
}

interface Stage {
  readonly kube: ReturnType<typeof connect>;
  readonly fleet: Fleet;
  readonly target: ShotTarget;
  readonly scratch: string;
}

/** One shot by each build in turn, then (with --raw) the raw one, each victim replaced after it. */
async function playRound(
  builds: readonly Build[],
  raw: RawClient | undefined,
  { kube, fleet, target, scratch }: Stage,
): Promise<{ shots: [string, ShotMeasurement][]; raw: ShotMeasurement | undefined }> {
  const shots: [string, ShotMeasurement][] = [];
  for (const build of builds) {
    const shot = await broadsideShot(build.root, target, scratch);
    await replaceVictim(kube, fleet, shot.victim);
    shots.push([build.name, shot]);
  }
  return { shots, raw: raw === undefined ? undefined : await rawRound(raw, kube, fleet, target) };
}

/** The raw LIST + DELETE of a random pod of the fleet, the victim then replaced as after every shot. */
async function rawRound(
  raw: RawClient,
  kube: ReturnType<typeof connect>,
  fleet: Fleet,
  target: ShotTarget,
): Promise<ShotMeasurement> {
  const shot = await rawShot(raw, target, anyPod(fleet));
  await replaceVictim(kube, fleet, shot.victim);
  return shot;
}

/** The Markdown table: a row per build, and with --raw the raw shot's row and each build's ratio to it. */
function tableOf(
  builds: readonly Build[],
  shots: ReadonlyMap<string, ShotMeasurement[]>,
  rawShots: readonly ShotMeasurement[] | undefined,
): string[] {
  const header =
    rawShots === undefined
      ? `| build | to DELETE, ms median (min-max) | to exit, ms | CPU, ms | requests to DELETE |\n| --- | --: | --: | --: | --: |`
      : `| build | to DELETE, ms median (min-max) | to exit, ms | CPU, ms | requests to DELETE | / raw |\n| --- | --: | --: | --: | --: | --: |`;
  const rows = builds.map((build) => row(build.name, shots.get(build.name) ?? [], rawShots ?? []));
  if (rawShots !== undefined) rows.push(row("raw LIST + DELETE", rawShots, rawShots));
  return [header, ...rows];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string" },
      rounds: { type: "string", default: "15" },
      raw: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.kubeconfig === undefined || values.namespace === undefined)
    throw new Error("--kubeconfig and --namespace are required");
  const rounds = Number(values.rounds);
  const builds = parseBuilds(positionals);
  const kube = connect({
    kubeconfigPath: values.kubeconfig,
    limits: { qps: 500, burst: 1000, maxRetries: 5 },
  });
  const fleet = await currentFleet(kube, values.namespace);
  const target = { kubeconfig: values.kubeconfig, namespace: fleet.namespace, selector: fleet.selector };
  const scratch = await mkdtemp(join(tmpdir(), "broadside-ab-"));
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const shots = new Map<string, ShotMeasurement[]>(builds.map((build) => [build.name, []]));
  const raw = values.raw ? await rawClient(values.kubeconfig) : undefined;
  const rawShots: ShotMeasurement[] = [];
  try {
    // One warm-up round, not counted: Node's compile cache of each build is written on its first run.
    for (let round = -1; round < rounds; round += 1) {
      const played = await playRound(builds, raw, { kube, fleet, target, scratch });
      if (round >= 0) {
        for (const [name, shot] of played.shots) shots.get(name)?.push(shot);
        rawShots.push(...(played.raw === undefined ? [] : [played.raw]));
      }
      process.stderr.write(`[ab] round ${round + 1} of ${rounds}\n`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const rows = tableOf(builds, shots, raw === undefined ? undefined : rawShots);
  process.stdout.write(
    `${rows.join("\n")}\n\nnamespace ${fleet.namespace}, ${fleet.nodes.size} pods, ${rounds} rounds, Node ${process.version}, load ${loadAtStart.map((l) => l.toFixed(1)).join(" / ")} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")} at the end\n`,
  );
  const dir = join(repoRoot, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, "-");
  await writeFile(
    join(dir, `shot-latency-ab-${stamp}Z.json`),
    `${JSON.stringify({ startedAt, node: process.version, loadAtStart, loadAtEnd: loadavg(), namespace: fleet.namespace, pods: fleet.nodes.size, rounds, builds, shots: Object.fromEntries(shots), raw: rawShots }, null, 2)}\n`,
  );
}

await main();
