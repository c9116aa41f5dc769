import { describe, expect, it } from "vitest";
import { optional } from "../objects.js";
import type { LedgerDraft } from "./record.js";
import { closeRecord, markApplied } from "./state-machine.js";
import { ConflictError, MemoryLedgerStore } from "./store.js";

function draft(id: string, createdAt: number): LedgerDraft {
  return {
    id,
    faultKind: "scale",
    target: { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web", uid: "uid-1" },
    path: "spec.replicas",
    original: 3,
    injected: 0,
    sensitive: false,
    createdAt,
    deadline: createdAt + 60_000,
    actor: { user: "alice", host: "laptop", pid: 42 },
    state: "pending",
  };
}

describe("MemoryLedgerStore", () => {
  it("gives a created record a version and hands back copies", async () => {
    const store = new MemoryLedgerStore();
    const created = await store.create(draft("a", 1));
    expect(created.version).not.toBe("");
    expect(await store.get("a")).toEqual(created);
    expect(await store.get("a")).not.toBe(await store.get("a"));
    expect(await store.get("missing")).toBeUndefined();
  });

  it("refuses a second record with the same id", async () => {
    const store = new MemoryLedgerStore();
    await store.create(draft("a", 1));
    await expect(store.create(draft("a", 2))).rejects.toThrow(ConflictError);
  });

  it("updates only from the current version", async () => {
    const store = new MemoryLedgerStore();
    const created = await store.create(draft("a", 1));
    const active = await store.update(markApplied(created));
    expect(active.version).not.toBe(created.version);
    // A second writer still holding the pending record loses.
    const stale = closeRecord(created, { kind: "never-applied", at: 5 });
    await expect(store.update(stale)).rejects.toThrow(ConflictError);
    expect((await store.get("a"))?.state).toBe("active");
  });

  it("refuses to update a record it does not have", async () => {
    const store = new MemoryLedgerStore();
    const ghost = { ...draft("ghost", 1), version: "1" };
    await expect(store.update(ghost)).rejects.toThrow("no longer exists");
  });

  it("lists oldest first, filtered by state, with open meaning pending or active", async () => {
    const store = new MemoryLedgerStore();
    await store.create(draft("late", 30));
    const early = await store.create(draft("early", 10));
    const middle = await store.update(markApplied(await store.create(draft("middle", 20))));
    await store.update(closeRecord(middle, { kind: "reverted", at: 40 }));
    const ids = async (state?: "open" | "pending" | "closed") =>
      (await store.list(optional("state", state))).map((record) => record.id);
    expect(await ids()).toEqual(["early", "middle", "late"]);
    expect(await ids("open")).toEqual(["early", "late"]);
    expect(await ids("pending")).toEqual(["early", "late"]);
    expect(await ids("closed")).toEqual(["middle"]);
    expect(early.state).toBe("pending");
  });

  it("is not changed by a caller mutating what it got back", async () => {
    const store = new MemoryLedgerStore();
    const created = await store.create(draft("a", 1));
    (created.target as { name: string }).name = "changed";
    expect((await store.get("a"))?.target.name).toBe("web");
  });
});
