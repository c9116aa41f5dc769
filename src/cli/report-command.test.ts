import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildRunReport } from "../experiments/report/build.js";
import { renderJson } from "../experiments/report/json.js";
import { exampleRunInput } from "../experiments/report/synthetic.js";
import { main } from "./main.js";

async function runJson(transform: (json: string) => string = (json) => json): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "broadside-report-"));
  const file = join(dir, "run.json");
  await writeFile(file, transform(renderJson(buildRunReport(exampleRunInput()))));
  return file;
}

async function cli(...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(
    ["node", "broadside", ...args],
    { HOME: tmpdir() },
    {
      out: (text) => (out += text),
      err: (text) => (err += text),
    },
  );
  return { code, out, err };
}

describe("broadside report regenerates any format from a run's JSON", () => {
  it.each([
    ["md", /^# /m],
    ["junit", /^<\?xml version="1\.0" encoding="UTF-8"\?>/],
    ["html", /^<!DOCTYPE html>/i],
    ["text", /verdict/i],
  ])("--format %s", async (format, shape) => {
    const result = await cli("report", await runJson(), "--format", format);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toMatch(shape);
  });

  it("writes to --output instead of stdout", async () => {
    const file = await runJson();
    const output = join(file, "..", "report.html");
    expect((await cli("report", file, "--format", "html", "--output", output)).code).toBe(0);
    expect(await readFile(output, "utf8")).toMatch(/<svg/);
  });

  it("refuses an unknown format, naming the flag", async () => {
    const result = await cli("report", await runJson(), "--format", "pdf");
    expect(result.code).toBe(2);
    expect(result.err).toContain("--format");
  });

  it("refuses a report whose stored figures do not follow from its samples", async () => {
    const tampered = await runJson((json) =>
      json.replace(/"sent": (\d+)/, (_match, sent: string) => `"sent": ${Number(sent) + 1}`),
    );
    const result = await cli("report", tampered, "--format", "md");
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/figures do not match the samples at .*sent/);
  });

  it("names the file and the path of a bad field", async () => {
    const broken = await runJson((json) => json.replace('"schemaVersion": 2', '"schemaVersion": "one"'));
    const result = await cli("report", broken);
    expect(result.code).toBe(2);
    expect(result.err).toContain("schemaVersion");
  });
});
