import { describe, expect, it } from "vitest";
import { checkRepositoryPath, gitEnvironment } from "./flux-repo.js";

describe("paths committed into the sandbox's repository", () => {
  it.each(["fleet", "fleet/manifests.yaml", "kustomization.yaml", "a_b/c-d.e", ""])("accepts %j", (path) => {
    expect(checkRepositoryPath(path, "file")).toBe(path);
  });

  it.each([
    "../outside",
    "fleet/../../x",
    "/etc/passwd",
    "fleet/",
    ".git/config",
    "fleet/.git/hooks/x",
    "./fleet",
    "a//b",
    "a b",
    "-rf",
  ])("refuses %j, naming the field", (path) => {
    expect(() => checkRepositoryPath(path, "file")).toThrow(/^file: must be a plain relative path/);
  });
});

describe("git's environment", () => {
  it("is fixed: no user's or system's configuration, a fixed author, no prompts", () => {
    expect(gitEnvironment({ root: "/state/s1/flux/git", path: "/usr/bin" })).toEqual({
      PATH: "/usr/bin",
      HOME: "/state/s1/flux/git",
      LC_ALL: "C",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Broadside sandbox",
      GIT_AUTHOR_EMAIL: "sandbox@broadside.invalid",
      GIT_COMMITTER_NAME: "Broadside sandbox",
      GIT_COMMITTER_EMAIL: "sandbox@broadside.invalid",
    });
  });
});
