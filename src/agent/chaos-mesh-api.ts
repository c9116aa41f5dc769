import { BroadsideError } from "../core/errors.js";
import type { CrdReader } from "../kube/crds.js";
import { chaosMeshGroup, installedByAnnotation } from "./crds/definitions.js";

/**
 * `broadside agent --serve-chaos-mesh-api`: the agent also reconciles chaos-mesh.org/v1alpha1 resources,
 * through the drop-in CRDs of deploy/crds/chaos-mesh/. Those CRDs carry the annotation
 * `broadside.dev/installed-by: broadside` (agent/crds/generate.ts). Before it watches anything, the agent
 * checks each of them: a CRD without the mark belongs to a real Chaos Mesh, whose controller reconciles
 * the same objects, so two controllers would kill the same pods; a missing CRD would leave the agent
 * watching nothing. Either way it refuses to start.
 */

export const serveChaosMeshApiFlag = "--serve-chaos-mesh-api";
export const chaosMeshApiVersion = `${chaosMeshGroup}/v1alpha1`;
const dropInDirectory = "deploy/crds/chaos-mesh/";

/** Refuses (BRD_CHAOS_MESH_API_REFUSED) unless every CRD in `plurals` exists and is Broadside's. */
export async function checkChaosMeshCrds(reader: CrdReader, plurals: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const plural of plurals) {
    const name = `${plural}.${chaosMeshGroup}`;
    const annotations = await reader.annotationsOf(name);
    if (annotations === undefined) missing.push(name);
    else if (annotations[installedByAnnotation] !== "broadside") throw foreign(name);
  }
  if (missing.length > 0) {
    throw new BroadsideError(
      "BRD_CHAOS_MESH_API_REFUSED",
      `${serveChaosMeshApiFlag}: no CRD ${missing.join(", ")} in the cluster; install Broadside's drop-in CRDs ` +
        `first: kubectl apply --server-side -f ${dropInDirectory}`,
    );
  }
}

function foreign(name: string): BroadsideError {
  return new BroadsideError(
    "BRD_CHAOS_MESH_API_REFUSED",
    `${serveChaosMeshApiFlag}: the CRD ${name} was not installed by Broadside (it lacks the annotation ` +
      `${installedByAnnotation}: broadside): a real Chaos Mesh serves that API, and two controllers would act ` +
      `on the same objects. Run the agent without ${serveChaosMeshApiFlag}, and convert the manifests to ` +
      "broadside.dev with `broadside convert`",
  );
}
