import { describe, expect, it } from "vitest";
import { secretValue } from "./secrets.js";

describe("a Secret's key as the notifier reads it", () => {
  it("decodes the base64 the API server answers with", () => {
    const url = "http://127.0.0.1:9/hook/T000/B000/XXXX";
    const secret = { data: { "slack-url": Buffer.from(url).toString("base64") } };
    expect(secretValue(secret, "slack-url")).toBe(url);
  });

  it("says a missing key is missing rather than empty", () => {
    expect(secretValue({ data: { other: "eA==" } }, "slack-url")).toBeUndefined();
    expect(secretValue({}, "slack-url")).toBeUndefined();
  });
});
