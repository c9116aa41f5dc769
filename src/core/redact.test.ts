import { describe, expect, it } from "vitest";
import { hasUserinfo, redactUrl } from "./redact.js";

describe("redactUrl: credentials in a URL are never shown", () => {
  it.each([
    ["http://user:s3cret@127.0.0.1:8080/health", "http://***@127.0.0.1:8080/health"],
    ["https://token@example.com", "https://***@example.com"],
    ["http://a@b@127.0.0.1/", "http://***@127.0.0.1/"],
    ["probe http://u:p@127.0.0.1/ failed", "probe http://***@127.0.0.1/ failed"],
  ])("%s becomes %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(hasUserinfo(url)).toBe(true);
  });

  it.each(["http://127.0.0.1:8080/a@b", "http://127.0.0.1/?who=me@x", "user@host", "no url here"])(
    "leaves %s alone: no userinfo",
    (text) => {
      expect(redactUrl(text)).toBe(text);
      expect(hasUserinfo(text)).toBe(false);
    },
  );
});
