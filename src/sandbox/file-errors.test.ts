import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { withFileErrors } from "./file-errors.js";

describe("file-system failures while the sandbox writes its files", () => {
  it("become the step's code, naming the call, the path and the errno", async () => {
    const failure = await withFileErrors("BRD_SANDBOX_START_FAILED", 'starting sandbox "s1"', () =>
      readFile("/no/such/kwok-stages/pod-ready.yaml"),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_SANDBOX_START_FAILED");
    expect((failure as BroadsideError).message).toBe(
      'starting sandbox "s1": open /no/such/kwok-stages/pod-ready.yaml failed (ENOENT)',
    );
  });

  it("leave every other error as it is (an API error is still the API's)", async () => {
    const apiError = new Error("HTTP-Code: 500");
    await expect(
      withFileErrors("BRD_SANDBOX_START_FAILED", "x", () => Promise.reject(apiError)),
    ).rejects.toBe(apiError);
    const coded = new BroadsideError("BRD_TIMEOUT", "waited");
    await expect(withFileErrors("BRD_SANDBOX_START_FAILED", "x", () => Promise.reject(coded))).rejects.toBe(
      coded,
    );
  });

  it("pass the result through when nothing fails", async () => {
    expect(await withFileErrors("BRD_SANDBOX_START_FAILED", "x", () => Promise.resolve(7))).toBe(7);
  });
});
