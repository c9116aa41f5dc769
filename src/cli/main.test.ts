import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfig } from "./config.js";
import { buildProgram, commandModules, main, modulesFor } from "./main.js";

/** Runs the CLI in-process with its output captured and its state and cache in a fresh directory. */
async function cli(...args: string[]) {
  return cliWithEnv({}, ...args);
}

async function cliWithEnv(extraEnv: Record<string, string>, ...args: string[]) {
  const home = await mkdtemp(join(tmpdir(), "broadside-cli-"));
  const env = {
    HOME: home,
    BROADSIDE_STATE_DIR: join(home, "state"),
    BROADSIDE_CACHE_DIR: join(home, "cache"),
    PATH: "",
    ...extraEnv,
  };
  let out = "";
  let err = "";
  const code = await main(["node", "broadside", ...args], env, {
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  const touched = await readdir(home);
  return { code, out, err, touched };
}

describe("the CLI refuses bad input with exit code 2, a message naming the flag, and no side effects", () => {
  it.each([
    [["sandbox", "up", "--nodes", "0"], '--nodes: must be a whole number from 1 to 500, got "0"'],
    [["sandbox", "up", "--nodes", "three"], '--nodes: must be a whole number from 1 to 500, got "three"'],
    [["sandbox", "up", "--name", "Bad_Name"], '--name: "Bad_Name" must be 1-32 lowercase letters'],
    [["sandbox", "up", "--pod-ready-delay", "-1s"], "--pod-ready-delay: must not be negative"],
    [["sandbox", "up", "--pod-ready-jitter", "soon"], '--pod-ready-jitter: "soon" is not a duration'],
    [["sandbox", "status", "-o", "yaml"], '--output: must be one of table, json, got "yaml"'],
    [["sandbox", "kubeconfig", "--user", "root"], '--user: must be one of admin, viewer, got "root"'],
    [["halt", "--reason", "why"], "--reason: only goes with --hold"],
    [["halt", "--hold", "--reason", "a\u001b[2Jb"], "--reason: must be one line of printable text"],
    [["halt", "--hold", "--reason", "x".repeat(257)], "--reason: must be at most 256 characters"],
  ])("broadside %j", async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.out).toBe("");
    expect(result.touched).toEqual([]);
  });

  it("answers an unknown command or flag with exit code 2", async () => {
    expect((await cli("sandbox", "explode")).code).toBe(2);
    expect((await cli("sandbox", "up", "--frobnicate")).code).toBe(2);
  });

  it("says when a sandbox does not exist, with exit code 1 and the command that would start it", async () => {
    const result = await cli("sandbox", "kubeconfig", "--name", "nowhere");
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'error [BRD_SANDBOX_NOT_FOUND]: no sandbox named "nowhere" is up; run: broadside sandbox up --name nowhere',
    );
  });

  it("treats `down` of a sandbox that does not exist as done", async () => {
    const result = await cli("sandbox", "down", "--name", "nowhere");
    expect(result.code).toBe(0);
    expect(result.out).toContain('no sandbox named "nowhere"; nothing to stop');
  });

  it("shows duration defaults in help as they are typed", async () => {
    const kill = await cli("kill", "--help");
    expect(kill.out).toContain("(default: 5m)");
    expect(kill.out).not.toContain("milliseconds");
    const up = await cli("sandbox", "up", "--help");
    expect(up.out).toContain("(default: 2s)");
  });

  it("prints help with exit code 0", async () => {
    const result = await cli("--help");
    expect(result.code).toBe(0);
    expect(result.out).toContain("sandbox");
    expect(result.out).toContain("demo");
  });
});

describe("the environment is input too: a bad BROADSIDE_* variable is refused like a bad flag", () => {
  it.each([
    [{ BROADSIDE_MAX_FAULT_DURATION: "soon" }, 'BROADSIDE_MAX_FAULT_DURATION: "soon" is not a duration'],
    [{ BROADSIDE_MAX_FAULT_DURATION: "600h" }, "BROADSIDE_MAX_FAULT_DURATION: must be at most 168h"],
    [{ BROADSIDE_MAX_FAULT_DURATION: "0" }, "BROADSIDE_MAX_FAULT_DURATION: must be longer than 0"],
    [{ BROADSIDE_PROMETHEUS_URL: "ftp://x" }, "BROADSIDE_PROMETHEUS_URL: must be an http or https URL"],
    [{ BROADSIDE_POD_UID: "../x" }, 'BROADSIDE_POD_UID: "../x" is not a pod uid'],
    [
      { BROADSIDE_POD_NAME: "../x", BROADSIDE_POD_NAMESPACE: "broadside-system" },
      'BROADSIDE_POD_NAME: "../x" is not an object name',
    ],
    [
      { BROADSIDE_POD_NAME: "broadside-agent-0", BROADSIDE_POD_NAMESPACE: "a/b" },
      'BROADSIDE_POD_NAMESPACE: "a/b" is not a namespace name',
    ],
    [{ BROADSIDE_POD_NAME: "broadside-agent-0" }, "BROADSIDE_POD_NAMESPACE: needed with BROADSIDE_POD_NAME"],
    [
      { BROADSIDE_POD_NAMESPACE: "broadside-system" },
      "BROADSIDE_POD_NAME: needed with BROADSIDE_POD_NAMESPACE",
    ],
  ])("%j", async (env, message) => {
    const result = await cliWithEnv(env, "sandbox", "list");
    expect(result.code).toBe(2);
    expect(result.err).toContain(`error [BRD_USAGE]: ${message}`);
    expect(result.err).not.toContain("    at ");
    expect(result.touched).toEqual([]);
  });
});

describe("nothing printed can drive the terminal or show a credential", () => {
  it("prints an escape sequence from an argument as visible text", async () => {
    const result = await cli("sandbox", "up", "--name", "x\u001b[2J");
    expect(result.code).toBe(2);
    expect(result.err).toContain("x\\u001b[2J");
    expect(result.err).not.toContain("\u001b");
  });

  it("hides the userinfo of a URL in an error message", async () => {
    const env = { BROADSIDE_PROMETHEUS_URL: "http://user:hunter2@[::1" };
    const result = await cliWithEnv(env, "sandbox", "list");
    expect(result.code).toBe(2);
    expect(result.err).toContain('BROADSIDE_PROMETHEUS_URL: "http://***@[::1" is not a URL');
    expect(result.err).not.toContain("hunter2");
  });
});

describe("without a cluster to talk to, the CLI says where it looked instead of failing inside", () => {
  it.each([["status"], ["kill", "-n", "shop"], ["drift", "configmap/app", "--key", "k", "--value", "v"]])(
    "broadside %s with no kubeconfig anywhere",
    async (...args) => {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(
        /^error \[BRD_KUBECONFIG\]: no kubeconfig found: no --kubeconfig, KUBECONFIG is not set, \S+\/\.kube\/config does not exist/,
      );
      expect(result.err).toContain("broadside sandbox up");
      expect(result.err).not.toContain("    at ");
    },
  );

  it.each([
    [["kill", "-n", "../x", "-l", "app=a"], '--namespace: "../x" is not a namespace name'],
    [["kill", "Bad_Pod"], '[pods...]: "Bad_Pod" is not an object name'],
    [["fail", "-l", "app=web"], "--duration: is required"],
    [["fail", "-l", "app=web", "--duration", "30s", "--pause-image", "no such"], "--pause-image: must be"],
    [["fail", "-l", "app=web", "--duration", "2h"], "--duration: at most 1h"],
    [["fail", "-l", "app=(", "--duration", "30s"], "--selector: "],
    [
      ["drift", "configmap/app", "-n", "a/b", "--key", "k", "--value", "v"],
      '--namespace: "a/b" is not a namespace name',
    ],
    [["run", "/nonexistent/experiment.yaml"], "<file>"],
  ])(
    "names a bad flag, target or file before it looks for a kubeconfig: broadside %j",
    async (args, message) => {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.err).toContain(message);
      expect(result.err).not.toContain("BRD_KUBECONFIG");
    },
  );

  it("names --kubeconfig when its file does not exist", async () => {
    const result = await cli("status", "--kubeconfig", "/nonexistent/kubeconfig");
    expect(result.code).toBe(2);
    expect(result.err).toContain(
      "error [BRD_KUBECONFIG]: --kubeconfig: there is no file at /nonexistent/kubeconfig",
    );
  });
});

describe("the CLI loads only the module of the command it runs", () => {
  const quiet = { out: () => undefined, err: () => undefined };

  it("knows, for each command module, exactly the top-level commands it registers, in help's order", async () => {
    const registered: string[] = [];
    for (const module of commandModules) {
      const program = await buildProgram(readConfig({}), quiet, [module]);
      const names = program.commands.map((command) => command.name());
      expect(names).toEqual(module.names);
      registered.push(...names);
    }
    const whole = await buildProgram(readConfig({}), quiet);
    expect(whole.commands.map((command) => command.name())).toEqual(registered);
  });

  it("picks the command's own module, none for --version, and all of them for help or a typo", () => {
    const names = (args: string[]) => modulesFor(args).flatMap((module) => module.names);
    expect(names(["agent", "--no-leader-elect"])).toEqual(["agent"]);
    expect(names(["status", "-o", "json"])).toEqual(["recover", "halt", "resume", "status"]);
    expect(names(["--version"])).toEqual([]);
    const all = commandModules.flatMap((module) => module.names);
    for (const args of [[], ["--help"], ["help", "agent"], ["agnet"], ["--version", "agent"]]) {
      expect(names(args)).toEqual(all);
    }
  });

  it("still suggests the nearest command for a typo, and prints the version alone", async () => {
    const typo = await cli("agnet");
    expect(typo.code).toBe(2);
    expect(typo.err).toContain("(Did you mean agent?)");
    const version = await cli("--version");
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
