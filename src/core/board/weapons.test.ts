import { describe, expect, it } from "vitest";
import { fogKey, fogValue, fogValueAlt, fogValueFor, mountedConfigs } from "./weapons.js";

/*
 * A fog rolls over a ship's configuration: the board looks in the workload's pod template for the
 * ConfigMaps it mounts or reads its environment from, and drifts one text key of the first it can.
 */

describe("the ConfigMaps a ship carries", () => {
  it("are read from volumes, projected volumes, envFrom and env valueFrom, each once, in that order", () => {
    const template = {
      spec: {
        volumes: [
          { name: "settings", configMap: { name: "app-settings" } },
          { name: "scratch", emptyDir: {} },
          {
            name: "bundle",
            projected: { sources: [{ secret: { name: "s" } }, { configMap: { name: "ca-bundle" } }] },
          },
        ],
        initContainers: [{ name: "init", envFrom: [{ configMapRef: { name: "init-env" } }] }],
        containers: [
          {
            name: "web",
            envFrom: [{ secretRef: { name: "creds" } }, { configMapRef: { name: "app-settings" } }],
            env: [
              { name: "PLAIN", value: "x" },
              { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "logging", key: "level" } } },
              { name: "SECRET", valueFrom: { secretKeyRef: { name: "creds", key: "k" } } },
            ],
          },
        ],
      },
    };
    expect(mountedConfigs(template)).toEqual([
      { name: "app-settings" },
      { name: "ca-bundle" },
      { name: "init-env" },
      { name: "logging", key: "level" },
    ]);
  });

  it("are none for a template that mounts only Secrets or nothing, or is not a template at all", () => {
    expect(mountedConfigs({ spec: { containers: [{ name: "web", image: "x" }] } })).toEqual([]);
    expect(mountedConfigs({ spec: { volumes: [{ secret: { secretName: "s" } }] } })).toEqual([]);
    expect(mountedConfigs(undefined)).toEqual([]);
    expect(mountedConfigs({ spec: { volumes: "nope" } })).toEqual([]);
  });
});

describe("the key a fog drifts", () => {
  it("is the key the ship names when the ConfigMap holds it, else the first text key in sorted order", () => {
    const configMap = { data: { zeta: "1", alpha: "2", level: "info" } };
    expect(fogKey(configMap, "level")).toBe("level");
    expect(fogKey(configMap, "missing")).toBe("alpha");
    expect(fogKey(configMap)).toBe("alpha");
  });

  it("is none for an immutable ConfigMap, or one with no text data", () => {
    expect(fogKey({ immutable: true, data: { a: "1" } })).toBeUndefined();
    expect(fogKey({ binaryData: { a: "AAAA" } })).toBeUndefined();
    expect(fogKey({ data: {} })).toBeUndefined();
  });

  it("writes a value that differs from the key's, so a fog always changes something", () => {
    expect(fogValueFor("info")).toBe(fogValue);
    expect(fogValueFor(fogValue)).toBe(fogValueAlt);
  });
});
