import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeFlux } from "./sandbox-commands.js";
import { main } from "./main.js";

/** `broadside sandbox up` with the optional components' flags, on a machine with nothing yet. */
async function up(...args: string[]) {
  const home = await mkdtemp(join(tmpdir(), "broadside-sandbox-with-"));
  const env = {
    HOME: home,
    BROADSIDE_STATE_DIR: join(home, "state"),
    BROADSIDE_CACHE_DIR: join(home, "cache"),
    PATH: "",
  };
  let err = "";
  const code = await main(["node", "broadside", "sandbox", "up", "--name", "w", ...args], env, {
    out: () => undefined,
    err: (text) => (err += text),
  });
  return { code, err, files: await readdir(home) };
}

describe("sandbox up --with and --flux-interval: bad input is refused before anything is built or written", () => {
  it.each([
    [
      ["--with", "argocd"],
      '--with: unknown component "argocd"; the optional components are: flux, prometheus',
    ],
    [["--with", "flux,grafana"], '--with: unknown component "grafana"'],
    [["--with", "prometheus", "--flux-interval", "10s"], "--flux-interval: needs --with flux"],
    [["--flux-interval", "10s"], "--flux-interval: needs --with flux"],
    [["--with", "flux", "--flux-interval", "2s"], "--flux-interval: must be at least 5s, got 2s"],
    [["--with", "flux", "--flux-interval", "48h"], "--flux-interval: must be at most 24h"],
    [["--with", "flux", "--flux-interval", "soon"], '--flux-interval: "soon" is not a duration'],
  ])("%j: exit 2, naming the flag", async (flags, message) => {
    const result = await up(...flags);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.files).toEqual([]);
  });
});

describe("sandbox up's line on Flux", () => {
  const flux = {
    version: "v1.9.6",
    gitUrl: "http://127.0.0.1:4100/fleet.git",
    repository: "/s/flux/git/fleet.git",
    workTree: "/s/flux/work",
    artifactStorage: "http://127.0.0.1:4101",
    metrics: { "source-controller": "127.0.0.1:4102", "kustomize-controller": "127.0.0.1:4103" },
  };

  it("names the repository, and says how to put the fleet under Flux when nothing is yet", () => {
    expect(describeFlux(flux)).toBe(
      "v1.9.6, repository http://127.0.0.1:4100/fleet.git (work tree /s/flux/work); nothing under a Kustomization yet (--flux-interval puts the demo fleet there)",
    );
  });

  it("names the Kustomization, its interval and the revision applied", () => {
    const sync = {
      interval: "10s",
      gitRepository: "flux-system/fleet",
      kustomization: "flux-system/fleet",
      path: "fleet",
      revision: "main@sha1:abc",
    };
    expect(describeFlux({ ...flux, sync })).toContain(
      "Kustomization flux-system/fleet applies fleet/ every 10s (at main@sha1:abc)",
    );
  });
});
