import { ConflictError } from "./ledger/store.js";
import { nodeWorkName } from "./node-work.js";
import type {
  NodeCapabilities,
  NodeWork,
  NodeWorkSpec,
  NodeWorkStatus,
  NodeWorkStore,
  RevertRequest,
} from "./node-work.js";

/** Node work in memory, for unit tests: versions bump on every write, as resourceVersions do. */
export class MemoryNodeWork implements NodeWorkStore {
  readonly works = new Map<string, NodeWork>();
  private counter = 0;
  /** Told of every created work object (a test's stand-in daemon answers from here). */
  onCreate: ((work: NodeWork) => void) | undefined;
  readonly published = new Map<string, NodeCapabilities>();

  capabilities(node: string): Promise<NodeCapabilities | undefined> {
    return Promise.resolve(this.published.get(node));
  }

  publishCapabilities(capabilities: NodeCapabilities): Promise<void> {
    this.published.set(capabilities.node, capabilities);
    return Promise.resolve();
  }

  create(spec: NodeWorkSpec): Promise<NodeWork> {
    const name = nodeWorkName(spec.ledgerId);
    if (this.works.has(name)) return Promise.reject(new ConflictError(`node work ${name} already exists`));
    const work: NodeWork = { name, spec, version: this.nextVersion() };
    this.works.set(name, work);
    this.onCreate?.(work);
    return Promise.resolve(work);
  }

  read(name: string): Promise<NodeWork | undefined> {
    return Promise.resolve(this.works.get(name));
  }

  answer(work: NodeWork, status: NodeWorkStatus): Promise<NodeWork> {
    const current = this.works.get(work.name);
    if (current?.version !== work.version)
      return Promise.reject(new ConflictError(`node work ${work.name} changed or is gone`));
    const answered: NodeWork = { ...current, status, version: this.nextVersion() };
    this.works.set(work.name, answered);
    return Promise.resolve(answered);
  }

  withdraw(work: NodeWork): Promise<void> {
    const current = this.works.get(work.name);
    if (current === undefined) return Promise.resolve();
    if (current.version !== work.version)
      return Promise.reject(new ConflictError(`node work ${work.name} was answered meanwhile`));
    this.works.delete(work.name);
    return Promise.resolve();
  }

  requestRevert(work: NodeWork, request: RevertRequest): Promise<NodeWork> {
    const current = this.works.get(work.name);
    if (current?.version !== work.version)
      return Promise.reject(new ConflictError(`node work ${work.name} changed or is gone`));
    const asked: NodeWork = { ...current, revert: request, version: this.nextVersion() };
    this.works.set(work.name, asked);
    this.onChange?.(asked);
    return Promise.resolve(asked);
  }

  remove(name: string): Promise<void> {
    this.works.delete(name);
    return Promise.resolve();
  }

  /** Told of every revert request (a test's stand-in daemon answers from here). */
  onChange: ((work: NodeWork) => void) | undefined;

  private nextVersion(): string {
    this.counter += 1;
    return String(this.counter);
  }
}
