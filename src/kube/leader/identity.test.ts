import { describe, expect, it } from "vitest";
import { candidateIdentity } from "./identity.js";

describe("candidateIdentity", () => {
  it("is the host name and twelve random hex digits", () => {
    expect(
      candidateIdentity("broadside-agent-7c9f6d8b5-x2kqp", () => Uint8Array.of(1, 2, 3, 4, 5, 255)),
    ).toBe("broadside-agent-7c9f6d8b5-x2kqp_0102030405ff");
  });

  it("differs between two processes on one host", () => {
    expect(candidateIdentity("node-1")).not.toBe(candidateIdentity("node-1"));
  });
});
