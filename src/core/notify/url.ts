/**
 * Where a sink may send: https anywhere, plain http only to this machine (127.0.0.0/8, ::1), which is what
 * tests and a local relay use. The URL comes from a Secret and often is the credential itself (a Slack
 * webhook's path is its key), so a problem is described without ever quoting it.
 */

function isLoopbackHost(hostname: string): boolean {
  if (hostname === "[::1]") return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(hostname);
}

/** The parsed URL, or why it cannot be a sink's URL (words only, never the URL). */
export function sinkUrl(text: string): URL | { readonly problem: string } {
  if (!URL.canParse(text.trim())) return { problem: "is not a URL" };
  const url = new URL(text.trim());
  if (url.username !== "" || url.password !== "") {
    return { problem: "must not carry a user or password (user:password@); the sinks send no basic auth" };
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === "http:") return { problem: "must use https (plain http only to 127.0.0.0/8 or ::1)" };
  return { problem: "must be an https URL" };
}

/**
 * `text` with every occurrence of each secret replaced by "***": for error descriptions from the network
 * stack, which may quote the URL a request went to. Short secrets ("/") are not secrets and are skipped.
 */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  const longestFirst = [...secrets]
    .filter((secret) => secret.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) result = result.replaceAll(secret, "***");
  return result;
}
