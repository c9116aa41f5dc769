import { Watch } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { RequestOptions } from "node:http";
import { systemClock, type Clock } from "../../core/clock.js";
import { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import type { ApiRequestObserver } from "../api-request-observer.js";
import type { RequestCounter } from "../throttled-http.js";
import { getText, httpError, parseList } from "./raw-list.js";
import type { ListPage, ListResult, WatchHandle, WatchSource, WatchSources } from "./source.js";

export interface ClientNodeSourceOptions {
  readonly config: KubeConfig;
  /** The collection's path, as client-node's Watch takes it; see collectionPath(). */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Asked of the server per watch, so that even a connection that looks alive is renewed now and then,
   * as client-go's reflector does. Default: drawn between 5 and 10 minutes per watch, so many informers
   * started together do not all reconnect together.
   */
  readonly watchTimeoutSeconds?: number;
  readonly random?: () => number;
  /** Counts each LIST, as the typed clients count their requests (watch streams are not counted). */
  readonly counter?: RequestCounter;
  /**
   * Told of each LIST as the typed clients' requests are (kube/throttled-http.ts): verb, status code, and
   * the time to the answer's headers on `clock` (systemClock when not given). Watch streams are not.
   */
  readonly observer?: ApiRequestObserver;
  readonly clock?: Clock;
}

/**
 * The WatchSources of one cluster: a ClientNodeWatchSource per collection, LISTs counted in `counter` and
 * reported to `observer`.
 */
export function clientNodeSources(
  config: KubeConfig,
  counter?: RequestCounter,
  observer?: ApiRequestObserver,
): WatchSources {
  return (collection) =>
    new ClientNodeWatchSource({
      config,
      ...collection,
      ...optional("counter", counter),
      ...optional("observer", observer),
    });
}

/**
 * A WatchSource over @kubernetes/client-node: WATCH through its `Watch`, LIST as a raw GET of the same
 * path with the same selectors. The raw LIST can be aborted, which the typed list calls of client-node
 * 1.4 offer no way to do, and it yields the same wire JSON as the watch events, so the cache never holds
 * a mix of typed objects (Date fields) and wire objects (string timestamps).
 */
export class ClientNodeWatchSource implements WatchSource {
  private readonly watcher: Watch;

  constructor(private readonly options: ClientNodeSourceOptions) {
    this.watcher = new Watch(options.config);
  }

  async list(signal: AbortSignal, page?: ListPage): Promise<ListResult> {
    const server = this.options.config.getCurrentCluster()?.server;
    if (server === undefined) throw new BroadsideError("BRD_USAGE", "the kubeconfig has no current cluster");
    const url = new URL(server + this.options.path);
    for (const [key, value] of Object.entries(this.selectors())) url.searchParams.set(key, value);
    if (page !== undefined) {
      url.searchParams.set("limit", String(page.limit));
      if (page.continue !== undefined) url.searchParams.set("continue", page.continue);
    }
    const options: RequestOptions = { method: "GET", headers: { Accept: "application/json" }, signal };
    await this.options.config.applyToHTTPSOptions(options);
    if (this.options.counter !== undefined) this.options.counter.requests += 1;
    const response = await getText(url, options, this.answerReporter());
    if (response.status !== 200) throw httpError("LIST", response.status, response.body);
    return parseList(response.body);
  }

  async watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle> {
    const query = {
      ...this.selectors(),
      resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
    };
    // Watch reports a failed connection through onDone and still resolves with its controller.
    const controller = await this.watcher.watch(this.options.path, query, onEvent, onDone);
    return controller;
  }

  /** Reports the LIST about to be sent once its answer (or its failure) comes; a no-op without an observer. */
  private answerReporter(): (code: number | undefined) => void {
    const { observer, clock = systemClock } = this.options;
    if (observer === undefined) return () => undefined;
    const sentAt = clock.now();
    let reported = false;
    return (code) => {
      if (reported) return;
      reported = true;
      observer.requestEnded({ verb: "list", code, seconds: Math.max(0, clock.now() - sentAt) / 1000 });
    };
  }

  private selectors(): Record<string, string> {
    const selectors: Record<string, string> = {};
    if (this.options.labelSelector !== undefined) selectors.labelSelector = this.options.labelSelector;
    if (this.options.fieldSelector !== undefined) selectors.fieldSelector = this.options.fieldSelector;
    return selectors;
  }

  private watchTimeoutSeconds(): number {
    const random = this.options.random ?? Math.random;
    return this.options.watchTimeoutSeconds ?? 300 + Math.floor(random() * 300);
  }
}
