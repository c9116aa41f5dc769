/**
 * Helpers for the plain objects that models, manifests and reports are made of: one home for each, so
 * that every module builds and recognises them the same way.
 */

/**
 * `{ [key]: value }` when the value is set, else `{}`. Spread into an object literal, it leaves an optional
 * field out rather than set to undefined, as exactOptionalPropertyTypes requires of the models and as JSON
 * (which has no undefined) reads them back. `convert` turns a set value into the field's own shape:
 * `...optional("duration", spec.duration, toDuration)`.
 */
export function optional<Key extends string, Value>(
  key: Key,
  value: Value | undefined,
): Partial<Record<Key, Value>>;
export function optional<Key extends string, Value, Field>(
  key: Key,
  value: Value | undefined,
  convert: (value: Value) => Field,
): Partial<Record<Key, Field>>;
export function optional<Key extends string, Value, Field>(
  key: Key,
  value: Value | undefined,
  convert?: (value: Value) => Field,
): Partial<Record<Key, Value | Field>> {
  if (value === undefined) return {};
  return { [key]: convert === undefined ? value : convert(value) } as Partial<Record<Key, Value | Field>>;
}

/** A mapping of keys to values, such as JSON and YAML objects are: not null, not a list. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` (plain data: objects and arrays) nests deeper than `limit` levels. Walked with a stack
 * of its own, not by recursion, so that the check itself cannot run out of stack on the input it guards.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== "object" || next.value === null) continue;
    if (next.depth >= limit) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}
