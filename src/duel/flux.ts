import type { Clock } from "../core/clock.js";
import type { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import type { PlannedChange } from "../faults/types.js";
import { getAtPointer, targetOf } from "../kube/field-access.js";
import type { KubeObject, ObjectReader } from "../kube/objects.js";
import { ownedBy, type GitOpsDefender } from "./gitops.js";

/**
 * Flux as a duel's defender: a Kustomization of kustomize-controller, which server-side-applies what Git
 * holds every `spec.interval` (and at once when its spec changes), as field manager
 * `kustomize-controller`. helm-controller's HelmRelease would be a sibling of this class.
 */

export const kustomizationApiVersion = "kustomize.toolkit.fluxcd.io/v1";
const intervalPath = "/spec/interval";
/** How often a wait for a reconcile looks at the Kustomization: setup only, never a measurement. */
const pollMs = 250;

export interface FluxDefenderOptions {
  readonly objects: ObjectReader;
  readonly clock: Clock;
  readonly namespace: string;
  readonly name: string;
}

export class FluxDefender implements GitOpsDefender {
  readonly controller = "flux";
  readonly managers = ["kustomize-controller"] as const;
  readonly description: string;

  constructor(private readonly options: FluxDefenderOptions) {
    this.description = `Flux Kustomization ${options.namespace}/${options.name}`;
  }

  async check(): Promise<void> {
    const object = await this.read();
    const ready = readyCondition(object);
    if (ready?.status !== "True") {
      const why =
        ready === undefined ? "it has no Ready condition yet" : `Ready is ${ready.status}: ${ready.message}`;
      throw new BroadsideError("BRD_DUEL_GITOPS", `${this.description} is not ready (${why})`);
    }
  }

  async planInterval(interval: Duration): Promise<PlannedChange[]> {
    const object = await this.read();
    const original = getAtPointer(object, intervalPath);
    const injected = interval.toString();
    if (original === injected) return [];
    const target = targetOf(kustomizationApiVersion, "Kustomization", object);
    return [
      {
        faultKind: "gitops-interval",
        target,
        path: intervalPath,
        original,
        injected,
        sensitive: false,
        description: `kustomization ${target.namespace}/${target.name} spec.interval: ${JSON.stringify(original)} -> "${injected}"`,
      },
    ];
  }

  async awaitReconciled(timeoutMs: number): Promise<void> {
    const { clock } = this.options;
    const until = clock.now() + timeoutMs;
    for (;;) {
      const object = await this.read();
      const generation = getAtPointer(object, "/metadata/generation");
      const observed = getAtPointer(object, "/status/observedGeneration");
      if (observed === generation && readyCondition(object)?.status === "True") return;
      if (clock.now() >= until) {
        throw new BroadsideError(
          "BRD_DUEL_GITOPS",
          `${this.description} did not reconcile generation ${JSON.stringify(generation)} within ${timeoutMs} ms (observed ${JSON.stringify(observed)})`,
        );
      }
      await clock.sleep(pollMs);
    }
  }

  defines(object: KubeObject, pointer: string): boolean {
    return ownedBy(object, pointer, this.managers);
  }

  private async read(): Promise<KubeObject> {
    const { namespace, name } = this.options;
    const object = await this.options.objects.read({
      apiVersion: kustomizationApiVersion,
      kind: "Kustomization",
      namespace,
      name,
    });
    if (object === undefined) {
      throw new BroadsideError(
        "BRD_DUEL_GITOPS",
        `${this.description} does not exist; spec.gitops names the Kustomization that applies the objects attacked`,
      );
    }
    return object;
  }
}

interface Condition {
  readonly status: string;
  readonly message: string;
}

function readyCondition(object: KubeObject): Condition | undefined {
  const conditions = getAtPointer(object, "/status/conditions");
  if (!Array.isArray(conditions)) return undefined;
  for (const condition of conditions as readonly unknown[]) {
    const { type, status, message } = (condition ?? {}) as Record<string, unknown>;
    if (type === "Ready")
      return { status: String(status), message: typeof message === "string" ? message : "" };
  }
  return undefined;
}
