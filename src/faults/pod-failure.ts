import { z } from "zod";
import { usageError } from "../core/errors.js";
import { namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import type { JsonValue } from "../core/ledger/record.js";
import type { KubeObject, ObjectReader } from "../kube/objects.js";
import { formatPointer, getAtPointer, targetOf } from "../kube/field-access.js";
import { describeObject, describeRef, parseParams, readTarget } from "./plan-support.js";
import type { ObjectFault, ParamNamer, PlannedChange } from "./types.js";

/**
 * pod-failure (Chaos Mesh's PodChaos action of that name): every container and init container of a pod
 * gets a pause image, so the pod stays scheduled but serves nothing and turns unready; at the deadline the
 * original images, digests included, are put back. The API server allows a pod's images to change in
 * place, and the kubelet restarts each changed container with its new image.
 *
 * One change per container: the field is the container's `image`, addressed by index (a pod's containers
 * never move), tested against the image read, so a pod whose image someone else changed meanwhile is left
 * alone. Which pods is the caller's choice (selectors, modes and rails, as pod-kill: engine/pod-failure.ts).
 */

/** The pause image Chaos Mesh and the kubelet use; what a container becomes for the fault's duration. */
export const defaultPauseImage = "registry.k8s.io/pause:3.10";

/**
 * An image reference as the container runtime reads it: [registry[:port]/]path[:tag][@digest]. Checked
 * before any write, so a typo is refused by its flag rather than leaving pods unable to pull.
 */
const imageReference =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$/;

export const pauseImageSchema = z
  .string()
  .max(512, "must be at most 512 characters")
  .regex(imageReference, "must be an image reference such as registry.k8s.io/pause:3.10")
  .describe("The image every container runs for the fault's duration.");

export const podFailureParams = z.strictObject({
  namespace: namespaceNameSchema.describe("The pod's namespace."),
  name: objectNameSchema.describe("The pod's name."),
  pauseImage: pauseImageSchema.optional(),
});

export type PodFailureParams = z.input<typeof podFailureParams>;

export const podFailure: ObjectFault<PodFailureParams> = {
  kind: "pod-failure",

  async plan(objects: ObjectReader, input: PodFailureParams, names: ParamNamer): Promise<PlannedChange[]> {
    const params = parseParams(podFailureParams, input, names);
    const pod = await readTarget(objects, "v1", "Pod", params, names);
    const changes = podFailureChanges(pod, params.pauseImage ?? defaultPauseImage);
    if (changes.length === 0) {
      const what = describeObject("pod", params.namespace, params.name);
      throw usageError(names("pauseImage"), `every container of ${what} runs this image already`);
    }
    return changes;
  },
};

/**
 * The changes that pause one pod, read from the pod as the API server served it: one per container and
 * init container whose image is not the pause image already. Pure: no read, no write.
 */
export function podFailureChanges(pod: KubeObject, pauseImage: string): PlannedChange[] {
  const target = targetOf("v1", "Pod", pod);
  return (["initContainers", "containers"] as const).flatMap((list) =>
    containersOf(pod, list).flatMap(({ index, name, image }): PlannedChange[] => {
      if (image === pauseImage) return [];
      const label = list === "initContainers" ? "init container" : "container";
      return [
        {
          faultKind: "pod-failure",
          target,
          path: formatPointer(["spec", list, String(index), "image"]),
          original: image,
          injected: pauseImage,
          sensitive: false,
          description: `${describeRef(target)} ${label} ${name}: ${JSON.stringify(image)} -> ${JSON.stringify(pauseImage)}`,
        },
      ];
    }),
  );
}

interface ContainerImage {
  readonly index: number;
  readonly name: string;
  readonly image: string;
}

/** The containers of one list with their index (JSON Patch addresses them by it) and image. */
function containersOf(pod: KubeObject, list: "containers" | "initContainers"): ContainerImage[] {
  const listed = getAtPointer(pod, `/spec/${list}`);
  const containers = Array.isArray(listed) ? (listed as readonly JsonValue[]) : [];
  return containers.flatMap((container, index) => {
    const name = getAtPointer(container, "/name");
    const image = getAtPointer(container, "/image");
    // The API server requires an image on every container of a pod; a pod without one has nothing to swap.
    if (typeof image !== "string") return [];
    return [{ index, name: typeof name === "string" ? name : String(index), image }];
  });
}
