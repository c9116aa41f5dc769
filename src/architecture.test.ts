import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The invariants docs/architecture.md states, checked over the source itself, so a change that breaks
 * one fails here instead of waiting for a reviewer to notice.
 */

const srcRoot = fileURLToPath(new URL(".", import.meta.url));

/** What each top-level directory of src/ may import, besides itself (docs/architecture.md, "Layers"). */
const allowedImports: Readonly<Record<string, readonly string[]>> = {
  cli: [
    "agent",
    "board",
    "daemon",
    "demo",
    "duel",
    "experiments",
    "engine",
    "faults",
    "kube",
    "sandbox",
    "core",
  ],
  agent: ["experiments", "engine", "faults", "kube", "core"],
  board: ["engine", "faults", "kube", "core"],
  // The node daemon; it reads the sandbox's pod records only through its sandbox finder (ADR 0029).
  daemon: ["kube", "sandbox", "core"],
  demo: ["sandbox", "kube", "core"],
  // The duel (ADR 0034): attacks through the engine against a GitOps defender, reported like a run.
  duel: ["experiments", "engine", "faults", "kube", "core"],
  experiments: ["engine", "faults", "kube", "core"],
  engine: ["faults", "kube", "core"],
  faults: ["kube", "core"],
  sandbox: ["kube", "core"],
  kube: ["core"],
  core: [],
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

const files = sourceFiles(srcRoot).map((path) => ({
  path,
  name: relative(srcRoot, path).split(sep).join("/"),
  text: readFileSync(path, "utf8"),
}));

/** Relative module specifiers of static and dynamic imports and re-exports. */
function relativeImports(text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)];
  return specifiers.map(([, specifier = ""]) => specifier);
}

function layerOf(name: string): string {
  return name.split("/")[0] ?? "";
}

describe("layers: dependencies point downward only", () => {
  it("knows every top-level directory of src/", () => {
    const layers = new Set(files.filter((file) => file.name.includes("/")).map((file) => layerOf(file.name)));
    expect([...layers].filter((layer) => !(layer in allowedImports))).toEqual([]);
  });

  it("has no import from a layer to one above it", () => {
    const upward = files.flatMap((file) => {
      const from = layerOf(file.name);
      return relativeImports(file.text).flatMap((specifier) => {
        const target = relative(srcRoot, resolve(file.path, "..", specifier))
          .split(sep)
          .join("/");
        const to = layerOf(target);
        const allowed = to === from || (allowedImports[from] ?? []).includes(to);
        return allowed ? [] : [`${file.name} imports ${target}`];
      });
    });
    expect(upward).toEqual([]);
  });

  it("keeps core/ pure: no Kubernetes client, no file system, no network, no processes", () => {
    const forbidden =
      /from\s+"(@kubernetes\/client-node|node:(fs|fs\/promises|net|http|https|child_process))"/;
    const impure = files.filter((file) => layerOf(file.name) === "core" && forbidden.test(file.text));
    expect(impure.map((file) => file.name)).toEqual([]);
  });
});

describe("configuration is read once, at the entry points", () => {
  // The CLI's configuration, and the sandbox's traffic process, which is a program of its own.
  const entryPoints = new Set([
    "cli/config.ts",
    "sandbox/traffic/main.ts",
    "sandbox/bodies/body-main.ts",
    "sandbox/git-server-main.ts",
    "daemon/proxy-main.ts",
    "daemon/stress-main.ts",
  ]);

  it("reads process.env and process.argv nowhere else", () => {
    const readers = files.filter(
      (file) =>
        !entryPoints.has(file.name) &&
        /\bprocess\.(env|argv)\b/.test(file.text.replace(/^\s*(\*|\/\/).*$/gm, "")),
    );
    expect(readers.map((file) => file.name)).toEqual([]);
  });
});

describe("start-up: `broadside --version` loads only what it needs (issue 14)", () => {
  /** Specifiers of the imports a module runs when loaded: not `import type`, not dynamic import(). */
  function loadedImports(text: string): string[] {
    const statements = text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms);
    return [...statements].map(([, specifier = ""]) => specifier);
  }

  /** Every package a module loads, through the modules of src/ it loads in turn. */
  function packagesLoadedBy(entry: string): Set<string> {
    const byName = new Map(files.map((file) => [file.name, file]));
    const packages = new Set<string>();
    const seen = new Set<string>();
    const visit = (name: string): void => {
      const file = byName.get(name);
      if (file === undefined || seen.has(name)) return;
      seen.add(name);
      for (const specifier of loadedImports(file.text)) {
        if (!specifier.startsWith(".")) packages.add(specifier);
        else
          visit(
            relative(srcRoot, resolve(file.path, "..", specifier))
              .split(sep)
              .join("/")
              .replace(/\.js$/, ".ts"),
          );
      }
    };
    visit(entry);
    return packages;
  }

  it("reads its configuration and parses arguments without the Kubernetes client", () => {
    const packages = packagesLoadedBy("cli/main.ts");
    expect(packages).toContain("commander");
    expect(packages).not.toContain("@kubernetes/client-node");
  });

  it("finds the client where it is loaded, so the check above can fail", () => {
    expect(packagesLoadedBy("cli/engine-setup.ts")).toContain("@kubernetes/client-node");
  });

  /** The modules of src/ a module loads, itself included, through static value imports. */
  function modulesLoadedBy(entry: string): Set<string> {
    const byName = new Map(files.map((file) => [file.name, file]));
    const seen = new Set<string>();
    const visit = (name: string): void => {
      const file = byName.get(name);
      if (file === undefined || seen.has(name)) return;
      seen.add(name);
      for (const specifier of loadedImports(file.text).filter((each) => each.startsWith("."))) {
        visit(
          relative(srcRoot, resolve(file.path, "..", specifier))
            .split(sep)
            .join("/")
            .replace(/\.js$/, ".ts"),
        );
      }
    };
    visit(entry);
    return seen;
  }

  // kill and evict (cli/chaos-commands.ts) start cold for one shot: they load Node's own modules and yaml
  // (the kubeconfig), and nothing the agent, the board or the runner needs (ADR 0020). Their requests go
  // over the wire client (kube/wire/, ADR 0024): client-node is loaded only by import() where a
  // kubeconfig needs it (exec plugins, merged files). zod is loaded by import() too, only for a ledger
  // record that is not plainly valid (core/ledger/plain-record.ts); fail, drift, squeeze and scale check
  // their parameters with it and live in cli/timed-chaos-commands.ts (ADR 0024, addendum).
  it("loads no package the pod verbs do not use, the Kubernetes client and zod included", () => {
    const packages = [...packagesLoadedBy("cli/chaos-commands.ts")].filter(
      (name) => !name.startsWith("node:"),
    );
    expect(packages.sort()).toEqual(["yaml"]);
  });

  it("finds zod where the timed faults load it, so the check above can fail", () => {
    expect(packagesLoadedBy("cli/timed-chaos-commands.ts")).toContain("zod");
  });

  it("loads no module that loads the Kubernetes client on the pod verbs' path", () => {
    const importers = [...modulesLoadedBy("cli/chaos-commands.ts")].filter((name) =>
      loadedImports(byNameText(name)).includes("@kubernetes/client-node"),
    );
    expect(importers).toEqual([]);
  });

  it("finds the modules that load the client where they are loaded, so the check above can fail", () => {
    const importers = [...modulesLoadedBy("cli/engine-setup.ts")].filter((name) =>
      loadedImports(byNameText(name)).includes("@kubernetes/client-node"),
    );
    expect(importers).toContain("kube/client.ts");
  });

  function byNameText(name: string): string {
    return files.find((file) => file.name === name)?.text ?? "";
  }

  it("keeps the agent, the sandbox, the demo and the runner off the pod verbs' path", () => {
    const elsewhere = [...modulesLoadedBy("cli/chaos-commands.ts")].filter((name) =>
      /^(agent|sandbox|demo|experiments)\//.test(name),
    );
    expect(elsewhere).toEqual([]);
  });
});
