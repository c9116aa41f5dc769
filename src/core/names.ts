import { usageError } from "./errors.js";

/**
 * Kubernetes object names, checked by the rules the API server applies (k8s.io/apimachinery
 * pkg/util/validation), at the point where a name enters Broadside: a flag, an argument, a file's field.
 * A name that passes can go into an API path or a file name without being able to walk anywhere: none of
 * these forms holds '/', '\', '%', '..' as a whole name, whitespace or control characters.
 */

/** RFC 1123 label: namespaces, container names, and the parts of a subdomain. */
export const dnsLabelPattern = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: labels joined by dots. */
export const dnsSubdomainPattern = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
export const dnsLabelMaxLength = 63;
/** RFC 1123 subdomain: most object names (pods, ConfigMaps, Secrets, Deployments, nodes). */
export const dnsSubdomainMaxLength = 253;

const labelRule = "lowercase letters, digits and '-', starting and ending with a letter or digit";

/** Why `name` is not an RFC 1123 label (a namespace name), or undefined when it is one. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > dnsLabelMaxLength) return `must be at most ${dnsLabelMaxLength} characters`;
  if (!dnsLabelPattern.test(name)) return `must consist of ${labelRule}`;
  return undefined;
}

/** Why `name` is not an RFC 1123 subdomain (most object names), or undefined when it is one. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > dnsSubdomainMaxLength) return `must be at most ${dnsSubdomainMaxLength} characters`;
  if (!dnsSubdomainPattern.test(name)) {
    return `must consist of ${labelRule}, in parts separated by '.'`;
  }
  return undefined;
}

/** Names as they are quoted in messages: JSON, so an empty, spaced or control-laden name is visible. */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
}

/** `text` as a namespace name; a usage error naming `field` otherwise. */
export function namespaceName(text: string, field: string): string {
  const problem = dnsLabelProblem(text);
  if (problem !== undefined) throw usageError(field, `${quoted(text)} is not a namespace name: ${problem}`);
  return text;
}

/** `text` as an object name (pod, ConfigMap, Secret, workload, node); a usage error naming `field` otherwise. */
export function objectName(text: string, field: string): string {
  const problem = dnsSubdomainProblem(text);
  if (problem !== undefined) throw usageError(field, `${quoted(text)} is not an object name: ${problem}`);
  return text;
}
