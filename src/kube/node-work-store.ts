import type { V1ConfigMap } from "@kubernetes/client-node";
import { ConflictError } from "../core/ledger/store.js";
import {
  nodeLabelValue,
  nodeWorkLabel,
  nodeWorkName,
  nodeWorkNodeLabel,
  nodeWorkVersion,
  parseNodeWorkSpec,
  parseNodeWorkStatus,
  parseRevertRequest,
  nodeCapabilitiesSchema,
} from "../core/node-work.js";
import type {
  NodeCapabilities,
  NodeWork,
  NodeWorkSpec,
  NodeWorkStatus,
  NodeWorkStore,
  RevertRequest,
} from "../core/node-work.js";
import { BroadsideError } from "../core/errors.js";
import { apiStatus } from "./api-errors.js";
import type { EngineCoreCalls } from "./engine-kube.js";
import { createBroadsideNamespace, faultKindLabel, managedByLabel } from "./ledger-store.js";

/*
 * Node work as ConfigMaps in Broadside's namespace (ADR 0029), as the ledger is (ADR 0004): the spec in
 * `work.json`, the daemon's answer in `status.json`, every write conditional on the resourceVersion read.
 */

export const workKey = "work.json";
export const statusKey = "status.json";
export const revertKey = "revert.json";

type ConfigMapCalls = Pick<
  EngineCoreCalls,
  | "createNamespacedConfigMap"
  | "readNamespacedConfigMap"
  | "replaceNamespacedConfigMap"
  | "deleteNamespacedConfigMap"
  | "createNamespace"
>;

export class ConfigMapNodeWork implements NodeWorkStore {
  constructor(
    private readonly core: ConfigMapCalls,
    readonly namespace: string,
  ) {}

  async create(spec: NodeWorkSpec): Promise<NodeWork> {
    const body = configMapOfWork(spec);
    const create = () => this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
    try {
      return workOf(await create());
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 409) throw new ConflictError(`node work ${body.metadata?.name ?? ""} already exists`);
      if (status !== 404) throw error;
    }
    await createBroadsideNamespace(this.core, this.namespace);
    return workOf(await create());
  }

  async read(name: string): Promise<NodeWork | undefined> {
    try {
      return workOf(await this.core.readNamespacedConfigMap({ name, namespace: this.namespace }));
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  answer(work: NodeWork, status: NodeWorkStatus): Promise<NodeWork> {
    return this.replace(work, configMapOfWork(work.spec, status, work.version, work.revert));
  }

  requestRevert(work: NodeWork, request: RevertRequest): Promise<NodeWork> {
    return this.replace(work, configMapOfWork(work.spec, work.status, work.version, request));
  }

  async remove(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ name, namespace: this.namespace });
    } catch (error: unknown) {
      if (apiStatus(error) !== 404) throw error;
    }
  }

  private async replace(work: NodeWork, body: V1ConfigMap): Promise<NodeWork> {
    try {
      return workOf(
        await this.core.replaceNamespacedConfigMap({ name: work.name, namespace: this.namespace, body }),
      );
    } catch (error: unknown) {
      const code = apiStatus(error);
      if (code === 409 || code === 404) throw new ConflictError(`node work ${work.name} changed or is gone`);
      throw error;
    }
  }

  /** `nodecaps-<node label value>`, the capabilities its daemon published; undefined when absent or unreadable. */
  async capabilities(node: string): Promise<NodeCapabilities | undefined> {
    try {
      const map = await this.core.readNamespacedConfigMap({
        name: capabilitiesName(node),
        namespace: this.namespace,
      });
      const parsed = nodeCapabilitiesSchema.safeParse(JSON.parse(map.data?.["capabilities.json"] ?? "null"));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async publishCapabilities(capabilities: NodeCapabilities): Promise<void> {
    const name = capabilitiesName(capabilities.node);
    const body: V1ConfigMap = {
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [managedByLabel]: "broadside", "broadside.dev/node-capabilities": nodeWorkVersion },
      },
      data: { "capabilities.json": JSON.stringify(capabilities) },
    };
    const create = () => this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
    try {
      await create();
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 409) {
        await this.core.replaceNamespacedConfigMap({ name, namespace: this.namespace, body });
        return;
      }
      if (status !== 404) throw error;
      // A daemon may start before anything made Broadside's namespace.
      await createBroadsideNamespace(this.core, this.namespace);
      await create();
    }
  }

  async withdraw(work: NodeWork): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({
        name: work.name,
        namespace: this.namespace,
        body: { preconditions: { resourceVersion: work.version } },
      });
    } catch (error: unknown) {
      const code = apiStatus(error);
      if (code === 404) return;
      if (code === 409) throw new ConflictError(`node work ${work.name} was answered meanwhile`);
      throw error;
    }
  }
}

/** The ConfigMap a node's daemon publishes its node's capabilities in. */
export function capabilitiesName(node: string): string {
  return `nodecaps-${nodeLabelValue(node)}`;
}

/** The ConfigMap of a work object: labelled for its node's daemon, the spec (and status) as JSON. */
export function configMapOfWork(
  spec: NodeWorkSpec,
  status?: NodeWorkStatus,
  resourceVersion?: string,
  revert?: RevertRequest,
): V1ConfigMap {
  return {
    metadata: {
      name: nodeWorkName(spec.ledgerId),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      labels: {
        [managedByLabel]: "broadside",
        [nodeWorkLabel]: nodeWorkVersion,
        [nodeWorkNodeLabel]: nodeLabelValue(spec.node),
        [faultKindLabel]: spec.kind,
      },
    },
    data: {
      [workKey]: JSON.stringify(spec),
      ...(status === undefined ? {} : { [statusKey]: JSON.stringify(status) }),
      ...(revert === undefined ? {} : { [revertKey]: JSON.stringify(revert) }),
    },
  };
}

/**
 * A work object read from the cluster. A spec that does not parse is an error naming its field (the
 * daemon answers such work Refused); a status that does not parse counts as no answer yet.
 */
export function workOf(configMap: V1ConfigMap): NodeWork {
  const name = configMap.metadata?.name ?? "";
  const spec = parseNodeWorkSpec(parseJson(configMap.data?.[workKey]));
  if ("problem" in spec) throw new BroadsideError("BRD_USAGE", `node work ${name}: ${spec.problem}`);
  return {
    name,
    spec,
    status: parseKey(configMap, statusKey, parseNodeWorkStatus),
    revert: parseKey(configMap, revertKey, parseRevertRequest),
    version: configMap.metadata?.resourceVersion ?? "",
  };
}

/** A data key's JSON through its parser; undefined when the key is missing or does not parse. */
function parseKey<T>(
  configMap: V1ConfigMap,
  key: string,
  parse: (value: unknown) => T | undefined,
): T | undefined {
  const text = configMap.data?.[key];
  return text === undefined ? undefined : parse(parseJson(text));
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
