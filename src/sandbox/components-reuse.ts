import type { SandboxEnvironment } from "./environment.js";
import { stopContext } from "./environment.js";
import { fluxComponentNames } from "./components.js";
import { wants, type OptionalRequest } from "./components-optional.js";
import { prepareFlux, startFlux, syncFleet, type FluxStage } from "./flux.js";
import { stopProcess } from "./processes.js";
import { writeState } from "./state-file.js";

/**
 * `sandbox up --with ...` on a sandbox that is already up: what it lacks is started on it (the cluster
 * is kept), and a Flux it has takes the new `--flux-interval`. Without `--with`, a reused sandbox keeps
 * whatever it runs.
 */
export async function addOptionalComponents(request: OptionalRequest, stage: FluxStage): Promise<void> {
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
    await removeFlux(stage.env, stage);
    throw error;
  }
}

/** Stops Flux's processes and forgets them: the sandbox runs on as it was before. */
async function removeFlux(env: SandboxEnvironment, stage: FluxStage): Promise<void> {
  const { state } = stage.launcher;
  for (const name of [...fluxComponentNames].reverse()) {
    const process = state.components[name];
    if (process !== undefined) await stopProcess(process, stopContext(env));
  }
  const isFlux = (name: string): boolean => (fluxComponentNames as readonly string[]).includes(name);
  state.components = Object.fromEntries(Object.entries(state.components).filter(([name]) => !isFlux(name)));
  delete state.flux;
  await writeState(stage.layout, state);
}
