import { AsyncLocalStorage } from "node:async_hooks";
import { defaultFlow } from "../core/limits/token-bucket.js";

/**
 * Which flow an API request belongs to, for the fair token bucket (core/limits/token-bucket.ts): the
 * agent runs each reconcile in a flow of its own (agent/reconcile/workers.ts), and every request that
 * reconcile sends, however deep in the engine, takes its turn as that flow. It travels with the async
 * call chain, as a trace context does, so no function between the reconcile and the HTTP layer needs a
 * parameter for it. The storage holds no state of its own: only the chain that `inFlow` runs sees a flow.
 */
const flows = new AsyncLocalStorage<string>();

/** Runs `work` with every API request it sends counted as `flow`. */
export function inFlow<T>(flow: string, work: () => Promise<T>): Promise<T> {
  return flows.run(flow, work);
}

/** The flow of the request being sent now; requests outside any flow share the default one. */
export function currentFlow(): string {
  return flows.getStore() ?? defaultFlow;
}
