import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { optional } from "../../core/objects.js";
import { apiStatus, kubeFailure } from "../api-errors.js";
import { managedByLabel } from "../ledger-store.js";
import { fieldManager } from "../objects.js";
import { LeaseConflictError, type LeaseRecord, type LeaseStore, type ObservedLease } from "./lease-store.js";

/** The Lease's name when none is given: `kubectl get lease -n <namespace> broadside-agent`. */
export const defaultLeaseName = "broadside-agent";

/** The requests the store sends: get, create and update on leases, the RBAC verbs it needs. */
export type LeaseApi = Pick<
  CoordinationV1Api,
  "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease"
>;

/**
 * A client of its own for the Lease, from the same kubeconfig: renewals must not queue behind the client
 * rate limiter of the engine's requests (a fan-out at 50 QPS would starve them past the renew deadline),
 * which is why client-go users give leader election its own client too.
 */
export function leaseApiOf(config: KubeConfig): LeaseApi {
  return config.makeApiClient(CoordinationV1Api);
}

/** A MicroTime as the API server stores it: epoch ms, from the string client-node leaves it as, or a Date. */
export function leaseTime(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== "string") return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** The leader election record of a Lease; absent fields as nobody holding it. */
export function recordOfLease(lease: V1Lease): ObservedLease {
  const spec = lease.spec ?? {};
  return {
    record: {
      holderIdentity: spec.holderIdentity ?? "",
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: leaseTime(spec.acquireTime),
      renewTime: leaseTime(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
    version: lease.metadata?.resourceVersion ?? "",
  };
}

/** What a write names: the object, its own labels when created, the version when replaced. */
export interface LeaseMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly resourceVersion?: string;
}

/**
 * `record` as the body of a write over `base` (the Lease last read, when it is the version written
 * against): the leader election fields are replaced, what else people or other tools put on the Lease
 * (labels, annotations, owners, the coordinated election fields) is kept, and `metadata` names the
 * object and the version the write is conditional on.
 */
export function leaseOfRecord(record: LeaseRecord, metadata: LeaseMetadata, base?: V1Lease): V1Lease {
  const micro = (ms: number): V1MicroTime => new V1MicroTime(ms);
  const kept = base?.metadata;
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      ...optional("labels", kept?.labels),
      ...optional("annotations", kept?.annotations),
      ...optional("ownerReferences", kept?.ownerReferences),
      ...optional("finalizers", kept?.finalizers),
      ...metadata,
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...optional("acquireTime", record.acquireTime, micro),
      ...optional("renewTime", record.renewTime, micro),
      ...optional("preferredHolder", base?.spec?.preferredHolder),
      ...optional("strategy", base?.spec?.strategy),
    },
  };
}

/** The Lease in the cluster; every write conditional on the resourceVersion it names. */
export class ClientNodeLeaseStore implements LeaseStore {
  /** The Lease as last read or written: an update keeps what leader election does not own. */
  private last: V1Lease | undefined;

  constructor(
    private readonly api: LeaseApi,
    readonly namespace: string,
    readonly name: string = defaultLeaseName,
  ) {}

  get describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<ObservedLease | undefined> {
    try {
      return this.remember(
        await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }),
      );
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw kubeFailure(`reading lease ${this.describe}`, error);
    }
  }

  async create(record: LeaseRecord): Promise<ObservedLease> {
    const metadata = {
      name: this.name,
      namespace: this.namespace,
      labels: { [managedByLabel]: "broadside" },
    };
    const body = leaseOfRecord(record, metadata);
    try {
      return this.remember(
        await this.api.createNamespacedLease({ namespace: this.namespace, body, fieldManager }),
      );
    } catch (error: unknown) {
      if (apiStatus(error) === 409) throw new LeaseConflictError(`lease ${this.describe} exists already`);
      throw kubeFailure(`creating lease ${this.describe}`, error);
    }
  }

  async update(record: LeaseRecord, version: string): Promise<ObservedLease> {
    const base = this.last?.metadata?.resourceVersion === version ? this.last : undefined;
    // The resourceVersion makes the replace conditional: the API server answers 409 if it moved on.
    const metadata = { name: this.name, namespace: this.namespace, resourceVersion: version };
    const body = leaseOfRecord(record, metadata, base);
    try {
      const { name, namespace } = this;
      return this.remember(await this.api.replaceNamespacedLease({ name, namespace, body, fieldManager }));
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 409 || status === 404) {
        throw new LeaseConflictError(`lease ${this.describe} changed since version ${version}`);
      }
      throw kubeFailure(`updating lease ${this.describe}`, error);
    }
  }

  private remember(lease: V1Lease): ObservedLease {
    this.last = lease;
    return recordOfLease(lease);
  }
}
