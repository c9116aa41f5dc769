import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { goneRefusal, podIdentity, statusMessage } from "./pod-shot.js";

const status = (message: string) => JSON.stringify({ kind: "Status", message });

describe("the message of an API error", () => {
  it("comes from the Status in the body, as text or as an object", () => {
    expect(statusMessage(new ApiException(429, "x", status("too many"), {}))).toBe("too many");
    expect(statusMessage(new ApiException(429, "x", { message: "parsed" }, {}))).toBe("parsed");
    expect(statusMessage(new ApiException(429, "x", "not json", {}))).toBeUndefined();
    expect(statusMessage(new Error("plain"))).toBeUndefined();
  });
});

describe("what every pod fault shares", () => {
  it("aims at a pod by namespace, name and uid, and refuses a pod without them", () => {
    expect(podIdentity({ metadata: { namespace: "shop", name: "web-1", uid: "u1" } })).toEqual({
      namespace: "shop",
      name: "web-1",
      uid: "u1",
    });
    expect(() => podIdentity({ metadata: { namespace: "shop", name: "web-1" } })).toThrow(/without/);
  });

  it("reads 404 and 409 as a pod already gone, and nothing else", () => {
    expect(goneRefusal(404)).toBe("already gone");
    expect(goneRefusal(409)).toBe("already gone: a newer pod now has its name");
    expect(goneRefusal(429)).toBeUndefined();
    expect(goneRefusal(undefined)).toBeUndefined();
  });
});
