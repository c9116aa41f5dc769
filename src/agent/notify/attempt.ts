import { setTimer, type Clock } from "../../core/clock.js";
import { describeError } from "../../core/errors.js";
import { parseRetryAfter } from "../../core/limits/token-bucket.js";
import { withoutSecrets } from "../../core/notify/url.js";
import { printable } from "../../core/terminal-text.js";
import type { OutgoingRequest } from "./requests.js";

/**
 * One HTTP attempt at delivering a notification, and what it means for the next one: delivered (2xx),
 * retry (no answer, a timeout, 429 or 5xx, with the wait a Retry-After asked for), or fail (any other
 * answer: the receiver understood and said no, and asking again would get the same answer).
 */

export type AttemptResult =
  | { readonly outcome: "delivered"; readonly status: number }
  | {
      readonly outcome: "retry";
      readonly problem: string;
      readonly status?: number;
      /** The wait the receiver asked for (Retry-After), in ms. */
      readonly retryAfterMs?: number;
    }
  | { readonly outcome: "fail"; readonly problem: string; readonly status?: number };

/** How much of an error answer's body is kept for the log (Slack says `invalid_payload`, `no_text`). */
const answerSnippetBytes = 200;

export interface AttemptOptions {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Aborts the attempt when the notifier shuts down. */
  readonly stop: AbortSignal;
}

/** Sends `request` once; never rejects. */
export async function sendOnce(request: OutgoingRequest, options: AttemptOptions): Promise<AttemptResult> {
  const attempt = new AbortController();
  const cancelTimer = setTimer(options.clock, options.timeoutMs, () => {
    attempt.abort();
  });
  const onStop = (): void => {
    attempt.abort();
  };
  options.stop.addEventListener("abort", onStop, { once: true });
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      // A webhook that redirects is misconfigured; following it would carry the token elsewhere.
      redirect: "manual",
      signal: attempt.signal,
    });
    return await judge(response, request, options.clock.now());
  } catch (error: unknown) {
    // Aborted, and not by the notifier stopping: the per-attempt timer fired.
    const timedOut = attempt.signal.aborted && !options.stop.aborted;
    const problem = timedOut ? `no answer within ${options.timeoutMs} ms` : describeNetworkError(error);
    return { outcome: "retry", problem: clean(problem, request) };
  } finally {
    cancelTimer();
    options.stop.removeEventListener("abort", onStop);
  }
}

async function judge(response: Response, request: OutgoingRequest, now: number): Promise<AttemptResult> {
  const status = response.status;
  if (status >= 200 && status < 300) {
    // Delivered is delivered: a body that cannot be discarded must not turn it into a retry (a duplicate).
    await response.body?.cancel().catch(() => undefined);
    return { outcome: "delivered", status };
  }
  const answer = clean(await snippet(response), request);
  const problem = answer === "" ? `answered ${status}` : `answered ${status}: ${answer}`;
  if (status !== 429 && status < 500) return { outcome: "fail", problem, status };
  const header = response.headers.get("retry-after");
  const retryAfterMs = header === null ? undefined : parseRetryAfter(header, now);
  return { outcome: "retry", problem, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

/** The start of an answer's body, read no further: a receiver may send a large page. */
async function snippet(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunk = await reader.read();
  await reader.cancel();
  const bytes: unknown = chunk.value;
  if (!(bytes instanceof Uint8Array)) return "";
  return new TextDecoder().decode(bytes.subarray(0, answerSnippetBytes)).trim();
}

/**
 * `work`'s value, or undefined when `ms` pass on `clock` first (or `stop` aborts); leaves no timer. `work`
 * keeps running: this is for what cannot be aborted, such as a Secret read through an informer's client.
 */
export function withinTimeout<T>(
  work: Promise<T>,
  clock: Clock,
  ms: number,
  stop?: AbortSignal,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const onStop = (): void => {
      cancel();
      resolve(undefined);
    };
    const cancel = setTimer(clock, ms, () => {
      stop?.removeEventListener("abort", onStop);
      resolve(undefined);
    });
    stop?.addEventListener("abort", onStop, { once: true });
    work.then(
      (value) => {
        cancel();
        stop?.removeEventListener("abort", onStop);
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        stop?.removeEventListener("abort", onStop);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED, a reset, a TLS problem) is in its cause. */
function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause === undefined) return describeError(error);
  return `${describeError(error)}: ${describeError(cause)}`;
}

function clean(text: string, request: OutgoingRequest): string {
  return printable(withoutSecrets(text, request.secrets));
}
