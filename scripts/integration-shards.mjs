// How `npm test` splits the integration tier in two, run side by side, each shard against a sandbox of
// its own (most of an integration test's time is waiting for the cluster, so two shards on two cores take
// little more than half the time of one). Types: integration-shards.d.mts; tested by
// integration-shards.test.ts.
//
// The split is by each file's measured duration (seconds, from a CI run's JSON report), longest first to
// the lighter shard. A file not in the table counts as `unmeasured` seconds: add it after its first run.

/** Seconds per file, measured on CI (stop 18, 2026-12-06) and on a workstation for the newest files. */
export const measuredSeconds = {
  "examples.test.ts": 280,
  "fuzz-e2e.test.ts": 182,
  "crash-campaign.test.ts": 92,
  "chaos-cli.test.ts": 83,
  "demo.test.ts": 78,
  "agent.test.ts": 52,
  "agent-object-faults.test.ts": 40,
  "agent-schedule.test.ts": 67,
  "agent-notify.test.ts": 60,
  "agent-chaos-mesh.test.ts": 40,
  "install.test.ts": 47,
  "faults-pods.test.ts": 42,
  "recovery-resilience.test.ts": 33,
  "traffic.test.ts": 28,
  "watch.test.ts": 22,
  "sandbox.test.ts": 21,
  "leader-election.test.ts": 20,
  "sandbox-lifecycle.test.ts": 19,
  "run.test.ts": 18,
  "probes.test.ts": 16,
  "sandbox-names.test.ts": 11,
  "pod-lifecycle.test.ts": 10,
  "fidelity.test.ts": 8,
  "crds.test.ts": 5,
  "faults-objects.test.ts": 3,
  "agent-metrics.test.ts": 1,
  "sandbox-doors.test.ts": 1,
};

export const unmeasured = 30;

/**
 * The files in `count` shards of near-equal measured time, each shard's files in name order. The same
 * files always make the same shards.
 */
export function splitIntoShards(files, count, seconds = measuredSeconds) {
  const weightOf = (file) => seconds[file.split("/").pop()] ?? unmeasured;
  const shards = Array.from({ length: count }, () => ({ files: [], seconds: 0 }));
  const longestFirst = [...files].sort((a, b) => weightOf(b) - weightOf(a) || a.localeCompare(b));
  for (const file of longestFirst) {
    const lightest = shards.reduce((best, shard) => (shard.seconds < best.seconds ? shard : best));
    lightest.files.push(file);
    lightest.seconds += weightOf(file);
  }
  return shards.map((shard) => ({ files: [...shard.files].sort(), seconds: shard.seconds }));
}
