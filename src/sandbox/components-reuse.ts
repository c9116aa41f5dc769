import { stopContext } from "./environment.js";
import { fluxComponentNames, prometheusComponentNames } from "./components.js";
import { wants, type OptionalRequest } from "./components-optional.js";
import { prepareFlux, startFlux, syncFleet, type FluxStage } from "./flux.js";
import { freePorts } from "./ports.js";
import { stopProcess } from "./processes.js";
import { preparePrometheus, startPrometheus } from "./prometheus.js";
import { writeState } from "./state-file.js";

/**
 * `sandbox up --with ...` on a sandbox that is already up: what it lacks is started on it (the cluster
 * is kept), and a Flux it has takes the new `--flux-interval`. Without `--with`, a reused sandbox keeps
 * whatever it runs.
 */
export async function addOptionalComponents(request: OptionalRequest, stage: FluxStage): Promise<void> {
  await addFlux(request, stage);
  await addPrometheus(request, stage);
}

async function addFlux(request: OptionalRequest, stage: FluxStage): Promise<void> {
  if (!wants(request, "flux")) return;
  if (stage.launcher.state.flux !== undefined) {
    if (request.fluxSync !== undefined) await syncFleet(request.fluxSync, stage);
    return;
  }
  stage.env.onProgress(`  adding flux to sandbox "${stage.layout.name}"`);
  const binaries = await prepareFlux(stage.env);
  try {
    await startFlux(binaries, request.fluxSync, stage);
  } catch (error: unknown) {
    stage.env.onProgress(
      `  flux failed to start; stopping its processes (logs kept in ${stage.layout.logsDir})`,
    );
    await removeFlux(stage);
    throw error;
  }
}

/** Prometheus on a sandbox without it; one that has it keeps running as it is. */
async function addPrometheus(request: OptionalRequest, stage: FluxStage): Promise<void> {
  if (!wants(request, "prometheus") || stage.launcher.state.prometheus !== undefined) return;
  stage.env.onProgress(`  adding prometheus to sandbox "${stage.layout.name}"`);
  const binary = await preparePrometheus(stage.env);
  // The sandbox's own ports are bound by its running processes: the kernel hands out none of them.
  const [port = 0] = await freePorts(1);
  try {
    await startPrometheus(binary, port, stage.launcher);
  } catch (error: unknown) {
    stage.env.onProgress(`  prometheus failed to start; stopping it (logs kept in ${stage.layout.logsDir})`);
    await removeComponents(stage, prometheusComponentNames);
    delete stage.launcher.state.prometheus;
    await writeState(stage.layout, stage.launcher.state);
    throw error;
  }
}

/** Stops the named processes and forgets them. */
async function removeComponents(stage: FluxStage, names: readonly string[]): Promise<void> {
  const { state } = stage.launcher;
  for (const name of [...names].reverse()) {
    const process = state.components[name as keyof typeof state.components];
    if (process !== undefined) await stopProcess(process, stopContext(stage.env));
  }
  state.components = Object.fromEntries(
    Object.entries(state.components).filter(([name]) => !names.includes(name)),
  );
}

/** Stops Flux's processes and forgets them: the sandbox runs on as it was before. */
async function removeFlux(stage: FluxStage): Promise<void> {
  await removeComponents(stage, fluxComponentNames);
  delete stage.launcher.state.flux;
  await writeState(stage.layout, stage.launcher.state);
}
