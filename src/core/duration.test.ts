import { describe, expect, it } from "vitest";
import { Duration } from "./duration.js";
import { BroadsideError } from "./errors.js";

describe("Duration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["0", 0],
  ])("parses %s as %d ms", (text, milliseconds) => {
    expect(Duration.parse(text, "--duration").milliseconds).toBe(milliseconds);
  });

  it.each(["", "10", "-5s", "5 minutes", "s", "5d", "1e3s"])(
    "refuses %j with an error naming the flag",
    (text) => {
      expect(() => Duration.parse(text, "--duration")).toThrow(/^--duration: /);
      expect(() => Duration.parse(text, "--duration")).toThrow(BroadsideError);
    },
  );

  it("says negative values are negative, not unparseable", () => {
    expect(() => Duration.parse("-5s", "--duration")).toThrow("--duration: must not be negative");
  });

  it("prints itself in the largest whole unit", () => {
    expect(Duration.parse("90s", "x").toString()).toBe("90s");
    expect(Duration.parse("120s", "x").toString()).toBe("2m");
    expect(Duration.ofMilliseconds(1500).toString()).toBe("1500ms");
  });

  it("refuses negative milliseconds when built from a number", () => {
    expect(() => Duration.ofMilliseconds(-1)).toThrow(RangeError);
  });
});

describe("Duration bounds", () => {
  it("refuses digits that overflow to Infinity, naming the field", () => {
    expect(() => Duration.parse(`${"9".repeat(400)}s`, "wait")).toThrow(/^wait: must be at most 8760h/);
  });

  it("refuses anything past a year, whatever the field", () => {
    expect(Duration.parse("8760h", "x").milliseconds).toBe(Duration.ceiling.milliseconds);
    expect(() => Duration.parse("8761h", "x")).toThrow("x: must be at most 8760h");
  });

  it("refuses a duration past the field's own maximum, and says the maximum", () => {
    const max = Duration.parse("1h", "max");
    expect(Duration.parse("60m", "--timeout", max).milliseconds).toBe(3_600_000);
    expect(() => Duration.parse("600h", "--timeout", max)).toThrow(
      '--timeout: must be at most 1h, got "600h"',
    );
  });
});
