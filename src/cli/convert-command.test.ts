import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";

/** `broadside convert` as a user runs it: the file in, the converted manifest out, exit codes as documented. */

async function convert(...args: string[]) {
  const home = await mkdtemp(join(tmpdir(), "broadside-convert-"));
  let out = "";
  let err = "";
  const env = {
    HOME: home,
    BROADSIDE_STATE_DIR: join(home, "state"),
    BROADSIDE_CACHE_DIR: join(home, "cache"),
  };
  const code = await main(["node", "broadside", "convert", ...args], env, {
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  return { code, out, err, home };
}

const examples = join(import.meta.dirname, "..", "..", "examples");

describe("broadside convert FILE", () => {
  it("prints the in-cluster form of examples/chaos-mesh-podchaos.yaml: examples/in-cluster/podchaos.yaml's spec", async () => {
    const { code, out } = await convert(join(examples, "chaos-mesh-podchaos.yaml"));
    expect(code).toBe(0);
    const original = await readFile(join(examples, "chaos-mesh-podchaos.yaml"), "utf8");
    expect(out).toBe(
      original.replace("apiVersion: chaos-mesh.org/v1alpha1", "apiVersion: broadside.dev/v1alpha1"),
    );
    const inCluster = await readFile(join(examples, "in-cluster", "podchaos.yaml"), "utf8");
    expect(inCluster.slice(inCluster.indexOf("apiVersion:"))).toBe(out.slice(out.indexOf("apiVersion:")));
  });

  it("writes to -o instead of stdout", async () => {
    const target = join(await mkdtemp(join(tmpdir(), "broadside-convert-out-")), "schedule.yaml");
    const { code, out } = await convert(join(examples, "chaos-mesh-schedule.yaml"), "-o", target);
    expect(code).toBe(0);
    expect(out).toBe("");
    expect(await readFile(target, "utf8")).toContain("apiVersion: broadside.dev/v1alpha1\nkind: Schedule\n");
  });

  it("exits 2 naming the field, and writes nothing, for a bad manifest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-convert-bad-"));
    const bad = join(dir, "bad.yaml");
    const original = await readFile(join(examples, "chaos-mesh-podchaos.yaml"), "utf8");
    await writeFile(bad, original.replace('value: "1"', 'value: "0"'));
    const { code, out, err } = await convert(bad, "-o", join(dir, "out.yaml"));
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain("spec.value: fixed needs a whole number of pods from 1 to 100000");
    await expect(readFile(join(dir, "out.yaml"))).rejects.toThrow(/ENOENT/);
  });

  it("exits 2 for a file it cannot read, naming it", async () => {
    const { code, err } = await convert(join(examples, "no-such-file.yaml"));
    expect(code).toBe(2);
    expect(err).toContain("cannot read");
  });
});
