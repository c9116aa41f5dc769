import { describe, expect, it } from "vitest";
import { dialLoopback } from "./front-door.js";
import { assertLoopbackHost, isLoopbackHost } from "./loopback.js";

describe("the loopback guard", () => {
  it("accepts 127.0.0.0/8 addresses only", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("127.255.3.4")).toBe(true);
    for (const host of [
      "10.244.0.5",
      "10.0.0.1",
      "192.168.1.1",
      "0.0.0.0",
      "::1",
      "localhost",
      "",
      "127.0.0",
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("throws for a sandbox pod IP, naming it", () => {
    expect(() => {
      assertLoopbackHost("10.244.1.7");
    }).toThrow(/refused to dial "10\.244\.1\.7"/);
    expect(() => {
      assertLoopbackHost("127.0.0.1");
    }).not.toThrow();
  });

  it("is checked before any connection is opened", () => {
    const dial = { host: "10.244.0.9", port: 8080, method: "GET", path: "/", headers: {} };
    expect(() => dialLoopback(dial, () => undefined)).toThrow(/only 127\.0\.0\.0\/8/);
  });
});
