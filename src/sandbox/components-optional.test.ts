import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import { checkOptionalRequest, parseWith } from "./components-optional.js";

function failureOf(action: () => unknown): BroadsideError {
  try {
    action();
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error("expected a BroadsideError");
}

describe("sandbox up --with", () => {
  it("takes a comma-separated list, adds repeated flags, and keeps each component once", () => {
    expect(parseWith("flux")).toEqual(["flux"]);
    expect(parseWith(" flux ,flux", [])).toEqual(["flux"]);
    expect(parseWith("flux", ["flux"])).toEqual(["flux"]);
    expect(parseWith("flux,prometheus")).toEqual(["flux", "prometheus"]);
    expect(parseWith("prometheus", ["flux"])).toEqual(["flux", "prometheus"]);
  });

  it("refuses an unknown component, naming the flag and the components there are", () => {
    const failure = failureOf(() => parseWith("flux,argocd"));
    expect(failure.code).toBe("BRD_USAGE");
    expect(failure.message).toBe(
      '--with: unknown component "argocd"; the optional components are: flux, prometheus',
    );
    expect(failureOf(() => parseWith("")).message).toContain('unknown component ""');
  });
});

describe("sandbox up --flux-interval", () => {
  const manifests = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } }];
  const interval = (text: string) => ({ interval: Duration.parse(text, "--flux-interval"), manifests });

  it("is accepted with --with flux, from 5s to 24h", () => {
    for (const text of ["5s", "10s", "5m", "24h"])
      expect(() => {
        checkOptionalRequest({ with: ["flux"], fluxSync: interval(text) });
      }).not.toThrow();
  });

  it("is refused without --with flux, saying so", () => {
    const failure = failureOf(() => {
      checkOptionalRequest({ fluxSync: interval("10s") });
    });
    expect(failure.message).toBe("--flux-interval: needs --with flux");
  });

  it("is refused out of its bounds, naming the flag and the bound", () => {
    expect(
      failureOf(() => {
        checkOptionalRequest({ with: ["flux"], fluxSync: interval("1s") });
      }).message,
    ).toBe("--flux-interval: must be at least 5s, got 1s");
    expect(
      failureOf(() => {
        checkOptionalRequest({ with: ["flux"], fluxSync: interval("25h") });
      }).message,
    ).toBe("--flux-interval: must be at most 24h, got 25h");
  });

  it("asks nothing of Flux when not given", () => {
    expect(() => {
      checkOptionalRequest({});
    }).not.toThrow();
    expect(() => {
      checkOptionalRequest({ with: ["flux"] });
    }).not.toThrow();
  });
});
