import { optional } from "../objects.js";
import type {
  ActiveRecord,
  ClosedRecord,
  LedgerRecord,
  OpenRecord,
  Outcome,
  OutcomeKind,
  RecordedValue,
  RecordState,
} from "./record.js";
import { describeTarget, jsonEqual } from "./record.js";

/**
 * The lifecycle of a record, as pure functions: pending -> active -> closed, or pending -> closed.
 * Nothing here writes; callers store the result with a conditional update, so two processes applying
 * transitions to the same record cannot both win.
 */

/** A transition the lifecycle does not allow: always a bug in the caller, never bad user input. */
export class IllegalTransitionError extends Error {
  override readonly name = "IllegalTransitionError";

  constructor(
    readonly recordId: string,
    readonly from: RecordState,
    readonly to: string,
  ) {
    super(`ledger record ${recordId}: cannot go from ${from} to ${to}`);
  }
}

/** pending -> active: the mutation was applied. */
export function markApplied(record: LedgerRecord): ActiveRecord {
  if (record.state !== "pending") throw new IllegalTransitionError(record.id, record.state, "active");
  return { ...record, state: "active" };
}

/**
 * Which open states each outcome may close. "reverted" needs "active": a pending record found holding the
 * injected value is first marked applied, so the record never claims a revert of a change it never saw.
 * "never-applied" needs "pending": an active record's change did happen.
 */
const closableFrom: Record<OutcomeKind, readonly OpenRecord["state"][]> = {
  reverted: ["active"],
  "healed-externally": ["pending", "active"],
  "target-gone": ["pending", "active"],
  "never-applied": ["pending"],
  failed: ["pending", "active"],
};

/** pending|active -> closed with an outcome. */
export function closeRecord(record: LedgerRecord, outcome: Outcome): ClosedRecord {
  if (record.state === "closed" || !closableFrom[outcome.kind].includes(record.state)) {
    throw new IllegalTransitionError(record.id, record.state, `closed (${outcome.kind})`);
  }
  return { ...record, state: "closed", outcome };
}

/** What recovery found at the record's target. */
export type Observation = { readonly exists: false } | PresentObservation;

export interface PresentObservation {
  readonly exists: true;
  readonly uid: string;
  /** The value at the record's path, or ABSENT when the field is missing. */
  readonly value: RecordedValue;
  /** Who last changed the value and when, where known: a watch stamps both, a read knows only who. */
  readonly lastChange?: { readonly at?: number; readonly by?: string };
}

export type ClosingOutcomeKind = Exclude<OutcomeKind, "reverted" | "failed">;

export type RecoveryDecision =
  | { readonly action: "revert" }
  | {
      readonly action: "close";
      readonly outcome: ClosingOutcomeKind;
      readonly detail: string;
      /** Set when the observation said when, and by whom, the target was changed. */
      readonly at?: number;
      readonly by?: string;
    };

/**
 * What to do with an open record, given what its target holds now. Broadside reverts only its own value on
 * its own object: anything else means someone (a GitOps reconciler, a human) acted since, and overwriting
 * their state with ours would be a second fault.
 */
export function decideRecovery(record: OpenRecord, observed: Observation): RecoveryDecision {
  if (!observed.exists) {
    return close("target-gone", `${describeTarget(record.target)} no longer exists`);
  }
  if (observed.uid !== record.target.uid) {
    return close("target-gone", `${describeTarget(record.target)} was recreated (uid ${observed.uid})`);
  }
  if (jsonEqual(observed.value, record.injected)) return { action: "revert" };
  if (record.state === "pending" && jsonEqual(observed.value, record.original)) {
    return close("never-applied", `${record.path} still holds the original value`);
  }
  return healedExternally(record, observed);
}

function healedExternally(record: OpenRecord, observed: PresentObservation): RecoveryDecision {
  // The detail says whether the original came back or a third value appeared, never the value itself:
  // details are printed, and the value may be a secret.
  const restored = jsonEqual(observed.value, record.original);
  const detail = restored
    ? `${record.path} was restored to the original value by someone else`
    : `${record.path} was changed to another value by someone else; left as it is`;
  const change = observed.lastChange;
  return {
    ...close("healed-externally", detail),
    ...optional("at", change?.at),
    ...optional("by", change?.by),
  };
}

function close(outcome: ClosingOutcomeKind, detail: string): RecoveryDecision {
  return { action: "close", outcome, detail };
}
