import type { V1ConfigMap } from "@kubernetes/client-node";
import type { HaltHold, HaltSwitch } from "../core/halt.js";
import type { EngineKube } from "./engine-kube.js";
import { apiStatus } from "./api-errors.js";
import { broadsideNamespace, createBroadsideNamespace, managedByLabel } from "./ledger-store.js";

/**
 * The kill switch in the cluster: a ConfigMap named `broadside-halt` in Broadside's namespace. Its presence
 * is the hold, whatever it holds, so `kubectl create configmap broadside-halt -n broadside-system` works
 * as well as `broadside halt --hold`; its data says who, when and why. A ConfigMap, not an annotation on
 * a cluster-scoped object, so holding it needs no cluster-wide permission.
 */
export const haltObjectName = "broadside-halt";

/** The parts of the client the switch uses. */
export type HaltClients = Pick<EngineKube, "core">;

export class ConfigMapHaltSwitch implements HaltSwitch {
  constructor(
    private readonly kube: HaltClients,
    readonly namespace: string = broadsideNamespace,
  ) {}

  async read(): Promise<HaltHold | undefined> {
    try {
      const found = await this.kube.core.readNamespacedConfigMap({
        name: haltObjectName,
        namespace: this.namespace,
      });
      return holdOf(found);
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async hold(hold: HaltHold): Promise<HaltHold> {
    try {
      return await this.create(hold);
    } catch (error: unknown) {
      if (apiStatus(error) !== 404) throw error;
    }
    // The namespace does not exist yet: nothing Broadside did has happened in this cluster so far.
    await createBroadsideNamespace(this.kube.core, this.namespace);
    return this.create(hold);
  }

  /** Creates the hold; one already there stays and is returned. */
  private async create(hold: HaltHold): Promise<HaltHold> {
    try {
      await this.kube.core.createNamespacedConfigMap({ namespace: this.namespace, body: configMapOf(hold) });
      return hold;
    } catch (error: unknown) {
      if (apiStatus(error) === 409) return (await this.read()) ?? hold;
      throw error;
    }
  }

  async release(): Promise<boolean> {
    try {
      await this.kube.core.deleteNamespacedConfigMap({ name: haltObjectName, namespace: this.namespace });
      return true;
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return false;
      throw error;
    }
  }
}

function configMapOf(hold: HaltHold): V1ConfigMap {
  const since = hold.since === undefined ? {} : { since: new Date(hold.since).toISOString() };
  return {
    metadata: { name: haltObjectName, labels: { [managedByLabel]: "broadside" } },
    data: { by: hold.by, reason: hold.reason, ...since },
  };
}

/** Whatever the ConfigMap holds, it is a hold; fields made by hand that do not parse are left out. */
export function holdOf(configMap: V1ConfigMap): HaltHold {
  const data = configMap.data ?? {};
  const since = Date.parse(data.since ?? "");
  const made = configMap.metadata?.creationTimestamp?.getTime() ?? Number.NaN;
  const at = Number.isFinite(since) ? since : made;
  return {
    ...(Number.isFinite(at) ? { since: at } : {}),
    by: data.by ?? "a ConfigMap made by hand",
    reason: data.reason ?? "",
  };
}
