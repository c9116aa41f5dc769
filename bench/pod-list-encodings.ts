// The pods' LIST of a namespace in JSON against protobuf, side by side in one process, alternating round
// by round (ADR 0035): each over a fresh TLS connection as the raw LIST of the shot-latency benchmark is
// (bench/shot-latency/raw.ts), timed from the request to the last byte, then decoded as the wire client
// would: JSON.parse of the text and trimPod of each pod, against decodePodList of the protobuf bytes.
// Run it on a fleet the shot-latency benchmark left up (`--keep`):
//
//   npx tsx bench/pod-list-encodings.ts --kubeconfig K --namespace bench-10000 [--rounds 9]
//     [--limit N] [--decodes D]
//
// --limit asks for one page of N pods; --decodes decodes each answer D times, timed together (a page of
// 500 decoded 20 times is the decoding work of 10,000 pods, for a server too loaded to list them all
// within its request timeout).
//
// Prints one Markdown table of medians (min-max) to stdout; not part of `npm test`.
import type { V1Pod } from "@kubernetes/client-node";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { trimPod } from "../src/kube/trimmed.js";
import { decodePodList, protobufAccept } from "../src/kube/wire/protobuf.js";
import { rawClient, rawRequest } from "./shot-latency/raw.js";

interface Sample {
  readonly transferMs: number;
  readonly decodeMs: number;
  readonly bytes: number;
  readonly pods: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    namespace: { type: "string" },
    rounds: { type: "string", default: "9" },
    limit: { type: "string" },
    decodes: { type: "string", default: "1" },
  },
  strict: true,
});
if (values.kubeconfig === undefined || values.namespace === undefined)
  throw new Error("--kubeconfig and --namespace are required");
const client = await rawClient(values.kubeconfig);
const limit = values.limit === undefined ? "" : `?limit=${Number(values.limit)}`;
const path = `/api/v1/namespaces/${encodeURIComponent(values.namespace)}/pods${limit}`;
const decodes = Number(values.decodes);
const decoders = {
  json: {
    accept: "application/json",
    decode: (body: Buffer): V1Pod[] =>
      ((JSON.parse(body.toString("utf8")) as { items?: V1Pod[] | null }).items ?? []).map(trimPod),
  },
  protobuf: { accept: protobufAccept, decode: decodePodList },
};
const samples: Record<keyof typeof decoders, Sample[]> = { json: [], protobuf: [] };
const loadAtStart = loadavg();
for (let round = -1; round < Number(values.rounds); round += 1) {
  for (const name of ["json", "protobuf"] as const) {
    const answer = await rawRequest(client, "GET", path, decoders[name].accept);
    if (answer.status !== 200) throw new Error(`${name} LIST: HTTP ${answer.status}`);
    const started = performance.now();
    let pods: V1Pod[] = [];
    for (let decode = 0; decode < decodes; decode += 1) pods = decoders[name].decode(answer.body);
    const decodeMs = performance.now() - started;
    if (round >= 0)
      samples[name].push({ transferMs: answer.ms, decodeMs, bytes: answer.body.length, pods: pods.length });
  }
}
const spread = (values: readonly number[]): string =>
  `${Math.round(median(values))} (${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))})`;
const rows = (["json", "protobuf"] as const).map((name) => {
  const of = (pick: (sample: Sample) => number) => samples[name].map(pick);
  return `| ${name} | ${samples[name][0]?.pods ?? 0} | ${(median(of((s) => s.bytes)) / 1e6).toFixed(1)} | ${spread(of((s) => s.transferMs))} | ${spread(of((s) => s.decodeMs))} | ${spread(of((s) => s.transferMs + s.decodeMs))} |`;
});
process.stdout.write(
  [
    "| encoding | pods | MB | request to last byte, ms | decode and trim, ms | both, ms |",
    "| --- | --: | --: | --: | --: | --: |",
    ...rows,
    "",
    `${values.rounds} rounds after one warm-up, each answer decoded ${decodes} time(s), Node ${process.version}, load ${loadAtStart.map((l) => l.toFixed(1)).join(" / ")} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")} at the end`,
    "",
  ].join("\n"),
);
