import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { BroadsideError } from "../core/errors.js";
import { componentNames } from "./components.js";
import { fluxStateSchema } from "./flux-state.js";
import { prometheusStateSchema } from "./prometheus-state.js";
import { isLoopbackUrl, serverChecks } from "./health.js";
import type { StartedProcess } from "./liveness.js";
import type { SandboxLayout } from "./state-dir.js";

/**
 * The shape of state.json. Bumped whenever the shape changes, so a sandbox started by another Broadside
 * is reported as such instead of misread. 1: no `format` field (before etcd had TLS); 2: etcd with TLS
 * (health check "etcd-mtls").
 */
export const stateFormat = 2;

const componentStateSchema = z.object({
  pid: z.number().int().positive(),
  binary: z.string().min(1),
  /** The script an interpreter runs (the traffic process); /proc must show it too. */
  script: z.string().optional(),
  args: z.array(z.string()),
  port: z.number().int().min(1).max(65_535),
  healthUrl: z.string().refine(isLoopbackUrl, "must be an http(s) URL on 127.0.0.1"),
  healthCheck: z.enum(serverChecks),
  logFile: z.string(),
});
/** How the sandbox's pods answer: real bodies on a bridge, or loopback listeners (and why). */
const bodiesStateSchema = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("netns"),
    podCidr: z.string(),
    bridge: z.string(),
    gateway: z.string(),
    cgroups: z.enum(["v1", "v2"]),
    /** The pod-ready delay: a restarted body is ready this long after it runs. Absent in older sandboxes: 0. */
    readyDelayMs: z.number().int().nonnegative().optional(),
  }),
  z.object({ mode: z.literal("loopback"), reason: z.string() }),
]);
export type BodiesState = z.infer<typeof bodiesStateSchema>;

const stateSchema = z.object({
  format: z.literal(stateFormat),
  name: z.string(),
  createdAt: z.string(),
  versions: z.object({ kubernetes: z.string(), etcd: z.string(), kwok: z.string() }),
  nodes: z.number().int(),
  apiServer: z.string(),
  adminKubeconfig: z.string(),
  viewerKubeconfig: z.string(),
  components: z.partialRecord(z.enum(componentNames), componentStateSchema),
  /** Absent in sandboxes started before pod bodies: loopback listeners. */
  bodies: bodiesStateSchema.optional(),
  /** Only with `sandbox up --with flux`. */
  flux: fluxStateSchema.optional(),
  /** Only with `sandbox up --with prometheus`. */
  prometheus: prometheusStateSchema.optional(),
});
export type SandboxState = z.infer<typeof stateSchema>;
export type ComponentState = z.infer<typeof componentStateSchema>;

/** What `down` needs of a state file of any format: the processes to stop. */
const stoppableSchema = z.object({
  components: z.record(
    z.string(),
    z.object({ pid: z.number().int().positive(), binary: z.string().min(1), script: z.string().optional() }),
  ),
});

/** Where a state file lives: for messages that name it and say what to run. */
export type StateSource = Pick<SandboxLayout, "name" | "stateFile" | "dir">;

/** Parses state.json's text; anything else than a state of this format is BRD_SANDBOX_STATE_INVALID naming the file. */
export function parseState(text: string, source: StateSource): SandboxState {
  const json = parseJson(text, source);
  const format = formatOf(json);
  if (format !== stateFormat) {
    throw stateInvalid(
      source,
      `it was written by another version of Broadside (state format ${format === undefined ? "1" : JSON.stringify(format)}; this one reads ${stateFormat})`,
    );
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw stateInvalid(source, `it is damaged (${issue?.message ?? "invalid"}${where})`);
  }
  return parsed.data;
}

/** The processes a state file of any format lists by component, for `down`; BRD_SANDBOX_STATE_INVALID when unreadable. */
export function parseStoppable(text: string, source: StateSource): Record<string, StartedProcess> {
  const parsed = stoppableSchema.safeParse(parseJson(text, source, manualCleanUp(source)));
  if (!parsed.success) {
    throw stateInvalid(
      source,
      "it is damaged: the processes to stop cannot be read from it",
      undefined,
      manualCleanUp(source),
    );
  }
  return parsed.data.components;
}

/** The state file's text, or undefined when there is none; unreadable is BRD_SANDBOX_STATE_INVALID. */
export async function readStateText(layout: SandboxLayout): Promise<string | undefined> {
  try {
    return await readFile(layout.stateFile, "utf8");
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw stateInvalid(layout, `it cannot be read (${code ?? "error"})`, error, manualCleanUp(layout));
  }
}

export async function readState(layout: SandboxLayout): Promise<SandboxState | undefined> {
  const text = await readStateText(layout);
  return text === undefined ? undefined : parseState(text, layout);
}

/** Written to a temporary file and renamed into place, so a reader never sees half a state. */
export async function writeState(layout: SandboxLayout, state: SandboxState): Promise<void> {
  const temporary = `${layout.stateFile}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state, null, 2), { mode: 0o600 });
  await rename(temporary, layout.stateFile);
}

function parseJson(text: string, source: StateSource, hint?: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw stateInvalid(source, `it is damaged (not JSON: ${reason})`, error, hint);
  }
}

function formatOf(json: unknown): unknown {
  return typeof json === "object" && json !== null && "format" in json ? json.format : undefined;
}

/** What to do when even `down` cannot tell the sandbox's processes. */
function manualCleanUp(source: StateSource): string {
  return `stop the processes whose command line names ${source.dir} (pgrep -af ${source.dir}), then remove that directory`;
}

function stateInvalid(source: StateSource, problem: string, cause?: unknown, hint?: string): BroadsideError {
  const whatToDo =
    hint ??
    `run \`broadside sandbox down --name ${source.name}\` (it stops the processes the file lists), then \`up\` again`;
  return new BroadsideError(
    "BRD_SANDBOX_STATE_INVALID",
    `${source.stateFile}: ${problem}; ${whatToDo}`,
    cause === undefined ? undefined : { cause },
  );
}
