import { describe, expect, it } from "vitest";
import { sinkUrl, withoutSecrets } from "./url.js";

describe("sink URLs: https, or http to this machine only", () => {
  it("accepts https anywhere and http to 127.0.0.0/8 and ::1", () => {
    for (const text of [
      "https://hooks.slack.com/services/T0/B0/x",
      "http://127.0.0.1:8080/hook",
      "http://127.9.9.9/",
      "http://[::1]:9/x",
    ]) {
      expect(sinkUrl(text), text).toBeInstanceOf(URL);
    }
  });

  it("refuses plain http elsewhere, other schemes, credentials and non-URLs, without quoting the URL", () => {
    const cases: [string, string][] = [
      [
        "http://hooks.example.com/services/secret-path",
        "must use https (plain http only to 127.0.0.0/8 or ::1)",
      ],
      ["http://localhost/secret-path", "must use https (plain http only to 127.0.0.0/8 or ::1)"],
      ["http://127.0.0.1.evil.example/secret-path", "must use https (plain http only to 127.0.0.0/8 or ::1)"],
      ["ftp://files.example/secret-path", "must be an https URL"],
      [
        "https://user:pw@hooks.example/secret-path",
        "must not carry a user or password (user:password@); the sinks send no basic auth",
      ],
      ["secret-path", "is not a URL"],
    ];
    for (const [text, problem] of cases) {
      expect(sinkUrl(text), text).toEqual({ problem });
      expect(problem).not.toContain("secret-path");
    }
  });
});

describe("withoutSecrets", () => {
  it("replaces every occurrence of each secret, longest first", () => {
    expect(
      withoutSecrets("GET /s/abc failed for https://h/s/abc and /s/abc", ["/s/abc", "https://h/s/abc"]),
    ).toBe("GET *** failed for *** and ***");
  });

  it("skips strings too short to be secrets", () => {
    expect(withoutSecrets("a/b", ["/", "a"])).toBe("a/b");
  });
});
