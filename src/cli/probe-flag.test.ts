import { describe, expect, it } from "vitest";
import { probesFromFlags } from "./probe-flag.js";

describe("--probe", () => {
  it("takes a bare URL as an http probe with the file's defaults: 1 Hz, 1 s timeout, every sample must succeed", () => {
    const [probe] = probesFromFlags(["http://127.0.0.1:18080/"]);
    expect(probe).toMatchObject({
      type: "http",
      name: "probe-1",
      url: "http://127.0.0.1:18080/",
      method: "GET",
      frequencyHz: 1,
      timeout: { milliseconds: 1000 },
      expectStatus: [{ from: 200, to: 299 }],
    });
    expect(probe?.tolerances.map((t) => t.text)).toEqual(["availability >= 100%"]);
  });

  it("reads key=value pairs, with tolerances repeated", () => {
    const [probe] = probesFromFlags([
      "name=checkout,url=http://127.0.0.1:18080/healthz,frequency=5,timeout=500ms,expect=2xx|301,latency-threshold=200ms,tolerance=availability>=99%,tolerance=p95 <= 100ms",
    ]);
    expect(probe).toMatchObject({
      name: "checkout",
      frequencyHz: 5,
      timeout: { milliseconds: 500 },
      latencyThreshold: { milliseconds: 200 },
      expectStatus: [
        { from: 200, to: 299 },
        { from: 301, to: 301 },
      ],
    });
    expect(probe?.tolerances.map((t) => t.text)).toEqual(["availability>=99%", "p95 <= 100ms"]);
  });

  it.each([
    ["url=http://127.0.0.1/,frequency=100", "--probe: frequency: must be at most 50 Hz"],
    ["url=http://127.0.0.1/,colour=red", '--probe: "colour=red" is not key=value'],
    ["url=http://127.0.0.1/,tolerance=availability<=99%", "tolerances.0: availability is a floor"],
    ["frequency=5", "--probe: url:"],
    ["url=http://127.0.0.1/,name=a,name=b", "--probe: name is given more than once"],
  ])("refuses %j, naming the flag and the field", (spec, message) => {
    expect(() => probesFromFlags([spec])).toThrow(message);
  });

  it("numbers the occurrence when there are several", () => {
    expect(() => probesFromFlags(["http://127.0.0.1/", "url=ftp://x/"])).toThrow("--probe #2: url:");
  });
});
