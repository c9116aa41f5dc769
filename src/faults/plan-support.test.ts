import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BroadsideError } from "../core/errors.js";
import { ABSENT } from "../core/ledger/record.js";
import {
  describeKey,
  describeObject,
  flagOf,
  parseParams,
  showValue,
  cliParamNames,
} from "./plan-support.js";

describe("parseParams", () => {
  const schema = z.strictObject({
    maxUnavailable: z.number().int("must be a whole number"),
    name: z.string(),
  });

  it("returns the checked parameters", () => {
    expect(parseParams(schema, { maxUnavailable: 2, name: "web" }, cliParamNames)).toEqual({
      maxUnavailable: 2,
      name: "web",
    });
  });

  it("names the flag of the first bad field in a usage error", () => {
    const error = (() => {
      try {
        parseParams(schema, { maxUnavailable: 1.5, name: "web" }, cliParamNames);
      } catch (caught: unknown) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BroadsideError);
    expect(error).toMatchObject({ code: "BRD_USAGE", message: "--max-unavailable: must be a whole number" });
  });

  it("names an unknown field rather than ignoring it", () => {
    expect(() =>
      parseParams(schema, { maxUnavailable: 1, name: "web", unsafe: true }, cliParamNames),
    ).toThrow(/unsafe/);
  });

  it("says 'parameters' when the input is not an object at all", () => {
    expect(() => parseParams(schema, "web", cliParamNames)).toThrow(/^parameters: /);
  });
});

describe("wording", () => {
  it("spells flags as commander does", () => {
    expect(flagOf("replicas")).toBe("--replicas");
    expect(flagOf("maxUnavailable")).toBe("--max-unavailable");
  });

  it("names objects as kubectl users do", () => {
    expect(describeObject("ConfigMap", "demo", "app")).toBe("configmap demo/app");
  });

  it("writes keys as paths when they read as one, else in brackets", () => {
    expect(describeKey("data", "LOG_LEVEL")).toBe("data.LOG_LEVEL");
    expect(describeKey("data", "app.properties")).toBe('data["app.properties"]');
  });

  it("shows values as JSON, absent ones as such, and secret ones not at all", () => {
    expect(showValue("info", false)).toBe('"info"');
    expect(showValue(3, false)).toBe("3");
    expect(showValue(ABSENT, false)).toBe("(absent)");
    expect(showValue(ABSENT, true)).toBe("(absent)");
    expect(showValue("c2VjcmV0", true)).toBe("<redacted>");
  });
});
