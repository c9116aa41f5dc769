import type { V1ConfigMap, V1Secret } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { BroadsideError } from "../core/errors.js";
import type { LedgerDraft, LedgerRecord, RecordedValue, RecordState } from "../core/ledger/record.js";
import { REDACTED } from "../core/ledger/record.js";
import { LedgerFormatError, plainLedgerRecord } from "../core/ledger/plain-record.js";
import type { LedgerStore, PruneOptions, PruneResult, StateFilter } from "../core/ledger/store.js";
import { ConflictError } from "../core/ledger/store.js";
import { optional } from "../core/objects.js";
import type { EngineKube } from "./engine-kube.js";
import { apiStatus, createIfMissing } from "./api-errors.js";
import { collectionPath, type CollectionQuery } from "./watch/source.js";

/**
 * The ledger in the cluster: one ConfigMap per record, in Broadside's own namespace, so that any Broadside
 * process with access to the cluster can finish a revert after the one that made the change is gone. The
 * ConfigMap's resourceVersion is the record's version, so the API server itself refuses stale updates.
 *
 * The values of a sensitive record (a Secret's data, before and after) go to a Secret of the same name
 * instead: the built-in "view" role reads ConfigMaps but not Secrets, and copying a Secret's value into a
 * ConfigMap would hand it to everyone who can view the namespace. The values never change after create,
 * so the Secret is written once and the ConfigMap alone carries the record's version.
 */

export const broadsideNamespace = "broadside-system";

export const managedByLabel = "app.kubernetes.io/managed-by";
export const ledgerLabel = "broadside.dev/ledger";
export const stateLabel = "broadside.dev/state";
export const faultKindLabel = "broadside.dev/fault-kind";
export const recordKey = "record.json";
const valueKeys = { original: "original.json", injected: "injected.json" } as const;
const namePrefix = "ledger-";

/** Record ids become part of a ConfigMap name: lowercase letters, digits and inner dashes only. */
const idPattern = /^[a-z0-9](?:[a-z0-9-]{0,200}[a-z0-9])?$/;

/**
 * A record id that sorts by time and does not collide: "20261122t023501-3f9a1c" (UTC). Six random hex
 * digits make two ids in the same second collide once in 16 million; a collision is a ConflictError on
 * create, never an overwrite.
 */
export function newRecordId(now: number, random: (bytes: number) => Uint8Array = randomBytes): string {
  const stamp = new Date(now).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "t");
  const suffix = Buffer.from(random(3)).toString("hex");
  return `${stamp}-${suffix}`;
}

export function ledgerObjectName(id: string): string {
  if (!idPattern.test(id)) {
    throw new BroadsideError("BRD_INTERNAL", `"${id}" cannot be a ledger record id: use newRecordId`);
  }
  return `${namePrefix}${id}`;
}

/** The label selector for records in `state`; "open" is pending or active. */
export function stateSelector(state: StateFilter | undefined): string {
  const base = `${ledgerLabel}=record`;
  if (state === undefined) return base;
  if (state === "open") return `${base},${stateLabel} in (pending,active)`;
  return `${base},${stateLabel}=${state}`;
}

const pageSize = 500;

/**
 * Makes Broadside's namespace if it is missing: the ledger's writes do it on demand, but a process that
 * starts by reading or by taking a Lease there (the agent) needs it first. A 403 leaves it to the
 * installer: a least-privilege agent may not create namespaces, and its chart made this one.
 */
/** Creates Broadside's namespace, labelled as Broadside's; one that exists already is left as it is. */
export async function createBroadsideNamespace(
  core: Pick<EngineKube["core"], "createNamespace">,
  namespace: string,
): Promise<void> {
  await createIfMissing(() =>
    core.createNamespace({
      body: { metadata: { name: namespace, labels: { [managedByLabel]: "broadside" } } },
    }),
  );
}

export async function ensureBroadsideNamespace(
  core: Pick<EngineKube["core"], "createNamespace">,
  namespace: string = broadsideNamespace,
): Promise<void> {
  try {
    await createBroadsideNamespace(core, namespace);
  } catch (error: unknown) {
    if (apiStatus(error) !== 403) throw error;
  }
}

/** Values younger than this are never orphans: their record may be being created right now. */
const orphanGraceMs = 10 * 60_000;

interface Values {
  readonly original: RecordedValue;
  readonly injected: RecordedValue;
}

export class ConfigMapLedgerStore implements LedgerStore {
  constructor(
    private readonly kube: EngineKube,
    readonly namespace: string = broadsideNamespace,
  ) {}

  async create(draft: LedgerDraft): Promise<LedgerRecord> {
    const name = ledgerObjectName(draft.id);
    try {
      // Values first: a record must never exist without them, while values without a record are litter.
      if (draft.sensitive) await this.inNamespace(() => this.createValues(name, draft));
      const created = await this.inNamespace(() =>
        this.kube.core.createNamespacedConfigMap({
          namespace: this.namespace,
          body: this.configMapOf(draft),
        }),
      ).catch(async (error: unknown) => {
        // Only reached when the Secret was created just now, so it is ours to remove; best effort.
        if (draft.sensitive) await this.deleteValues(name);
        throw error;
      });
      return await this.recordOf(created, draft);
    } catch (error: unknown) {
      if (apiStatus(error) === 409) throw new ConflictError(`ledger record ${draft.id} already exists`);
      throw error;
    }
  }

  async update(record: LedgerRecord): Promise<LedgerRecord> {
    // An empty resourceVersion would make the replace unconditional, and two processes could both win.
    if (record.version === "") {
      throw new BroadsideError(
        "BRD_INTERNAL",
        `ledger record ${record.id} has no version; read it from the store`,
      );
    }
    try {
      const replaced = await this.kube.core.replaceNamespacedConfigMap({
        name: ledgerObjectName(record.id),
        namespace: this.namespace,
        body: this.configMapOf(record, record.version),
      });
      // A closed record reverts nothing more: the Secret's values (a Secret's data, before and after) are
      // no one's business from now on. If this delete is lost, prune() finds the values orphaned.
      if (record.state === "closed" && record.sensitive) await this.deleteValues(ledgerObjectName(record.id));
      return await this.recordOf(replaced, record);
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 409) throw new ConflictError(`ledger record ${record.id} changed since it was read`);
      if (status === 404) throw new ConflictError(`ledger record ${record.id} no longer exists`);
      throw error;
    }
  }

  async get(id: string): Promise<LedgerRecord | undefined> {
    const found = await orUndefined(
      this.kube.core.readNamespacedConfigMap({ name: ledgerObjectName(id), namespace: this.namespace }),
    );
    return found === undefined ? undefined : this.load(found);
  }

  /**
   * Records oldest first. One record that does not parse fails the whole list with a LedgerFormatError
   * naming its ConfigMap: skipping it would hide a change nobody may ever revert.
   */
  async list(filter: { readonly state?: StateFilter } = {}): Promise<readonly LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    let token: string | undefined;
    do {
      const page = await this.kube.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: stateSelector(filter.state),
        limit: pageSize,
        ...optional("_continue", token),
      });
      for (const item of page.items) records.push(await this.load(item));
      const next = page.metadata?._continue;
      token = next === undefined || next === "" ? undefined : next;
    } while (token !== undefined);
    return records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const closed = await this.list({ state: "closed" });
    const expired = closed.filter(
      (record) => record.state === "closed" && record.outcome.at < options.closedBefore,
    );
    const records: string[] = [];
    for (const record of expired) {
      if (await this.deleteRecord(record)) records.push(record.id);
    }
    return { records, orphanValues: await this.deleteOrphanValues(options.now) };
  }

  /** Deletes a closed record as read: a record changed since (another process) is left for next time. */
  private async deleteRecord(record: LedgerRecord): Promise<boolean> {
    const name = ledgerObjectName(record.id);
    try {
      await this.kube.core.deleteNamespacedConfigMap({
        name,
        namespace: this.namespace,
        body: { preconditions: { resourceVersion: record.version } },
      });
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 404 || status === 409) return false;
      throw error;
    }
    if (record.sensitive) await this.deleteValues(name);
    return true;
  }

  /**
   * Values Secrets whose record is not open: closed (the delete after closing was lost) or gone. A
   * Secret younger than the grace may belong to a record being created (values are written first).
   */
  private async deleteOrphanValues(now: number): Promise<number> {
    const open = new Set((await this.list({ state: "open" })).map((record) => ledgerObjectName(record.id)));
    const secrets = await this.kube.core.listNamespacedSecret({
      namespace: this.namespace,
      labelSelector: `${ledgerLabel}=values`,
    });
    let deleted = 0;
    for (const secret of secrets.items) {
      const name = secret.metadata?.name ?? "";
      const created = secret.metadata?.creationTimestamp?.getTime() ?? now;
      if (open.has(name) || now - created < orphanGraceMs) continue;
      await this.deleteValues(name);
      deleted += 1;
    }
    return deleted;
  }

  private configMapOf(record: LedgerDraft | LedgerRecord, resourceVersion?: string): V1ConfigMap {
    const name = ledgerObjectName(record.id);
    // The version lives in metadata.resourceVersion only: a copy in the data would be stale on every write.
    const stored = record.sensitive
      ? { ...record, version: undefined, original: REDACTED, injected: REDACTED, values: `Secret ${name}` }
      : { ...record, version: undefined };
    return {
      metadata: {
        name,
        namespace: this.namespace,
        labels: labelsOf(record.state, record.faultKind),
        ...optional("resourceVersion", resourceVersion),
      },
      data: { [recordKey]: JSON.stringify(stored) },
    };
  }

  private async createValues(name: string, values: Values): Promise<void> {
    const body: V1Secret = {
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [managedByLabel]: "broadside", [ledgerLabel]: "values" },
      },
      type: "Opaque",
      stringData: {
        [valueKeys.original]: JSON.stringify(values.original),
        [valueKeys.injected]: JSON.stringify(values.injected),
      },
    };
    await this.kube.core.createNamespacedSecret({ namespace: this.namespace, body });
  }

  private async deleteValues(name: string): Promise<void> {
    await this.kube.core.deleteNamespacedSecret({ name, namespace: this.namespace }).catch(() => undefined);
  }

  /** A stored record with its values: from the Secret when sensitive, else from the record itself. */
  private async load(configMap: V1ConfigMap): Promise<LedgerRecord> {
    const { source, fields } = this.fieldsOf(configMap);
    if (fields.sensitive !== true) return this.recordOf(configMap);
    // A closed record's values were deleted with its closing: nothing is left to revert with them.
    if (fields.state === "closed")
      return this.recordOf(configMap, { original: REDACTED, injected: REDACTED });
    const name = configMap.metadata?.name ?? "";
    const secret = await orUndefined(
      this.kube.core.readNamespacedSecret({ name, namespace: this.namespace }),
    );
    if (secret === undefined) throw new LedgerFormatError(`${source}: its values Secret ${name} is missing`);
    return this.recordOf(configMap, {
      original: decodeValue(secret, valueKeys.original, source),
      injected: decodeValue(secret, valueKeys.injected, source),
    });
  }

  /** The record a ConfigMap holds, its values replaced by `values` when given (they are known already). */
  private recordOf(configMap: V1ConfigMap, values?: Values): Promise<LedgerRecord> {
    return recordInConfigMap(configMap, this.namespace, values);
  }

  private fieldsOf(configMap: V1ConfigMap): { source: string; fields: Record<string, unknown> } {
    return fieldsInConfigMap(configMap, this.namespace);
  }

  /** Runs a create; when the namespace is missing (the first record in a cluster), creates it and retries. */
  private async inNamespace<T>(create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (error: unknown) {
      if (apiStatus(error) !== 404) throw error;
    }
    await createBroadsideNamespace(this.kube.core, this.namespace);
    return create();
  }
}

/**
 * The collection of ledger records (their ConfigMaps) in `namespace`: what an informer over the ledger
 * watches, the agent's reconciler and the board's duel view alike.
 */
export function ledgerCollection(namespace: string = broadsideNamespace): CollectionQuery {
  return { path: collectionPath("v1", "configmaps", namespace), labelSelector: stateSelector(undefined) };
}

/**
 * The record a ledger ConfigMap holds, as a watch delivers it, without reading its values Secret: a
 * sensitive record's values are REDACTED (for readers that show records, never for a revert). A
 * ConfigMap that is no record throws a LedgerFormatError naming it.
 */
export async function ledgerRecordOf(
  configMap: V1ConfigMap,
  namespace: string = broadsideNamespace,
): Promise<LedgerRecord> {
  const { fields } = fieldsInConfigMap(configMap, namespace);
  return await recordInConfigMap(
    configMap,
    namespace,
    fields.sensitive === true ? { original: REDACTED, injected: REDACTED } : undefined,
  );
}

async function recordInConfigMap(
  configMap: V1ConfigMap,
  namespace: string,
  values?: Values,
): Promise<LedgerRecord> {
  const { source, fields } = fieldsInConfigMap(configMap, namespace);
  const version = configMap.metadata?.resourceVersion ?? "";
  const merged =
    values === undefined ? fields : { ...fields, original: values.original, injected: values.injected };
  const record = await checkedRecord({ ...merged, version }, source);
  // The id names the ConfigMap an update replaces: a mismatch would make it write another record.
  if (`${namePrefix}${record.id}` !== configMap.metadata?.name) {
    throw new LedgerFormatError(
      `${source} holds record ${record.id}, which belongs in ${namePrefix}${record.id}`,
    );
  }
  return record;
}

function fieldsInConfigMap(
  configMap: V1ConfigMap,
  namespace: string,
): { source: string; fields: Record<string, unknown> } {
  const source = `ConfigMap ${namespace}/${configMap.metadata?.name ?? ""}`;
  const text = configMap.data?.[recordKey];
  if (text === undefined) throw new LedgerFormatError(`${source} has no ${recordKey}`);
  return { source, fields: parseObject(text, `${source}: ${recordKey}`) };
}

function labelsOf(state: RecordState, faultKind: string): Record<string, string> {
  return {
    [managedByLabel]: "broadside",
    [ledgerLabel]: "record",
    [stateLabel]: state,
    [faultKindLabel]: faultKind,
  };
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error: unknown) {
    throw new LedgerFormatError(`${what} is not JSON`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new LedgerFormatError(`${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** One value from the values Secret, whose data the API server serves base64-encoded. */
function decodeValue(secret: V1Secret, key: string, source: string): RecordedValue {
  const encoded = secret.data?.[key];
  if (encoded === undefined) throw new LedgerFormatError(`${source}: its values Secret has no ${key}`);
  try {
    return JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as RecordedValue;
  } catch (error: unknown) {
    // No cause: the parser's message would quote the secret text.
    throw new LedgerFormatError(`${source}: ${key} in its values Secret is not JSON`, {
      cause: error instanceof SyntaxError ? undefined : error,
    });
  }
}

/**
 * The ledger's boundary check: a record as Broadside writes it passes without zod; anything else goes to
 * the schema, loaded only then (a cold `kill` writes and reads back records of the plain kind alone).
 */
async function checkedRecord(input: Record<string, unknown>, source: string): Promise<LedgerRecord> {
  const plain = plainLedgerRecord(input);
  if (plain !== undefined) return plain;
  const { parseLedgerRecord } = await import("../core/ledger/schema.js");
  return parseLedgerRecord(input, source);
}

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error: unknown) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}
