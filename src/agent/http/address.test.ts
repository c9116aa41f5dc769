import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { agentHttpConfig } from "./server.js";
import { formatListenAddress, parseListenAddress } from "./address.js";

describe("listen addresses", () => {
  it.each([
    ["127.0.0.1:8080", "127.0.0.1", 8080],
    ["0.0.0.0:8080", "0.0.0.0", 8080],
    ["localhost:9090", "localhost", 9090],
    ["[::1]:8080", "::1", 8080],
    ["[::]:8443", "::", 8443],
    ["127.0.0.1:0", "127.0.0.1", 0],
  ])("reads %s", (text, host, port) => {
    expect(parseListenAddress(text, "--metrics-bind-address")).toEqual({
      host,
      port,
      field: "--metrics-bind-address",
    });
  });

  it.each([
    ["8080", "has no port"],
    [":8080", "has no host: write 0.0.0.0 for every interface"],
    ["127.0.0.1:http", 'has no valid port ("http")'],
    ["127.0.0.1:65536", 'has no valid port ("65536")'],
    ["127.0.0.1:-1", 'has no valid port ("-1")'],
    ["127.0.0.1:", 'has no valid port ("")'],
    ["127.0.0.1:80 ", 'has no valid port ("80 ")'],
    ["::1:8080", "an IPv6 address goes in brackets"],
    ["metrics.example.com:8080", '"metrics.example.com" is not an IP address or localhost'],
    ["256.0.0.1:8080", '"256.0.0.1" is not an IP address'],
    ["[127.0.0.1]:8080", '"[127.0.0.1]" is not an IP address'],
  ])("refuses %s, naming the flag: %s", (text, problem) => {
    const parse = () => parseListenAddress(text, "--health-probe-bind-address");
    expect(parse).toThrow(BroadsideError);
    expect(parse).toThrow(`--health-probe-bind-address: `);
    expect(parse).toThrow(problem);
  });

  it("writes an address back as it is typed, IPv6 in brackets", () => {
    expect(formatListenAddress({ host: "::1", port: 8080 })).toBe("[::1]:8080");
    expect(formatListenAddress({ host: "127.0.0.1", port: 8080 })).toBe("127.0.0.1:8080");
  });

  it("defaults both listeners to one on loopback port 8080; a pod binds every interface by flag", () => {
    const outside = agentHttpConfig({});
    expect(outside.healthAddress).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(outside.metricsAddress).toMatchObject({ host: "127.0.0.1", port: 8080 });

    const inPod = agentHttpConfig({ healthAddress: "0.0.0.0:8081", metricsAddress: "0.0.0.0:8080" });
    expect(inPod.healthAddress).toEqual({
      host: "0.0.0.0",
      port: 8081,
      field: "--health-probe-bind-address",
    });
    expect(inPod.metricsAddress).toEqual({ host: "0.0.0.0", port: 8080, field: "--metrics-bind-address" });
  });
});
