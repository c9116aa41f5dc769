/**
 * `{ [key]: value }` when the value is set, else `{}`: spread into an object literal, it leaves optional
 * fields out rather than set to undefined, as exactOptionalPropertyTypes requires of the models.
 */
export function optional<Key extends string, Value>(
  key: Key,
  value: Value | undefined,
): Partial<Record<Key, Value>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<Key, Value>>);
}
