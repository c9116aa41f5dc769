import { describe, expect, it } from "vitest";
import { isRecord, optional } from "./objects.js";

describe("optional", () => {
  it("gives the field when the value is set", () => {
    expect(optional("node", "node-1")).toEqual({ node: "node-1" });
  });

  it("leaves the field out, rather than undefined, when the value is not set", () => {
    const spread = { name: "web", ...optional("node", undefined) };
    expect(spread).toEqual({ name: "web" });
    expect(Object.hasOwn(spread, "node")).toBe(false);
    expect(JSON.stringify(spread)).toBe('{"name":"web"}');
  });

  it("keeps values that are set but falsy: only undefined means absent", () => {
    expect(optional("count", 0)).toEqual({ count: 0 });
    expect(optional("label", "")).toEqual({ label: "" });
    expect(optional("ok", false)).toEqual({ ok: false });
    expect(optional("value", null)).toEqual({ value: null });
  });

  it("converts a set value into the field's shape, and never calls convert for an unset one", () => {
    const converted: number[] = [];
    const double = (value: number) => {
      converted.push(value);
      return value * 2;
    };
    expect(optional("doubled", 21, double)).toEqual({ doubled: 42 });
    expect(optional("doubled", undefined, double)).toEqual({});
    expect(converted).toEqual([21]);
  });
});

describe("isRecord", () => {
  it.each<[string, unknown, boolean]>([
    ["an object", { a: 1 }, true],
    ["an empty object", {}, true],
    ["an object without a prototype", Object.create(null), true],
    ["null", null, false],
    ["a list", [1, 2], false],
    ["a string", "a: 1", false],
    ["a number", 1, false],
    ["undefined", undefined, false],
  ])("%s is a record: %s", (_, value, expected) => {
    expect(isRecord(value)).toBe(expected);
  });
});
