import { cliParamNames } from "../../src/faults/plan-support.js";
import type { V1ConfigMap, V1Container, V1PodTemplateSpec } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { BroadsideError } from "../../src/core/errors.js";
import type { LedgerDraft, LedgerRecord, OutcomeKind } from "../../src/core/ledger/record.js";
import { redact } from "../../src/core/ledger/record.js";
import type { RecoverySummary } from "../../src/core/ledger/recovery.js";
import { recoverExpired } from "../../src/core/ledger/recovery.js";
import { markApplied } from "../../src/core/ledger/state-machine.js";
import { ConflictError } from "../../src/core/ledger/store.js";
import { configDrift } from "../../src/faults/config-drift.js";
import { planObjectFault } from "../../src/faults/object-registry.js";
import { resourceSqueeze } from "../../src/faults/resource-squeeze.js";
import { scale } from "../../src/faults/scale.js";
import { ledgerDraft } from "../../src/engine/object-chaos.js";
import type { PlannedChange } from "../../src/faults/types.js";
import type { KubeClients } from "../../src/kube/client.js";
import { FieldAccess } from "../../src/kube/field-access.js";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import { ClusterObjects, toKubeObject } from "../../src/kube/objects.js";
import { adminClients, httpStatusOf, useTestNamespace } from "./harness.js";

const actor = { user: "integration-test", host: "vitest", pid: process.pid };

function template(app: string, containers: V1Container[]): V1PodTemplateSpec {
  return {
    metadata: { labels: { app } },
    spec: { terminationGracePeriodSeconds: 1, containers },
  };
}

const squeezable: V1Container[] = [
  {
    name: "app",
    image: "registry.invalid/app:1",
    resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "250m", memory: "128Mi" } },
  },
  { name: "sidecar", image: "registry.invalid/sidecar:1" },
];

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

describe("object faults: plan, ledger, apply, recover against a real API server", () => {
  const namespace = useTestNamespace("it-objfaults");
  // A ledger namespace of this file's own, which the store creates on its first write.
  const ledgerNamespace = `it-ledger-${randomBytes(3).toString("hex")}`;
  let kube: KubeClients;
  let objects: ClusterObjects;
  let store: ConfigMapLedgerStore;
  let access: FieldAccess;

  beforeAll(() => {
    kube = adminClients();
    objects = new ClusterObjects(kube);
    store = new ConfigMapLedgerStore(kube, ledgerNamespace);
    access = new FieldAccess(objects);
  });

  afterAll(async () => {
    await adminClients()
      .core.deleteNamespace({ name: ledgerNamespace })
      .catch((error: unknown) => {
        if (httpStatusOf(error) !== 404) throw error;
      });
  });

  function draftOf(change: PlannedChange): LedgerDraft {
    const now = Date.now();
    return ledgerDraft(change, now, now + 600_000, actor);
  }

  /** The life of a fault up to the observation: a pending record first, then the change, then "active". */
  async function applyAll(changes: readonly PlannedChange[]): Promise<LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    for (const change of changes) {
      const pending = await store.create(draftOf(change));
      await access.apply(pending);
      records.push(await store.update(markApplied(pending)));
    }
    return records;
  }

  /** Halt-style recovery of every open record; returns the results for `records`, by id. */
  async function recover(): Promise<Map<string, RecoverySummary>> {
    const summaries = await recoverExpired(store, access, systemClock, { includeUnexpired: true });
    return new Map(summaries.map((summary) => [summary.id, summary]));
  }

  async function expectClosed(records: readonly LedgerRecord[], outcome: OutcomeKind): Promise<void> {
    for (const record of records) {
      const stored = await store.get(record.id);
      expect(stored?.state, record.id).toBe("closed");
      expect(stored?.outcome?.kind, record.id).toBe(outcome);
    }
  }

  async function createConfigMap(name: string, data: Record<string, string>): Promise<V1ConfigMap> {
    return kube.core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name }, data },
    });
  }

  function readConfigMap(name: string): Promise<V1ConfigMap> {
    return kube.core.readNamespacedConfigMap({ name, namespace: namespace() });
  }

  async function setConfigMapKey(name: string, key: string, value: string): Promise<V1ConfigMap> {
    const current = await readConfigMap(name);
    return kube.core.replaceNamespacedConfigMap({
      name,
      namespace: namespace(),
      body: { metadata: current.metadata ?? {}, data: { ...current.data, [key]: value } },
    });
  }

  async function createDeployment(name: string, replicas: number): Promise<void> {
    await kube.apps.createNamespacedDeployment({
      namespace: namespace(),
      body: {
        metadata: { name },
        spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name, squeezable) },
      },
    });
  }

  /** A container's resources as the API server sent them (JSON, not client-node models). */
  function resourcesOf(object: { spec?: { template: V1PodTemplateSpec } }, index: number): unknown {
    return toKubeObject(object.spec?.template.spec?.containers[index]?.resources ?? {});
  }

  function templateJson(object: { spec?: { template: V1PodTemplateSpec } }): unknown {
    return toKubeObject(object.spec?.template ?? {});
  }

  it("config-drift sets, adds and removes ConfigMap keys, and recovery restores the data exactly", async () => {
    const before = await createConfigMap("app-config", { LOG_LEVEL: "info", MODE: "prod" });
    const target = { namespace: namespace(), kind: "configmap", name: "app-config" } as const;
    const changes = [
      ...(await configDrift.plan(objects, { ...target, key: "LOG_LEVEL", value: "debug" }, cliParamNames)),
      ...(await configDrift.plan(objects, { ...target, key: "FEATURE_X", value: "on" }, cliParamNames)),
      ...(await configDrift.plan(objects, { ...target, key: "MODE", remove: true }, cliParamNames)),
    ];
    expect(changes.map((change) => change.description)).toEqual([
      `configmap ${namespace()}/app-config data.LOG_LEVEL: "info" -> "debug"`,
      `configmap ${namespace()}/app-config data.FEATURE_X: (absent) -> "on"`,
      `configmap ${namespace()}/app-config data.MODE: "prod" -> (absent)`,
    ]);
    const records = await applyAll(changes);
    expect((await readConfigMap("app-config")).data).toEqual({ LOG_LEVEL: "debug", FEATURE_X: "on" });

    const results = await recover();
    for (const record of records) expect(results.get(record.id)?.result).toBe("reverted");
    expect((await readConfigMap("app-config")).data).toEqual(before.data);
    await expectClosed(records, "reverted");
  });

  it("config-drift removes the only key of a ConfigMap, and recovery adds the data back", async () => {
    await createConfigMap("single", { ONLY: "x" });
    const records = await applyAll(
      await planObjectFault(
        "config-drift",
        objects,
        {
          namespace: namespace(),
          kind: "configmap",
          name: "single",
          key: "ONLY",
          remove: true,
        },
        cliParamNames,
      ),
    );
    expect((await readConfigMap("single")).data).toBeUndefined();
    const results = await recover();
    expect(results.get(records[0]?.id ?? "")?.result).toBe("reverted");
    expect((await readConfigMap("single")).data).toEqual({ ONLY: "x" });
  });

  it("config-drift on a Secret writes base64 and never lets the value into records, descriptions or summaries", async () => {
    await kube.core.createNamespacedSecret({
      namespace: namespace(),
      body: { metadata: { name: "creds" }, data: { PASSWORD: base64("hunter2"), USER: base64("ada") } },
    });
    const changes = await configDrift.plan(
      objects,
      {
        namespace: namespace(),
        kind: "secret",
        name: "creds",
        key: "PASSWORD",
        value: "swordfish",
      },
      cliParamNames,
    );
    const records = await applyAll(changes);
    const drifted = await kube.core.readNamespacedSecret({ name: "creds", namespace: namespace() });
    expect(drifted.data?.PASSWORD).toBe(base64("swordfish"));
    // While the record is open, the values the revert needs are kept where Secrets belong: in a Secret.
    const [open] = records;
    if (open === undefined) throw new Error("no record");
    const valuesWhileOpen = await kube.core.readNamespacedSecret({
      name: `ledger-${open.id}`,
      namespace: ledgerNamespace,
    });
    expect(Object.keys(valuesWhileOpen.data ?? {}).sort()).toEqual(["injected.json", "original.json"]);

    const results = await recover();
    const restored = await kube.core.readNamespacedSecret({ name: "creds", namespace: namespace() });
    expect(restored.data).toEqual({ PASSWORD: base64("hunter2"), USER: base64("ada") });
    await expectClosed(records, "reverted");

    const record = records[0];
    if (record === undefined) throw new Error("no record");
    const ledgerConfigMap = await kube.core.readNamespacedConfigMap({
      name: `ledger-${record.id}`,
      namespace: ledgerNamespace,
    });
    const visible = JSON.stringify([
      changes.map((change) => change.description),
      redact(record),
      redact((await store.get(record.id)) ?? record),
      [...results.values()],
      ledgerConfigMap.data,
    ]);
    for (const secret of ["swordfish", base64("swordfish"), "hunter2", base64("hunter2")]) {
      expect(visible).not.toContain(secret);
    }
    // Once the record is closed nothing needs them: the values Secret is gone.
    const valuesAfterClose = await kube.core
      .readNamespacedSecret({ name: `ledger-${record.id}`, namespace: ledgerNamespace })
      .then(
        () => "present",
        () => "gone",
      );
    expect(valuesAfterClose).toBe("gone");
  });

  it("resource-squeeze lowers every container's limits in canonical form, clamps requests, and recovery restores them", async () => {
    await createDeployment("squeezed", 1);
    const before = await kube.apps.readNamespacedDeployment({ name: "squeezed", namespace: namespace() });
    const changes = await resourceSqueeze.plan(
      objects,
      {
        namespace: namespace(),
        kind: "deployment",
        name: "squeezed",
        cpu: "0.1",
        memory: "65536Ki",
      },
      cliParamNames,
    );
    expect(changes).toHaveLength(2);
    const records = await applyAll(changes);
    const after = await kube.apps.readNamespacedDeployment({ name: "squeezed", namespace: namespace() });
    // Exactly what the record says: had the server rewritten a quantity, recovery would not recognize it.
    expect(resourcesOf(after, 0)).toEqual({
      limits: { cpu: "100m", memory: "64Mi" },
      requests: { cpu: "100m", memory: "64Mi" },
    });
    expect(resourcesOf(after, 1)).toEqual({ limits: { cpu: "100m", memory: "64Mi" } });
    for (const record of records) {
      expect(await access.read(record)).toMatchObject({ exists: true, value: record.injected });
    }

    const results = await recover();
    for (const record of records) expect(results.get(record.id)?.result).toBe("reverted");
    const restored = await kube.apps.readNamespacedDeployment({ name: "squeezed", namespace: namespace() });
    expect(templateJson(restored)).toEqual(templateJson(before));
    await expectClosed(records, "reverted");
  });

  it("resource-squeeze changes only the named container of a DaemonSet", async () => {
    await kube.apps.createNamespacedDaemonSet({
      namespace: namespace(),
      body: {
        metadata: { name: "agent" },
        spec: { selector: { matchLabels: { app: "agent" } }, template: template("agent", squeezable) },
      },
    });
    const before = await kube.apps.readNamespacedDaemonSet({ name: "agent", namespace: namespace() });
    const changes = await resourceSqueeze.plan(
      objects,
      {
        namespace: namespace(),
        kind: "daemonset",
        name: "agent",
        cpu: "50m",
        memory: "32Mi",
        container: "sidecar",
      },
      cliParamNames,
    );
    expect(changes.map((change) => change.path)).toEqual(["/spec/template/spec/containers/1/resources"]);
    const records = await applyAll(changes);
    const after = await kube.apps.readNamespacedDaemonSet({ name: "agent", namespace: namespace() });
    expect(resourcesOf(after, 0)).toEqual(resourcesOf(before, 0));
    expect(resourcesOf(after, 1)).toEqual({ limits: { cpu: "50m", memory: "32Mi" } });
    await recover();
    const restored = await kube.apps.readNamespacedDaemonSet({ name: "agent", namespace: namespace() });
    expect(templateJson(restored)).toEqual(templateJson(before));
    await expectClosed(records, "reverted");
  });

  it("scale changes a StatefulSet's replicas, and recovery sets them back", async () => {
    await kube.apps.createNamespacedStatefulSet({
      namespace: namespace(),
      body: {
        metadata: { name: "db" },
        spec: {
          replicas: 2,
          serviceName: "db",
          selector: { matchLabels: { app: "db" } },
          template: template("db", [{ name: "db", image: "registry.invalid/db:1" }]),
        },
      },
    });
    const changes = await scale.plan(
      objects,
      {
        namespace: namespace(),
        kind: "statefulset",
        name: "db",
        replicas: 0,
        unsafe: true,
      },
      cliParamNames,
    );
    const records = await applyAll(changes);
    const read = () => kube.apps.readNamespacedStatefulSet({ name: "db", namespace: namespace() });
    expect((await read()).spec?.replicas).toBe(0);
    const results = await recover();
    expect(results.get(records[0]?.id ?? "")?.result).toBe("reverted");
    expect((await read()).spec?.replicas).toBe(2);
    await expectClosed(records, "reverted");
  });

  it("scale changes a Deployment's replicas, and recovery sets them back", async () => {
    await createDeployment("scaled", 3);
    const records = await applyAll(
      await scale.plan(
        objects,
        { namespace: namespace(), kind: "deployment", name: "scaled", replicas: 1 },
        cliParamNames,
      ),
    );
    const read = () => kube.apps.readNamespacedDeployment({ name: "scaled", namespace: namespace() });
    expect((await read()).spec?.replicas).toBe(1);
    await recover();
    expect((await read()).spec?.replicas).toBe(3);
    await expectClosed(records, "reverted");
  });

  it.each([
    ["set back to the original", "info"],
    ["set to a third value", "warn"],
  ])("records an external heal (%s) and leaves the object untouched", async (_, healedTo) => {
    const name = `healed-${healedTo}`;
    await createConfigMap(name, { LOG_LEVEL: "info" });
    const records = await applyAll(
      await configDrift.plan(
        objects,
        {
          namespace: namespace(),
          kind: "configmap",
          name,
          key: "LOG_LEVEL",
          value: "debug",
        },
        cliParamNames,
      ),
    );
    const healed = await setConfigMapKey(name, "LOG_LEVEL", healedTo);
    const results = await recover();
    const summary = results.get(records[0]?.id ?? "");
    expect(summary?.result).toBe("healed-externally");
    const after = await readConfigMap(name);
    expect(after.metadata?.resourceVersion).toBe(healed.metadata?.resourceVersion);
    expect(after.data).toEqual({ LOG_LEVEL: healedTo });
    await expectClosed(records, "healed-externally");
  });

  it("closes the record as target-gone when the target was deleted", async () => {
    await createConfigMap("deleted", { LOG_LEVEL: "info" });
    const records = await applyAll(
      await configDrift.plan(
        objects,
        {
          namespace: namespace(),
          kind: "configmap",
          name: "deleted",
          key: "LOG_LEVEL",
          value: "debug",
        },
        cliParamNames,
      ),
    );
    await kube.core.deleteNamespacedConfigMap({ name: "deleted", namespace: namespace() });
    const results = await recover();
    expect(results.get(records[0]?.id ?? "")?.result).toBe("target-gone");
    await expectClosed(records, "target-gone");
  });

  it("closes the record as target-gone when the target was recreated, and never touches the new object", async () => {
    await createConfigMap("reborn", { LOG_LEVEL: "info" });
    const records = await applyAll(
      await configDrift.plan(
        objects,
        {
          namespace: namespace(),
          kind: "configmap",
          name: "reborn",
          key: "LOG_LEVEL",
          value: "debug",
        },
        cliParamNames,
      ),
    );
    await kube.core.deleteNamespacedConfigMap({ name: "reborn", namespace: namespace() });
    // The new object even holds the injected value: only its uid tells it apart.
    const reborn = await createConfigMap("reborn", { LOG_LEVEL: "debug" });
    const results = await recover();
    expect(results.get(records[0]?.id ?? "")?.result).toBe("target-gone");
    const after = await readConfigMap("reborn");
    expect(after.metadata?.resourceVersion).toBe(reborn.metadata?.resourceVersion);
    expect(after.data).toEqual({ LOG_LEVEL: "debug" });
    await expectClosed(records, "target-gone");
  });

  it.each([
    ["a value changed", "LOG_LEVEL", "warn"],
    ["a key added", "NEW_KEY", "someone-else"],
  ])("refuses to apply when %s between plan and apply, and writes nothing", async (_, key, raced) => {
    const name = `raced-${key.toLowerCase().replace("_", "-")}`;
    await createConfigMap(name, { LOG_LEVEL: "info" });
    const [change] = await configDrift.plan(
      objects,
      {
        namespace: namespace(),
        kind: "configmap",
        name,
        key,
        value: "debug",
      },
      cliParamNames,
    );
    if (change === undefined) throw new Error("no change planned");
    const pending = await store.create(draftOf(change));
    const racedObject = await setConfigMapKey(name, key, raced);
    await expect(access.apply(pending)).rejects.toThrow(ConflictError);
    const after = await readConfigMap(name);
    expect(after.metadata?.resourceVersion).toBe(racedObject.metadata?.resourceVersion);
    expect(after.data?.[key]).toBe(raced);
    // The record the engine wrote before the attempt is closed without a write.
    const results = await recover();
    expect(results.get(pending.id)?.result).toBe("healed-externally");
    expect((await readConfigMap(name)).metadata?.resourceVersion).toBe(racedObject.metadata?.resourceVersion);
  });

  it("refuses bad parameters with usage errors naming the flag, before any write", async () => {
    await createConfigMap("untouched", { LOG_LEVEL: "info" });
    await createDeployment("untouched", 2);
    const configMapVersion = (await readConfigMap("untouched")).metadata?.resourceVersion;
    const readDeployment = () =>
      kube.apps.readNamespacedDeployment({ name: "untouched", namespace: namespace() });
    const deployment = await readDeployment();
    const openBefore = (await store.list({ state: "open" })).length;
    const cm = { namespace: namespace(), kind: "configmap", name: "untouched" } as const;
    const workload = { namespace: namespace(), kind: "deployment", name: "untouched" } as const;
    // Thunks, run one at a time: a rejected promise nobody awaits yet would be reported as unhandled.
    const attempts: [() => Promise<unknown>, RegExp][] = [
      [
        () =>
          configDrift.plan(objects, { ...cm, name: "missing", key: "LOG_LEVEL", value: "x" }, cliParamNames),
        /^TARGET: /,
      ],
      [() => configDrift.plan(objects, { ...cm, key: "NOPE", remove: true }, cliParamNames), /^--key: /],
      [
        () => configDrift.plan(objects, { ...cm, key: "LOG_LEVEL", value: "info" }, cliParamNames),
        /^--value: .*nothing would change/,
      ],
      [
        () => resourceSqueeze.plan(objects, { ...workload, cpu: "lots", memory: "64Mi" }, cliParamNames),
        /^--cpu: /,
      ],
      [
        () => resourceSqueeze.plan(objects, { ...workload, cpu: "100m", memory: "0" }, cliParamNames),
        /^--memory: /,
      ],
      [
        () =>
          resourceSqueeze.plan(
            objects,
            { ...workload, cpu: "100m", memory: "64Mi", container: "db" },
            cliParamNames,
          ),
        /^--container: /,
      ],
      [
        () => scale.plan(objects, { ...workload, replicas: 0 }, cliParamNames),
        /^--replicas: scaling to 0 takes the workload down/,
      ],
      [
        () => scale.plan(objects, { ...workload, replicas: 2 }, cliParamNames),
        /^--replicas: .*nothing would change/,
      ],
      [() => scale.plan(objects, { ...workload, name: "missing", replicas: 1 }, cliParamNames), /^TARGET: /],
    ];
    for (const [attempt, message] of attempts) {
      const error = await attempt().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(BroadsideError);
      expect(error).toMatchObject({ code: "BRD_USAGE", message: expect.stringMatching(message) as unknown });
    }
    expect((await readConfigMap("untouched")).metadata?.resourceVersion).toBe(configMapVersion);
    // The deployment controller keeps writing status, so its resourceVersion moves; generation counts
    // changes to the spec only.
    const deploymentAfter = await readDeployment();
    expect(deploymentAfter.metadata?.generation).toBe(deployment.metadata?.generation);
    expect(templateJson(deploymentAfter)).toEqual(templateJson(deployment));
    expect(deploymentAfter.spec?.replicas).toBe(2);
    expect(await store.list({ state: "open" })).toHaveLength(openBefore);
  });
});
