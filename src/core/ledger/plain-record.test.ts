import { describe, expect, it } from "vitest";
import { plainLedgerRecord } from "./plain-record.js";
import { ABSENT, REDACTED } from "./record.js";
import { parseLedgerRecord } from "./schema.js";

/**
 * The story: the ledger recognises a record exactly as Broadside writes it without loading zod, and
 * leaves every other input to the schema. It may say "ask the schema" more often than needed, never
 * less: for every input below it either defers, or returns what the schema returns, key order included
 * (the record is written back as JSON), and only for inputs the schema accepts.
 */

const closedVolley = {
  id: "20261207t120000-abcdef",
  faultKind: "pod-kill",
  target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "u1" },
  path: "/metadata/uid",
  original: "u1",
  injected: ABSENT,
  sensitive: false,
  createdAt: 1000,
  deadline: 61_000,
  actor: { user: "alice (alice)", host: "laptop", pid: 42 },
  volley: [
    { name: "web-1", uid: "u1", outcome: { kind: "target-gone", at: 2000 } },
    { name: "web-2", uid: "u2", outcome: { kind: "never-applied", at: 2000, detail: "blocked by PDB web" } },
  ],
  version: "12",
  state: "closed",
  outcome: { kind: "target-gone", at: 2000, detail: "pod-kill volley: 2 pods" },
};

const activeDrift = {
  id: "drift-1",
  faultKind: "config-drift",
  target: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db", uid: "s1" },
  path: "data.PASSWORD",
  original: REDACTED,
  injected: { nested: [1, 2.5, "x", null, true, { deep: [] }] },
  sensitive: true,
  createdAt: 0,
  deadline: 300_000,
  actor: { user: "", host: "", pid: -1 },
  owner: {
    apiVersion: "broadside.dev/v1alpha1",
    kind: "ConfigDrift",
    namespace: "shop",
    name: "d",
    uid: "o",
  },
  version: "",
  state: "active",
};

const valid = [closedVolley, activeDrift, { ...activeDrift, state: "pending", owner: undefined }];

/** Each valid record with one field at a time replaced by each of these, or removed. */
const replacements: readonly unknown[] = [
  undefined,
  null,
  "",
  "x",
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  true,
  [],
  {},
  [{}],
  { kind: "reverted", at: 5 },
  { kind: "reverted", at: 5, by: 7 },
  { name: "n", uid: "u" },
  { apiVersion: "v1", kind: "Pod", namespace: "", name: "p", uid: "u" },
  { apiVersion: "v1", kind: "Pod", namespace: "", name: "p", uid: "" },
  { user: "u", host: "h", pid: 1, extra: "dropped" },
  JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  Object.create({ inherited: true }) as unknown,
];

function variants(): unknown[] {
  const inputs: unknown[] = [...valid, null, "rec-1", 7, [], {}];
  for (const record of valid) {
    const withExtra = { ...record, addedByANewerVersion: { any: "thing" } };
    inputs.push(withExtra);
    for (const field of Object.keys(record)) {
      inputs.push(Object.fromEntries(Object.entries(record).filter(([key]) => key !== field)));
      for (const value of replacements) inputs.push({ ...record, [field]: value });
    }
    inputs.push({ ...record, volley: [...closedVolley.volley, { name: "web-3", uid: "" }] });
    inputs.push({ ...record, volley: [{ name: "web-3", uid: "u3", outcome: { kind: "nope", at: 1 } }] });
    inputs.push({ ...record, outcome: { kind: "reverted", at: 1.5 } });
  }
  return inputs;
}

function schemaVerdict(input: unknown): string {
  try {
    return `accepts ${JSON.stringify(parseLedgerRecord(input, "x"))}`;
  } catch (error: unknown) {
    return `refuses: ${(error as Error).message}`;
  }
}

describe("the plain ledger record, recognised without zod", () => {
  it("recognises records as Broadside writes them, so a shot's ledger needs no schema", () => {
    for (const record of valid) {
      const readBack: unknown = JSON.parse(JSON.stringify(record));
      expect(plainLedgerRecord(readBack)).toBeDefined();
    }
  });

  it("returns exactly what the schema returns, or leaves the input to the schema", () => {
    const inputs = variants();
    let recognised = 0;
    for (const input of inputs) {
      const plain = plainLedgerRecord(input);
      if (plain === undefined) continue;
      recognised += 1;
      expect(`accepts ${JSON.stringify(plain)}`).toBe(schemaVerdict(input));
    }
    // The variants exercise both answers: many are plainly valid (an extra field, a kept optional one).
    expect(recognised).toBeGreaterThan(20);
    expect(recognised).toBeLessThan(inputs.length / 2);
  });

  it("leaves a closed record without its outcome to the schema, which names what is wrong", () => {
    const broken = { ...closedVolley, outcome: undefined };
    expect(plainLedgerRecord(broken)).toBeUndefined();
    expect(schemaVerdict(broken)).toMatch(/^refuses: x is not a valid ledger record: ✖ Invalid input/);
  });
});
