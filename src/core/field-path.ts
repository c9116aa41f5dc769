/**
 * A field path as a user reads it: `spec.selector.labelSelectors["app.kubernetes.io/name"]`,
 * `phases.chaos.probes[0].sent`. Names are joined with dots, list indexes and keys that are not plain names
 * go in brackets, so a reader of the YAML or JSON finds the field. `root` names the empty path, which has no
 * text of its own ("(manifest)", "(the document)"); `prefix` is a path already formatted, for an object that
 * sits inside a larger document.
 */
export function formatPath(segments: readonly PropertyKey[], root: string, prefix = ""): string {
  let path = prefix;
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment))
      path += path === "" ? segment : `.${segment}`;
    else path += `[${JSON.stringify(String(segment))}]`;
  }
  return path === "" ? root : path;
}
