import { isRecord } from "../objects.js";

/**
 * What the board's object weapons aim at inside a ship (ADR 0028), from the workload's pod template: a
 * fog drifts one key of a ConfigMap the ship mounts; an anchor squeezes the workload's containers to
 * fixed limits. Pure, so the choice is tested without a cluster and is the same in every process.
 */

/** The limits an anchor squeezes every container of the ship to, while it lasts. */
export const anchorLimits = { cpu: "50m", memory: "64Mi" } as const;

/** The value a fog writes into the key it drifts (or `fogValueAlt` when the key holds that already). */
export const fogValue = "broadside-fog";
export const fogValueAlt = "broadside-fog-2";

/** Why a fog at a ship that mounts no ConfigMap (with a text key it can change) misses. */
export const noConfigReason = "that ship carries no config";

/** A ConfigMap the pod template refers to, and the key it names when it names one (env valueFrom). */
export interface MountedConfig {
  readonly name: string;
  readonly key?: string;
}

/**
 * The ConfigMaps a pod template refers to, in the order it names them: volumes (configMap and projected
 * sources), then each container's and init container's envFrom and env valueFrom. Each name once; a
 * reference naming a key keeps its key.
 */
export function mountedConfigs(template: unknown): MountedConfig[] {
  const spec = field(template, "spec");
  const found = [...volumeConfigs(spec), ...containerConfigs(spec)];
  const seen = new Set<string>();
  return found.filter((config) => {
    if (seen.has(config.name)) return false;
    seen.add(config.name);
    return true;
  });
}

function volumeConfigs(spec: unknown): MountedConfig[] {
  return list(field(spec, "volumes")).flatMap((volume) => {
    const direct = nameIn(field(volume, "configMap"));
    const projected = list(field(field(volume, "projected"), "sources")).flatMap((source) =>
      nameIn(field(source, "configMap")),
    );
    return [...direct, ...projected].map((name) => ({ name }));
  });
}

function containerConfigs(spec: unknown): MountedConfig[] {
  const containers = [...list(field(spec, "initContainers")), ...list(field(spec, "containers"))];
  return containers.flatMap((container) => [
    ...list(field(container, "envFrom")).flatMap((source) =>
      nameIn(field(source, "configMapRef")).map((name) => ({ name })),
    ),
    ...list(field(container, "env")).flatMap((variable) =>
      keyRef(field(field(variable, "valueFrom"), "configMapKeyRef")),
    ),
  ]);
}

function keyRef(ref: unknown): MountedConfig[] {
  const [name] = nameIn(ref);
  const key = field(ref, "key");
  if (name === undefined) return [];
  return [typeof key === "string" ? { name, key } : { name }];
}

/**
 * The key a fog drifts in a ConfigMap: the key the ship names (env valueFrom) when the ConfigMap holds it
 * as text, else its first text key in sorted order. Undefined when there is none, or the ConfigMap is
 * immutable (the API server would refuse the change).
 */
export function fogKey(configMap: unknown, wanted?: string): string | undefined {
  if (field(configMap, "immutable") === true) return undefined;
  const data = field(configMap, "data");
  if (!isRecord(data)) return undefined;
  const keys = Object.keys(data).filter((key) => typeof data[key] === "string");
  if (wanted !== undefined && keys.includes(wanted)) return wanted;
  return keys.sort()[0];
}

/** What a fog writes over `original`: never the value the key holds already. */
export function fogValueFor(original: unknown): string {
  return original === fogValue ? fogValueAlt : fogValue;
}

function field(value: unknown, name: string): unknown {
  return isRecord(value) ? value[name] : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as readonly unknown[]) : [];
}

function nameIn(ref: unknown): string[] {
  const name = field(ref, "name");
  return typeof name === "string" && name !== "" ? [name] : [];
}
