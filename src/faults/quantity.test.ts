import { describe, expect, it } from "vitest";
import {
  checkCpuQuantity,
  checkMemoryQuantity,
  clampQuantity,
  compareQuantities,
  formatQuantity,
  QuantityError,
  quantityNanos,
} from "./quantity.js";

function canonical(check: ReturnType<typeof checkCpuQuantity>): string {
  if (!check.ok) throw new Error(check.problem);
  return check.canonical;
}

describe("quantityNanos", () => {
  it.each([
    ["1", 1_000_000_000n],
    ["500m", 500_000_000n],
    ["0.5", 500_000_000n],
    [".5", 500_000_000n],
    ["1.", 1_000_000_000n],
    ["100u", 100_000n],
    ["5n", 5n],
    ["1k", 1_000_000_000_000n],
    ["1Ki", 1024n * 1_000_000_000n],
    ["1.5Gi", 1_610_612_736n * 1_000_000_000n],
    ["1e3", 1_000_000_000_000n],
    ["12E-3", 12_000_000n],
    ["-2", -2_000_000_000n],
    ["+2", 2_000_000_000n],
  ])("reads %s", (text, nanos) => {
    expect(quantityNanos(text)).toBe(nanos);
  });

  it("rounds digits finer than a billionth up, as Kubernetes does", () => {
    expect(quantityNanos("0.0000000001")).toBe(1n);
  });

  it.each(["", "abc", "1K", "1 Gi", "1GiB", "0x10", "1e", "1.2.3", "1e999", "--1"])("refuses %j", (text) => {
    expect(quantityNanos(text)).toBeUndefined();
  });
});

describe("formatQuantity (apimachinery's canonical form)", () => {
  it.each([
    ["0.5", "DecimalSI", "500m"],
    ["1.5", "DecimalSI", "1500m"],
    ["1000m", "DecimalSI", "1"],
    ["2", "DecimalSI", "2"],
    ["100", "DecimalSI", "100"],
    ["1500", "DecimalSI", "1500"],
    ["1000", "DecimalSI", "1k"],
    ["1000M", "DecimalSI", "1G"],
    ["100u", "DecimalSI", "100u"],
    ["1024Mi", "BinarySI", "1Gi"],
    ["1536Mi", "BinarySI", "1536Mi"],
    ["1.5Gi", "BinarySI", "1536Mi"],
    ["1Ki", "BinarySI", "1Ki"],
    ["0.5Ki", "BinarySI", "512"],
    ["1023", "BinarySI", "1023"],
    ["0.1Ki", "BinarySI", "102400m"],
  ] as const)("writes %s (%s) as %s", (text, format, expected) => {
    const nanos = quantityNanos(text);
    expect(nanos).toBeDefined();
    expect(formatQuantity(nanos ?? 0n, format)).toBe(expected);
  });

  it("writes zero as 0", () => {
    expect(formatQuantity(0n, "BinarySI")).toBe("0");
  });
});

describe("compareQuantities and clampQuantity", () => {
  it("compares across suffixes and notations", () => {
    expect(compareQuantities("500m", "0.5")).toBe(0);
    expect(compareQuantities("1Gi", "1G")).toBe(1);
    expect(compareQuantities("999Mi", "1Gi")).toBe(-1);
    expect(compareQuantities("1e3", "1k")).toBe(0);
  });

  it("throws a QuantityError when a side is not a quantity", () => {
    expect(() => compareQuantities("1", "lots")).toThrow(QuantityError);
  });

  it("clamps to the maximum and keeps smaller values as they are written", () => {
    expect(clampQuantity("2", "500m")).toBe("500m");
    expect(clampQuantity("250m", "500m")).toBe("250m");
    expect(clampQuantity("0.5", "500m")).toBe("0.5");
  });
});

describe("checkCpuQuantity", () => {
  it.each([
    ["500m", "500m"],
    ["0.5", "500m"],
    ["1000m", "1"],
    ["2", "2"],
    ["1.25", "1250m"],
  ])("accepts %s as %s", (text, expected) => {
    expect(canonical(checkCpuQuantity(text))).toBe(expected);
  });

  it.each([
    ["0", /more than zero/],
    ["0m", /more than zero/],
    ["-1", /more than zero/],
    ["0.0001", /finer than 1m/],
    ["1Gi", /not a CPU quantity/],
    ["1k", /not a CPU quantity/],
    ["1e3", /not a CPU quantity/],
    ["lots", /not a CPU quantity/],
  ])("refuses %s", (text, problem) => {
    const check = checkCpuQuantity(text);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(problem);
  });
});

describe("checkMemoryQuantity", () => {
  it.each([
    ["64Mi", "64Mi"],
    ["1024Mi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["500M", "500M"],
    ["1000M", "1G"],
    ["1k", "1k"],
    ["134217728", "134217728"],
    ["2048", "2048"],
  ])("accepts %s as %s", (text, expected) => {
    expect(canonical(checkMemoryQuantity(text))).toBe(expected);
  });

  it.each([
    ["0", /more than zero/],
    ["-64Mi", /more than zero/],
    ["64K", /no "K"/],
    ["64m", /thousandths of a byte/],
    ["1.5", /whole number of bytes/],
    ["64MB", /not a memory quantity/],
    ["1e9", /not a memory quantity/],
    ["500u", /not a memory quantity/],
  ])("refuses %s", (text, problem) => {
    const check = checkMemoryQuantity(text);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(problem);
  });
});
