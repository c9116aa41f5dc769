/**
 * The catalog of Broadside's errors. Every error Broadside raises on purpose is a BroadsideError with a
 * code from this catalog; the CLI maps the code to an exit code. docs/errors.md documents each code.
 */

/** Exit codes, kubectl-like: 1 for operational failures, 2 for bad input. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unhealthy: 3,
  refused: 4,
  /** `broadside run`: the experiment ran and its hypothesis did not hold (verdict failed). */
  experimentFailed: 5,
  /** `broadside run`: the experiment was cut short (breach with abortOnBreach, Ctrl-C, no steady state). */
  experimentAborted: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface ErrorSpec {
  readonly exitCode: ExitCode;
  readonly summary: string;
}

export const errorCatalog = {
  BRD_USAGE: { exitCode: ExitCode.usage, summary: "A flag or argument is invalid." },
  BRD_REFUSED_BY_RAIL: {
    exitCode: ExitCode.usage,
    summary: "A safety rail refused the target (protected or not opted-in namespace); nothing was changed.",
  },
  BRD_SHOT_REFUSED: {
    exitCode: ExitCode.refused,
    summary:
      "The cluster refused at least one shot (an eviction blocked by a PodDisruptionBudget, a pod already gone).",
  },
  BRD_HALTED: {
    exitCode: ExitCode.refused,
    summary:
      "The kill switch is held (`broadside halt --hold`): no new fault is injected until `broadside resume`; nothing was changed.",
  },
  BRD_NOT_RUNNABLE: {
    exitCode: ExitCode.usage,
    summary: "The experiment file is valid but Broadside cannot run its kind or action yet; nothing was run.",
  },
  BRD_EXPERIMENT_FAILED: {
    exitCode: ExitCode.experimentFailed,
    summary:
      "The experiment ran and its verdict is failed: a tolerance was breached or a fault did not recover.",
  },
  BRD_EXPERIMENT_ABORTED: {
    exitCode: ExitCode.experimentAborted,
    summary:
      "The experiment was cut short: a breach stopped it, Ctrl-C, or no steady state before the method.",
  },
  BRD_CONFLICT: {
    exitCode: ExitCode.failure,
    summary: "The target changed between planning and writing; nothing was written for it.",
  },
  BRD_PREREQUISITE_MISSING: {
    exitCode: ExitCode.failure,
    summary:
      "A program the sandbox needs (go, openssl, a built binary, the compiled traffic script) is missing or cannot be run.",
  },
  BRD_SANDBOX_BUILD_FAILED: {
    exitCode: ExitCode.failure,
    summary: "Building a control-plane binary failed; the build log is named in the message.",
  },
  BRD_SANDBOX_START_FAILED: {
    exitCode: ExitCode.failure,
    summary:
      "Starting the sandbox failed: a component could not start or exited, or a step before it (certificates, ports) failed; the message names the log or the command.",
  },
  BRD_SANDBOX_STOP_FAILED: {
    exitCode: ExitCode.failure,
    summary: "A sandbox process could not be signalled to stop; the message names its pid.",
  },
  BRD_SANDBOX_DIR_REFUSED: {
    exitCode: ExitCode.failure,
    summary:
      "A sandbox's state directory is not one Broadside may use or delete (no marker file, a symlink, outside the state root, not writable); nothing in it was changed.",
  },
  BRD_SANDBOX_NOT_FOUND: { exitCode: ExitCode.failure, summary: "No sandbox of that name is running." },
  BRD_SANDBOX_STATE_INVALID: {
    exitCode: ExitCode.failure,
    summary: "A sandbox's state file cannot be read: another Broadside version wrote it, or it is damaged.",
  },
  BRD_SANDBOX_BUSY: {
    exitCode: ExitCode.failure,
    summary: "Another broadside process is starting or stopping the same sandbox.",
  },
  BRD_SANDBOX_UNHEALTHY: {
    exitCode: ExitCode.unhealthy,
    summary: "At least one sandbox component is down or unhealthy.",
  },
  BRD_PORT_IN_USE: {
    exitCode: ExitCode.unhealthy,
    summary:
      "A port a front door must listen on (127.0.0.1) is held by another process, named where /proc allows.",
  },
  BRD_KUBE_UNREACHABLE: {
    exitCode: ExitCode.failure,
    summary: "The Kubernetes API server did not answer (connection refused, reset or timed out).",
  },
  BRD_KUBECONFIG: {
    exitCode: ExitCode.usage,
    summary: "No usable kubeconfig: the one named is missing or unreadable, or none was found.",
  },
  BRD_CHAOS_MESH_API_REFUSED: {
    exitCode: ExitCode.failure,
    summary:
      "--serve-chaos-mesh-api: the chaos-mesh.org CRDs are missing, or a real Chaos Mesh's (not marked as Broadside's) are installed.",
  },
  BRD_KUBE_FORBIDDEN: {
    exitCode: ExitCode.refused,
    summary:
      "The Kubernetes API refused a request with 403: the identity's RBAC does not grant that verb on that resource there.",
  },
  BRD_DUEL_GITOPS: {
    exitCode: ExitCode.failure,
    summary:
      "A duel's GitOps controller is not there or not ready (its object missing, not Ready, or it did not reconcile in time).",
  },
  BRD_KUBE_API: { exitCode: ExitCode.failure, summary: "The Kubernetes API refused or failed a request." },
  BRD_TIMEOUT: {
    exitCode: ExitCode.failure,
    summary: "Something Broadside waited for did not happen in time.",
  },
  BRD_BOARD_UNAUTHENTICATED: {
    exitCode: ExitCode.refused,
    summary:
      "The board refused a request (HTTP 401): no bearer token, or one the API server (operator) or the board (player) does not accept.",
  },
  BRD_BOARD_FORBIDDEN: {
    exitCode: ExitCode.refused,
    summary:
      "The board refused a request (HTTP 403): the operator's identity may not operate boards there, or a player's token or code is for another game.",
  },
  BRD_BOARD_GAME_STATE: {
    exitCode: ExitCode.failure,
    summary:
      "The board's game is not in a state for that request (HTTP 409): no game is open, or one is open already.",
  },
  BRD_BOARD_LIMIT: {
    exitCode: ExitCode.refused,
    summary:
      "A shot or a join over one of the board's limits (HTTP 429 with Retry-After): refused at once, never queued; nothing was changed.",
  },
  BRD_BOARD_STANDBY: {
    exitCode: ExitCode.failure,
    summary:
      "The agent's replica that was asked does not lead, so its board serves no game and accepts no shot (HTTP 503 with Retry-After, naming the leader).",
  },
  BRD_INTERNAL: { exitCode: ExitCode.failure, summary: "A bug in Broadside. Please report it with the log." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

export class BroadsideError extends Error {
  override readonly name = "BroadsideError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get exitCode(): ExitCode {
    return errorCatalog[this.code].exitCode;
  }
}

/** Bad input from the user: names the flag or field and what is wrong with it. */
export function usageError(field: string, problem: string): BroadsideError {
  return new BroadsideError("BRD_USAGE", `${field}: ${problem}`);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
