import { fileParamNames } from "./object-registry.js";
import { cliParamNames } from "./plan-support.js";
import { describe, expect, it } from "vitest";
import { ABSENT } from "../core/ledger/record.js";
import { toKubeObject, type ObjectReader } from "../kube/objects.js";
import type { ConfigDriftParams } from "./config-drift.js";
import { configDrift } from "./config-drift.js";

/** A cluster with at most one ConfigMap and one Secret, behind the reader the fault plans from. */
function objectsWith(objects: { configMap?: object; secret?: object }): ObjectReader {
  return {
    read: (ref) => {
      const object = ref.kind === "Secret" ? objects.secret : objects.configMap;
      return Promise.resolve(object === undefined ? undefined : toKubeObject(object));
    },
  };
}

const metadata = { name: "app", namespace: "demo", uid: "uid-1", resourceVersion: "5" };
const objects = objectsWith({
  configMap: { metadata, data: { LOG_LEVEL: "info" }, binaryData: { blob: "AAEC" } },
  secret: { metadata, data: { PASSWORD: Buffer.from("hunter2").toString("base64") } },
});

function params(overrides: Partial<ConfigDriftParams>): ConfigDriftParams {
  return { namespace: "demo", kind: "configmap", name: "app", key: "LOG_LEVEL", ...overrides };
}

describe("config-drift plan", () => {
  it("plans a ConfigMap value change at /data/<key>", async () => {
    expect(await configDrift.plan(objects, params({ value: "debug" }), cliParamNames)).toEqual([
      {
        faultKind: "config-drift",
        target: { apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "app", uid: "uid-1" },
        path: "/data/LOG_LEVEL",
        original: "info",
        injected: "debug",
        sensitive: false,
        description: 'configmap demo/app data.LOG_LEVEL: "info" -> "debug"',
      },
    ]);
  });

  it("plans a new key and the removal of an existing one", async () => {
    const [added] = await configDrift.plan(objects, params({ key: "a.b", value: "x" }), cliParamNames);
    expect(added).toMatchObject({ path: "/data/a.b", original: ABSENT, injected: "x" });
    expect(added?.description).toBe('configmap demo/app data["a.b"]: (absent) -> "x"');
    const [removed] = await configDrift.plan(objects, params({ remove: true }), cliParamNames);
    expect(removed).toMatchObject({ original: "info", injected: ABSENT });
  });

  it("base64-encodes Secret values, marks them sensitive and never describes them", async () => {
    const [change] = await configDrift.plan(
      objects,
      params({ kind: "secret", key: "PASSWORD", value: "swordfish" }),
      cliParamNames,
    );
    expect(change).toMatchObject({
      target: { kind: "Secret" },
      original: Buffer.from("hunter2").toString("base64"),
      injected: Buffer.from("swordfish").toString("base64"),
      sensitive: true,
    });
    expect(change?.description).toBe("secret demo/app data.PASSWORD: <redacted> -> <redacted>");
  });

  it.each([
    [{ name: "missing", value: "x" }, /^TARGET: configmap demo\/missing not found/],
    [{ key: "NOPE", remove: true }, /^--key: .*no key "NOPE"/],
    [{ value: "info" }, /^--value: .*nothing would change/],
    [{ key: "blob", value: "x" }, /^--key: .*binary data/],
    [{}, /^--value: give exactly one of --value or --remove/],
    [{ value: "x", remove: true }, /^--value: give exactly one/],
    [{ key: "bad/key", value: "x" }, /^--key: /],
    [{ kind: "pod" as "secret", value: "x" }, /^TARGET: /],
    [{ name: "../kube-system", value: "x" }, /^TARGET: "..\/kube-system" is not an object name/],
    [{ namespace: "Demo", value: "x" }, /^--namespace: "Demo" is not a namespace name/],
  ] as const)("refuses %j", async (overrides, message) => {
    const wrongName = overrides as Partial<ConfigDriftParams> & { name?: string };
    const objectsForCase = wrongName.name === "missing" ? objectsWith({}) : objects;
    await expect(configDrift.plan(objectsForCase, params(wrongName), cliParamNames)).rejects.toThrow(message);
  });

  it("refuses an immutable ConfigMap", async () => {
    const frozen = objectsWith({ configMap: { metadata, immutable: true, data: { LOG_LEVEL: "info" } } });
    await expect(configDrift.plan(frozen, params({ value: "debug" }), cliParamNames)).rejects.toThrow(
      /^TARGET: .*immutable/,
    );
  });

  it("never says whether a Secret already holds a value: guessing one gets the same answer as any drift", async () => {
    const [guess] = await configDrift.plan(
      objects,
      params({ kind: "secret", key: "PASSWORD", value: "hunter2" }),
      cliParamNames,
    );
    const [other] = await configDrift.plan(
      objects,
      params({ kind: "secret", key: "PASSWORD", value: "swordfish" }),
      cliParamNames,
    );
    expect(guess?.description).toBe(other?.description);
    expect(guess).toMatchObject({ sensitive: true, injected: Buffer.from("hunter2").toString("base64") });
  });

  it("names a file's field, not a flag, when the plan comes from a file", async () => {
    const names = fileParamNames({ paramsPath: "spec.method[2].params" });
    await expect(
      configDrift.plan(objectsWith({}), params({ name: "missing", value: "x" }), names),
    ).rejects.toThrow(/^spec\.method\[2\]\.params\.name: configmap demo\/missing not found/);
    await expect(configDrift.plan(objects, params({ value: "info" }), names)).rejects.toThrow(
      /^spec\.method\[2\]\.params\.value: .*nothing would change/,
    );
  });
});
