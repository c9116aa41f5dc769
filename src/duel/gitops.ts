import type { Duration } from "../core/duration.js";
import { broadsideManager, classifyManager } from "../core/board/field-managers.js";
import type { JsonValue } from "../core/ledger/record.js";
import { isRecord } from "../core/objects.js";
import type { PlannedChange } from "../faults/types.js";
import { getAtPointer, parsePointer } from "../kube/field-access.js";
import type { KubeObject } from "../kube/objects.js";

/**
 * The GitOps side of a duel (ADR 0034): the controller that should heal what Broadside drifts. Flux is
 * implemented (flux.ts); another controller (Argo CD's Application, with its `selfHeal` and
 * `timeout.reconciliation`) is one more implementation of this interface, nothing else changes.
 */
export interface GitOpsDefender {
  /** "flux". */
  readonly controller: string;
  /** For people: "Flux Kustomization flux-system/fleet". */
  readonly description: string;
  /** Field managers the controller writes as: who a heal by GitOps is attributed to. */
  readonly managers: readonly string[];
  /**
   * Reads the controller's own object and refuses (BRD_DUEL_GITOPS) when it is missing or not ready. No
   * writes: the duel calls it before its first mutation.
   */
  check(): Promise<void>;
  /**
   * The change that makes the controller reconcile every `interval`, planned from a read of its object
   * and not yet written; empty when it already does. The duel journals and applies it through the engine,
   * and reverts it at the leg's end like any fault.
   */
  planInterval(interval: Duration): Promise<PlannedChange[]>;
  /**
   * Resolves once the controller has reconciled its object's current spec (after an interval change), so
   * the leg's clock starts from a known reconcile; rejects after `timeoutMs`.
   */
  awaitReconciled(timeoutMs: number): Promise<void>;
  /**
   * Whether Git defines the field at `pointer` of `object`, as the object is before the attack: a field
   * Git does not define is one GitOps cannot heal.
   */
  defines(object: KubeObject, pointer: string): boolean;
}

/** Who restored an attacked object. */
export const healerKinds = ["gitops", "kubernetes", "kubectl", "broadside", "other"] as const;
export type HealerKind = (typeof healerKinds)[number];

/** Kubernetes' own controllers: a ReplicaSet replacing a killed pod, the scheduler binding it. */
const kubernetesManagers = /^(kube-controller-manager|kube-scheduler)$/;

/**
 * The board's field-manager classes (core/board/field-managers.ts), with Kubernetes' own controllers told
 * apart from "other": a duel credits the ReplicaSet for a killed pod, not GitOps.
 */
export function classifyHealer(manager: string | undefined): HealerKind {
  if (manager !== undefined && kubernetesManagers.test(manager)) return "kubernetes";
  return classifyManager(manager);
}

export { broadsideManager };

interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly fieldsV1?: unknown;
}

/**
 * Whether any of `managers`' managedFields entries of `object` owns the field at `pointer` (or a field
 * inside it). List elements are addressed as the API server keys them in fieldsV1: `k:{"name":"app"}` for
 * a list keyed by name (containers), `v:<value>` for a set; a pointer's index is matched to the element
 * of the object at that index.
 */
export function ownedBy(object: KubeObject, pointer: string, managers: readonly string[]): boolean {
  const listed = getAtPointer(object, "/metadata/managedFields");
  const entries = (Array.isArray(listed) ? listed : []) as readonly ManagedFieldsEntry[];
  return entries.some(
    (entry) =>
      entry.manager !== undefined &&
      managers.includes(entry.manager) &&
      ownsAt(entry.fieldsV1, object, parsePointer(pointer)),
  );
}

function ownsAt(fields: unknown, document: JsonValue | undefined, tokens: readonly string[]): boolean {
  let node: unknown = fields;
  let value: JsonValue | undefined = document;
  for (const token of tokens) {
    if (!isRecord(node)) return false;
    if (Array.isArray(value)) {
      const element = (value as readonly JsonValue[])[Number(token)];
      node = keyedChild(node, element);
      value = element;
    } else {
      node = node[`f:${token}`];
      value = isRecord(value) ? (value as Readonly<Record<string, JsonValue>>)[token] : undefined;
    }
    if (node === undefined) return false;
  }
  return tokens.length > 0;
}

/** The fieldsV1 child that stands for list element `element`: by its key fields, or by its value. */
function keyedChild(node: Readonly<Record<string, unknown>>, element: JsonValue | undefined): unknown {
  if (element === undefined) return undefined;
  for (const [key, child] of Object.entries(node)) {
    if (key.startsWith("v:") && key.slice(2) === JSON.stringify(element)) return child;
    if (!key.startsWith("k:") || !isRecord(element)) continue;
    const keys: unknown = JSON.parse(key.slice(2));
    if (
      isRecord(keys) &&
      Object.entries(keys).every(
        ([field, wanted]) => JSON.stringify(element[field]) === JSON.stringify(wanted),
      )
    )
      return child;
  }
  return undefined;
}

/** Broadside's own writes are never a heal by someone else. */
export function isBroadside(manager: string | undefined): boolean {
  return manager === broadsideManager;
}
