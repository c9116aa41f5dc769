import { describe, expect, it } from "vitest";
import { BroadsideError } from "./errors.js";
import { dnsLabelProblem, dnsSubdomainProblem, namespaceName, objectName } from "./names.js";

describe("namespace names are RFC 1123 labels, as the API server checks them", () => {
  it.each(["shop", "a", "team-1", "0abc", "a".repeat(63)])("accepts %j", (name) => {
    expect(dnsLabelProblem(name)).toBeUndefined();
    expect(namespaceName(name, "-n")).toBe(name);
  });

  it.each([
    ["", "must not be empty"],
    ["a".repeat(64), "must be at most 63 characters"],
    ["../kube-system", "must consist of"],
    ["kube.system", "must consist of"],
    ["Shop", "must consist of"],
    ["-shop", "must consist of"],
    ["shop-", "must consist of"],
    ["sh op", "must consist of"],
    ["shop\u001b[2J", "must consist of"],
    ["%2e%2e", "must consist of"],
  ])("refuses %j: %s", (name, problem) => {
    expect(dnsLabelProblem(name)).toContain(problem);
  });

  it("names the flag, quotes the value so an empty or odd one is visible, and is a usage error", () => {
    const attempt = () => namespaceName("../kube-system", "--namespace");
    expect(attempt).toThrow(BroadsideError);
    expect(attempt).toThrow('--namespace: "../kube-system" is not a namespace name: must consist of');
    expect(() => namespaceName("", "-n")).toThrow('-n: "" is not a namespace name: must not be empty');
  });
});

describe("object names are RFC 1123 subdomains", () => {
  it.each(["web", "web-7d4b9c-x2x9z", "app.config", "a".repeat(253)])("accepts %j", (name) => {
    expect(dnsSubdomainProblem(name)).toBeUndefined();
  });

  it.each(["", ".", "..", "../x", "a/b", "a..b", ".a", "a.", "A", "a_b", "a".repeat(254), "x\\y"])(
    "refuses %j",
    (name) => {
      expect(dnsSubdomainProblem(name)).toBeDefined();
      expect(() => objectName(name, "metadata.name")).toThrow(/^metadata\.name: /);
    },
  );

  it("shortens a long name in the message instead of printing all of it", () => {
    expect(() => objectName("A".repeat(300), "TARGET")).toThrow(/"A{80}\.\.\."/);
  });
});
