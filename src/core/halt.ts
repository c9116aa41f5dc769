import { BroadsideError } from "./errors.js";

/*
 * The cluster-wide kill switch (ADR 0007). While it is held, no Broadside process (a command line, the
 * agent, a run) makes a new mutation; reverts go on. It lives in the cluster, not in a process, so it
 * reaches every Broadside that can read the ledger's namespace, and it stays until someone releases it.
 */

/** Who holds the switch, since when and why. */
export interface HaltHold {
  /** Epoch ms; undefined when the object was made by hand without a time. */
  readonly since?: number;
  readonly by: string;
  readonly reason: string;
}

export interface HaltSwitch {
  /** The hold, or undefined when chaos may run. */
  read(): Promise<HaltHold | undefined>;
  /** Holds the switch; if it is already held, the first hold stays and is returned. */
  hold(hold: HaltHold): Promise<HaltHold>;
  /** Releases the switch; false when it was not held. */
  release(): Promise<boolean>;
}

/** The one sentence every refusal and `status` use for a hold. */
export function describeHold(hold: HaltHold): string {
  const since = hold.since === undefined ? "" : ` since ${new Date(hold.since).toISOString()}`;
  const reason = hold.reason === "" ? "" : `: ${hold.reason}`;
  return `chaos is halted${since} by ${hold.by}${reason}`;
}

/** Refuses a new mutation while the switch is held; nothing has been changed when this throws. */
export async function refuseWhileHalted(halt: HaltSwitch): Promise<void> {
  const hold = await halt.read();
  if (hold === undefined) return;
  throw new BroadsideError(
    "BRD_HALTED",
    `${describeHold(hold)}; nothing was changed. Run \`broadside resume\` to allow chaos again`,
  );
}

/** An in-memory switch, for unit tests and for processes that share one in memory. */
export class MemoryHaltSwitch implements HaltSwitch {
  private held: HaltHold | undefined;
  reads = 0;

  read(): Promise<HaltHold | undefined> {
    this.reads += 1;
    return Promise.resolve(this.held);
  }

  hold(hold: HaltHold): Promise<HaltHold> {
    this.held ??= hold;
    return Promise.resolve(this.held);
  }

  release(): Promise<boolean> {
    const wasHeld = this.held !== undefined;
    this.held = undefined;
    return Promise.resolve(wasHeld);
  }
}
