/**
 * Credentials in URLs (`http://user:secret@host/`) are for the request, never for a plan, a progress
 * line, a log or a report. Everything Broadside shows of a URL goes through here.
 */

const redacted = "***";

// scheme://userinfo@ : greedy up to the last "@" of the authority (before any "/", "?" or "#"), as URL parsers
// read it, so "http://a@b@host/" hides "a@b" whole.
const userinfoInText = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]+@/gi;

/** `url` with its userinfo (user and password) replaced by "***"; other text is returned unchanged. */
export function redactUrl(url: string): string {
  return url.replace(userinfoInText, `$1${redacted}@`);
}

/** Whether `url` carries userinfo that redactUrl would hide. */
export function hasUserinfo(url: string): boolean {
  return redactUrl(url) !== url;
}
