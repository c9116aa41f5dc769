import type { Clock } from "../core/clock.js";
import type { ShotOutcome } from "../core/shot.js";
import type { ShotProgress } from "../engine/pod-chaos.js";
import type { CliIo } from "./options.js";

/** Where a fan-out stands: what the progress line and the summary say. */
export interface FanOutState {
  /** Shots answered so far (accepted or refused). */
  readonly done: number;
  /** Shots planned. */
  readonly total: number;
  /** Shots refused or failed so far. */
  readonly failed: number;
  /** API requests this process sent since the first shot was planned. */
  readonly requests: number;
  readonly elapsedMs: number;
}

const count = (n: number): string => n.toLocaleString("en-US");

/** Requests per second, whole above 10, one decimal below; 0 before any time has passed. */
function rate(requests: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return "0";
  const perSecond = (requests * 1000) / elapsedMs;
  return perSecond >= 10 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

/** The line rewritten while the shots go out: "shot 1,250/6,000 · 48 req/s · 12 failed". */
export function formatProgressLine(state: FanOutState): string {
  const parts = [
    `shot ${count(state.done)}/${count(state.total)}`,
    `${rate(state.requests, state.elapsedMs)} req/s`,
  ];
  if (state.failed > 0) parts.push(`${count(state.failed)} failed`);
  return parts.join(" · ");
}

/** The line left once every shot is answered: "shot 6,000/6,000 in 121.4 s · 49 req/s · 12 failed". */
export function formatProgressSummary(state: FanOutState): string {
  const seconds = (state.elapsedMs / 1000).toFixed(1);
  const parts = [
    `shot ${count(state.done)}/${count(state.total)} in ${seconds} s`,
    `${rate(state.requests, state.elapsedMs)} req/s`,
    `${count(state.failed)} failed`,
  ];
  return parts.join(" · ");
}

/** Moves to the start of the line and clears it (CR, then ANSI "erase in line"). */
const clearLine = "\r\u001b[K";

/** Redraws at most this often: a terminal needs no more, and 50 answers a second would be 50 writes. */
const redrawIntervalMs = 100;

export interface ProgressLineOptions {
  /** Draw at all: only when stderr is a terminal and the output is not JSON. */
  readonly enabled: boolean;
  readonly write: (text: string) => void;
  readonly clock: Clock;
  /** API requests the process has sent so far (EngineContext.apiRequests). */
  readonly requests: () => number;
}

/**
 * The fan-out's progress line on stderr: told the planned shots and each answer (ShotProgress), it
 * rewrites one line in place; other stderr messages pass through `message`, which clears the line, prints
 * the message and draws the line again below it. The last answer (or `finish`) leaves the summary.
 * Disabled, it draws nothing and passes messages through untouched.
 */
export class ProgressLine implements ShotProgress {
  private total = 0;
  private done = 0;
  private failed = 0;
  private startedAt = 0;
  private requestsAtStart = 0;
  private drawnAt = Number.NEGATIVE_INFINITY;
  private shown = false;
  private finished = false;

  constructor(private readonly options: ProgressLineOptions) {}

  planned(total: number): void {
    this.total = total;
    this.startedAt = this.options.clock.now();
    this.requestsAtStart = this.options.requests();
    this.draw(true);
  }

  answered(outcome: ShotOutcome): void {
    this.done += 1;
    if (!outcome.accepted) this.failed += 1;
    // The last answer leaves the summary at once: a recovery wait may follow, and is not the fan-out's.
    if (this.done === this.total) this.finish();
    else this.draw(false);
  }

  /** Another stderr message, printed above the line. */
  message(text: string): void {
    if (!this.shown) {
      this.options.write(text);
      return;
    }
    this.options.write(`${clearLine}${text}`);
    this.draw(true);
  }

  /**
   * Leaves the summary on its own line, once; nothing when no shot was planned (a dry run, an empty
   * plan). Called by the last answer, and by the command when the run ends early (an error).
   */
  finish(): void {
    if (!this.options.enabled || this.total === 0 || this.finished) return;
    this.finished = true;
    this.options.write(`${clearLine}${formatProgressSummary(this.state())}\n`);
    this.shown = false;
  }

  state(): FanOutState {
    return {
      done: this.done,
      total: this.total,
      failed: this.failed,
      requests: this.options.requests() - this.requestsAtStart,
      elapsedMs: this.options.clock.now() - this.startedAt,
    };
  }

  private draw(force: boolean): void {
    if (!this.options.enabled || this.total === 0 || this.finished) return;
    const now = this.options.clock.now();
    if (!force && now - this.drawnAt < redrawIntervalMs) return;
    this.drawnAt = now;
    this.options.write(`${clearLine}${formatProgressLine(this.state())}`);
    this.shown = true;
  }
}

/**
 * A progress line for a pod verb, and the stderr its engine should write to (through the line, so a
 * message never lands in the middle of it). Enabled only when stderr is a terminal and not with -o json.
 */
export function progressLineFor(
  io: CliIo,
  output: string,
  clock: Clock,
): { line: (requests: () => number) => ProgressLine; io: CliIo } {
  const enabled = io.errIsTty === true && output !== "json";
  let current: ProgressLine | undefined;
  const wrapped: CliIo = {
    ...io,
    err: (text) => {
      if (current === undefined) io.err(text);
      else current.message(text);
    },
  };
  const line = (requests: () => number): ProgressLine => {
    current = new ProgressLine({ enabled, write: io.err, clock, requests });
    return current;
  };
  return { line, io: wrapped };
}
