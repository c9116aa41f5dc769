import { createHash } from "node:crypto";
import type { ChildObject } from "../kube/chaos-children.js";
import type { ResourceStatus } from "./crds/status.js";
import { conditionOf } from "./status.js";

/**
 * A Schedule's children: the PodChaos it creates at each instant. Their names come from the instant, so a
 * create retried for the same instant meets AlreadyExists instead of making a second child; their labels
 * link them to the Schedule (by uid: a name may be longer than a label value) and say their instant.
 */

/** The Schedule's uid, on every child: the label the Schedule lists its children by. */
export const scheduleUidLabel = "broadside.dev/schedule-uid";
/** The instant a child is for, in Unix seconds. */
export const instantLabel = "broadside.dev/schedule-instant";
/** The Schedule's name, for people (an annotation: a name may be longer than a label value). */
export const scheduleNameAnnotation = "broadside.dev/schedule";

/** The Recovered reason of an object fault whose revert is still to come (object-fault-reconciler.ts). */
const revertPending = "RevertPending";

/** A Kubernetes name that is also a DNS label: at most 63 characters. */
const maxChildName = 63;

/**
 * `<schedule>-<unix seconds>`: deterministic from the instant (instants are whole seconds, at least one
 * apart), at most 63 characters. A longer Schedule name is cut, with 8 hex digits of its hash so that two
 * long names that share a beginning still give different children.
 */
export function childName(schedule: string, instantMs: number): string {
  const suffix = `-${Math.floor(instantMs / 1000)}`;
  const room = maxChildName - suffix.length;
  if (schedule.length <= room) return `${schedule}${suffix}`;
  const hash = createHash("sha256").update(schedule).digest("hex").slice(0, 8);
  const head = schedule.slice(0, room - hash.length - 1).replace(/[-.]+$/, "");
  return `${head}-${hash}${suffix}`;
}

/** A child as the Schedule tracks it. */
export interface Child {
  readonly name: string;
  /** Epoch ms. */
  readonly instant: number;
  readonly finished: boolean;
}

/**
 * A child's run is over when its reconciler said how it ended: Recovered True or False, Injected False
 * (nothing was shot, or it was interrupted), or Failed. Anything else (not looked at yet, claimed, paused
 * by the kill switch) is still running, and Forbid waits for it. A pod-failure child is Recovered False
 * with reason RevertPending while its pods are paused (object-fault-reconciler.ts): still running until
 * its images are back, so a new round never starts on pods the last one still holds.
 */
export function finished(status: ResourceStatus | undefined): boolean {
  const recovered = recoveredSaid(status);
  if (recovered !== undefined) return recovered;
  if (conditionOf(status, "Injected")?.status === "False") return true;
  return conditionOf(status, "Failed")?.status === "True";
}

/** Whether Recovered says the run is over: True or False but for a revert still pending; else undefined. */
function recoveredSaid(status: ResourceStatus | undefined): boolean | undefined {
  const recovered = conditionOf(status, "Recovered");
  if (recovered?.status === "True") return true;
  if (recovered?.status === "False") return recovered.reason !== revertPending;
  return undefined;
}

/** The child `object` as the Schedule with `uid` tracks it, or undefined if it is not one, or going. */
function childOf(object: ChildObject, uid: string): Child | undefined {
  const metadata = object.metadata;
  const owned = metadata?.ownerReferences?.some((owner) => owner.uid === uid && owner.controller === true);
  const seconds = Number(metadata?.labels?.[instantLabel]);
  if (owned !== true || metadata?.name === undefined || !Number.isInteger(seconds)) return undefined;
  if (metadata.deletionTimestamp !== undefined) return undefined;
  const status = object.status as ResourceStatus | undefined;
  return { name: metadata.name, instant: seconds * 1000, finished: finished(status) };
}

/** The children the Schedule with `uid` controls, oldest instant first; others' objects are left out. */
export function childrenOf(objects: readonly ChildObject[], uid: string): Child[] {
  return objects
    .map((object) => childOf(object, uid))
    .filter((child) => child !== undefined)
    .sort((a, b) => a.instant - b.instant);
}
