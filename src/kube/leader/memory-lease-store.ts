import { LeaseConflictError, type LeaseRecord, type LeaseStore, type ObservedLease } from "./lease-store.js";

/*
 * For unit tests: one Lease in memory, as the API server keeps it (a new resourceVersion on every write,
 * 409 on a stale one), and a client per candidate with faults of its own: a candidate whose requests fail
 * or never come back while the others' go through, which is what a partition looks like.
 */

/** The Lease itself, shared by every candidate's client. */
export class MemoryLease {
  private current: ObservedLease | undefined;
  private version = 0;
  /** Every write that landed, in order: "create by a", "update by b". */
  readonly writes: string[] = [];

  /** What is stored now (what `kubectl get lease` would show). */
  get lease(): ObservedLease | undefined {
    return this.current;
  }

  /** A client for `who` (the name appears in `writes`). */
  client(who: string): MemoryLeaseStore {
    return new MemoryLeaseStore(this, who);
  }

  read(): ObservedLease | undefined {
    return this.current;
  }

  create(record: LeaseRecord, who: string): ObservedLease {
    if (this.current !== undefined) throw new LeaseConflictError("leases.coordination.k8s.io already exists");
    return this.store(record, `create by ${who}`);
  }

  update(record: LeaseRecord, version: string, who: string): ObservedLease {
    if (this.current === undefined) throw new LeaseConflictError("leases.coordination.k8s.io not found");
    if (this.current.version !== version) {
      throw new LeaseConflictError(
        "the object has been modified; please apply your changes to the latest version",
      );
    }
    return this.store(record, `update by ${who}`);
  }

  private store(record: LeaseRecord, write: string): ObservedLease {
    this.version += 1;
    this.current = { record: { ...record }, version: String(this.version) };
    this.writes.push(write);
    return this.current;
  }
}

export class MemoryLeaseStore implements LeaseStore {
  readonly describe = "test/broadside-agent";
  /** When set, every request of this client fails with it (an unreachable API server). */
  failure: Error | undefined;
  /** When true, every request of this client waits forever (a connection that never answers). */
  hang = false;
  /** Requests sent by this client: "get", "create", "update". */
  readonly requests: string[] = [];

  constructor(
    private readonly lease: MemoryLease,
    private readonly who: string,
  ) {}

  get(): Promise<ObservedLease | undefined> {
    return this.send("get", () => this.lease.read());
  }

  create(record: LeaseRecord): Promise<ObservedLease> {
    return this.send("create", () => this.lease.create(record, this.who));
  }

  update(record: LeaseRecord, version: string): Promise<ObservedLease> {
    return this.send("update", () => this.lease.update(record, version, this.who));
  }

  private async send<T>(request: string, answer: () => T): Promise<T> {
    this.requests.push(request);
    if (this.hang) await new Promise<never>(() => undefined);
    await Promise.resolve();
    if (this.failure !== undefined) throw this.failure;
    return answer();
  }
}
