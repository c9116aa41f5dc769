/*
 * The narrow seam between the leader elector and the cluster: one coordination.k8s.io/v1 Lease, read
 * whole and written whole, every write conditional on the version that was read. The elector decides;
 * the store only carries the record (client-node-lease-store.ts for the cluster, memory-lease-store.ts
 * for unit tests).
 */

/** The LeaseSpec fields leader election uses, with times as epoch milliseconds. */
export interface LeaseRecord {
  /** Who holds the lease; "" when nobody does (never taken, or released). */
  readonly holderIdentity: string;
  /** How long, from its last change, the holder promises the lease stays valid. */
  readonly leaseDurationSeconds: number;
  /** When the current holder acquired it, by the holder's clock; undefined when nobody holds it. */
  readonly acquireTime: number | undefined;
  /** When the holder last renewed it, by the holder's clock. Informative only: nobody else trusts it. */
  readonly renewTime: number | undefined;
  /** How many times the lease changed hands. */
  readonly leaseTransitions: number;
}

/** A record as read or written, with the resourceVersion the next write must name. */
export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly version: string;
}

export interface LeaseStore {
  /** "namespace/name", for logs. */
  readonly describe: string;
  /** The lease, or undefined when it does not exist. */
  get(): Promise<ObservedLease | undefined>;
  /** Creates the lease; a LeaseConflictError when it exists already. */
  create(record: LeaseRecord): Promise<ObservedLease>;
  /** Replaces the lease if it is still at `version`; a LeaseConflictError when it changed or is gone. */
  update(record: LeaseRecord, version: string): Promise<ObservedLease>;
}

/** Someone else wrote the lease first (HTTP 409, or 404 on update): this round is lost, not failed. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}
