import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { SandboxName } from "./sandbox-name.js";

function refusal(text: string): BroadsideError {
  try {
    SandboxName.parse(text, "--name");
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error(`"${text}" was accepted`);
}

describe("a sandbox name is checked where it enters, because it becomes a directory name", () => {
  it.each(["default", "it", "w8-sandbox", "a", "0", "a-b-c", "x".repeat(32)])("accepts %j", (text) => {
    expect(SandboxName.parse(text, "--name")).toBe(text);
  });

  it.each([
    ["the empty name, which would be the state root itself", ""],
    ["the current directory", "."],
    ["the parent directory", ".."],
    ["a walk out of the state root", "../.."],
    ["a path with a separator", "a/b"],
    ["an absolute path", "/etc"],
    ["uppercase", "Default"],
    ["33 characters", "x".repeat(33)],
    ["a leading dash (it would read as a flag)", "-a"],
    ["a trailing dash", "a-"],
    ["a dot inside", "a.b"],
    ["white space", " a"],
    ["a control character", "a\u001b[2J"],
  ])("refuses %s with BRD_USAGE (exit 2) naming the flag", (_story, text) => {
    const error = refusal(text);
    expect(error.code).toBe("BRD_USAGE");
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^--name: /);
  });

  it("names the flag it was given, e.g. run's --sandbox", () => {
    expect(refusal("..").message).toMatch(/^--name: /);
    expect(() => SandboxName.parse("..", "--sandbox")).toThrow(
      /^--sandbox: "\.\." must be 1-32 lowercase letters/,
    );
  });

  it("repeats a hostile name escaped and cut short, so it cannot drive the terminal or flood it", () => {
    expect(refusal("a\u001b[2J").message).toContain(String.raw`"a\u001b[2J"`);
    expect(refusal("x".repeat(5000)).message.length).toBeLessThan(250);
  });

  it("tells directory entries that are names from those that are not, without throwing", () => {
    expect(SandboxName.check("w8-sandbox")).toBe("w8-sandbox");
    expect(SandboxName.check(".tmp")).toBeUndefined();
  });
});
