import type { KubernetesObject } from "@kubernetes/client-node";
import { fieldManager } from "./objects.js";

type ManagedFieldsEntry = NonNullable<NonNullable<KubernetesObject["metadata"]>["managedFields"]>[number];

/**
 * Who healed the field at `pointer`: the manager other than Broadside that owns it in managedFields (the
 * API server moves a field's ownership to whoever last set it), else, for a path managedFields cannot
 * name this way (inside a list), the most recent write that was not Broadside's own. Owning beats
 * recency: managedFields' times have one-second precision, so the create and the heal of a quick test
 * (or a quick reconciler) tie on time.
 */
export function healer(object: KubernetesObject, pointer: string): string | undefined {
  // A write to the status subresource never restores a field a fault changed (faults change spec and data).
  const entries = (object.metadata?.managedFields ?? []).filter(
    (entry) => entry.manager !== fieldManager && entry.subresource !== "status",
  );
  const owners = entries.filter((entry) => ownsField(entry, pointer));
  if (owners.length > 0) return latest(owners)?.manager;
  // Inside a list (containers/0/resources) managedFields names items by key, not index: the owners of
  // the list itself, as an applier (kustomize-controller) owns it, before any other recent writer (the
  // deployment controller bumps its revision annotation just after a heal).
  const list = listPrefix(pointer);
  const listOwners = list === undefined ? [] : entries.filter((entry) => ownsField(entry, list));
  return latest(listOwners.length > 0 ? listOwners : entries)?.manager;
}

/** The pointer up to its first list index (/spec/template/spec/containers for .../containers/0/x). */
function listPrefix(pointer: string): string | undefined {
  const segments = pointer.split("/");
  const index = segments.findIndex((segment, at) => at > 0 && /^\d+$/.test(segment));
  return index > 1 ? segments.slice(0, index).join("/") : undefined;
}

function latest(entries: readonly ManagedFieldsEntry[]): ManagedFieldsEntry | undefined {
  return entries.reduce<ManagedFieldsEntry | undefined>(
    (best, entry) =>
      best === undefined || String(entry.time ?? "") >= String(best.time ?? "") ? entry : best,
    undefined,
  );
}

/** The entry's fieldsV1 has the field `f:a` / `f:b` for pointer /a/b (JSON pointer escapes undone). */
function ownsField(entry: ManagedFieldsEntry, pointer: string): boolean {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
  let node: unknown = entry.fieldsV1;
  for (const segment of segments) {
    if (typeof node !== "object" || node === null) return false;
    node = (node as Record<string, unknown>)[`f:${segment}`];
  }
  return segments.length > 0 && node !== undefined;
}
