import type { LedgerDraft, LedgerRecord, RecordState } from "./record.js";

/**
 * A conditional write lost a race: the stored record (or the target object) is no longer what the writer
 * last read. The writer must re-read and decide again; it must never retry the same write blindly.
 */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/** "open" means pending or active: every record recovery may still have to act on. */
export type StateFilter = RecordState | "open";

/**
 * Where records live. The kube adapter keeps them in the cluster, so that they outlive the process that
 * wrote them; every write is conditional, so that two Broadside processes cannot both act on one record.
 */
export interface LedgerStore {
  /** Stores a new record and returns it with its version. A ConflictError if the id is taken. */
  create(draft: LedgerDraft): Promise<LedgerRecord>;
  /**
   * Replaces the record if the stored version is still `record.version`, and returns it with its new
   * version. A ConflictError if the version differs or the record is gone.
   */
  update(record: LedgerRecord): Promise<LedgerRecord>;
  get(id: string): Promise<LedgerRecord | undefined>;
  /** Records oldest first (by createdAt, then id). */
  list(filter?: { readonly state?: StateFilter }): Promise<readonly LedgerRecord[]>;
  /**
   * Deletes the closed records that closed before `closedBefore` (epoch ms), and any stored values no
   * open record needs any more. Open records are never touched.
   */
  prune(options: PruneOptions): Promise<PruneResult>;
}

export interface PruneOptions {
  /** Closed records whose outcome is older than this (epoch ms) go. */
  readonly closedBefore: number;
  /** Epoch ms, for the grace given to values whose record may still be being written. */
  readonly now: number;
}

export interface PruneResult {
  /** Ids of the closed records deleted. */
  readonly records: readonly string[];
  /** Stored values deleted that no record needed (left by a crash between closing and tidying). */
  readonly orphanValues: number;
}

export function matchesState(record: LedgerRecord, state: StateFilter | undefined): boolean {
  if (state === undefined) return true;
  if (state === "open") return record.state !== "closed";
  return record.state === state;
}

/**
 * A LedgerStore in memory, for unit tests. It enforces versions like the API server does, and copies
 * records in and out, so a test cannot pass by mutating a record it holds.
 */
export class MemoryLedgerStore implements LedgerStore {
  private readonly records = new Map<string, LedgerRecord>();
  private revision = 0;

  create(draft: LedgerDraft): Promise<LedgerRecord> {
    return attempt(() => {
      if (this.records.has(draft.id)) throw new ConflictError(`ledger record ${draft.id} already exists`);
      return this.put({ ...draft, version: "" });
    });
  }

  update(record: LedgerRecord): Promise<LedgerRecord> {
    return attempt(() => {
      const stored = this.records.get(record.id);
      if (stored === undefined) throw new ConflictError(`ledger record ${record.id} no longer exists`);
      if (stored.version !== record.version) {
        throw new ConflictError(
          `ledger record ${record.id} changed since it was read (version ${record.version}, now ${stored.version})`,
        );
      }
      return this.put(record);
    });
  }

  get(id: string): Promise<LedgerRecord | undefined> {
    const stored = this.records.get(id);
    return Promise.resolve(stored === undefined ? undefined : structuredClone(stored));
  }

  list(filter: { readonly state?: StateFilter } = {}): Promise<readonly LedgerRecord[]> {
    const found = [...this.records.values()]
      .filter((record) => matchesState(record, filter.state))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map((record) => structuredClone(record));
    return Promise.resolve(found);
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    const expired = [...this.records.values()].filter(
      (record) => record.state === "closed" && record.outcome.at < options.closedBefore,
    );
    for (const record of expired) this.records.delete(record.id);
    return Promise.resolve({ records: expired.map((record) => record.id), orphanValues: 0 });
  }

  private put(record: LedgerRecord): LedgerRecord {
    this.revision += 1;
    const stored = { ...structuredClone(record), version: String(this.revision) };
    this.records.set(stored.id, stored);
    return structuredClone(stored);
  }
}

/** Runs `write` so that a throw becomes a rejected promise, as it would from a real store. */
function attempt<T>(write: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(write());
  });
}
