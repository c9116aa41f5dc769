import type { V1ConfigMap } from "@kubernetes/client-node";
import { duelView, noDuel, type DuelView } from "../core/board/duel-view.js";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { broadsideNamespace, ledgerCollection, ledgerRecordOf } from "../kube/ledger-store.js";
import { Informer } from "../kube/watch/informer.js";
import type { WatchSources } from "../kube/watch/source.js";
import type { DuelSource } from "./ports.js";

/**
 * The board's duel view kept from the cluster (issue 13): an informer over the ledger's ConfigMaps in
 * Broadside's namespace (list and watch, nothing written), each record parsed once per resourceVersion,
 * and duelView computed again on every change. Listeners hear a view only when it differs from the last.
 *
 * A record that does not parse is left out of the view and told once (onError): the board shows records,
 * it never reverts them, so a bad one is for `broadside ledger` to name, not a reason to show nothing.
 */

export interface KubeDuelFeedOptions {
  readonly watches: WatchSources;
  readonly clock: Clock;
  readonly namespace?: string;
  readonly onError?: (error: BroadsideError) => void;
}

export interface DuelFeed extends DuelSource {
  /** Lists the ledger and follows it; resolves once listed and the first view computed. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Parsed {
  readonly version: string;
  readonly record: LedgerRecord | undefined;
}

export function kubeDuelFeed(options: KubeDuelFeedOptions): DuelFeed {
  const namespace = options.namespace ?? broadsideNamespace;
  const informer = new Informer<V1ConfigMap>({
    source: options.watches(ledgerCollection(namespace)),
    description: `ledger records in namespace ${namespace} (the board's duel view)`,
    clock: options.clock,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  const parsed = new Map<string, Parsed>();
  const listeners = new Set<(view: DuelView) => void>();
  let current: DuelView = noDuel;
  let shown = JSON.stringify(noDuel);
  // One recomputation at a time; a change during one asks for another after it.
  let running: Promise<void> | undefined;
  let asked = 0;
  let computed = 0;

  const parse = async (configMap: V1ConfigMap): Promise<LedgerRecord | undefined> => {
    const name = configMap.metadata?.name ?? "";
    const version = configMap.metadata?.resourceVersion ?? "";
    const known = parsed.get(name);
    if (known?.version === version) return known.record;
    const record = await ledgerRecordOf(configMap, namespace).catch((error: unknown) => {
      options.onError?.(
        error instanceof BroadsideError
          ? error
          : new BroadsideError("BRD_INTERNAL", `${name}: ${String(error)}`, { cause: error }),
      );
      return undefined;
    });
    parsed.set(name, { version, record });
    return record;
  };

  const recompute = async (): Promise<void> => {
    const configMaps = informer.list();
    const present = new Set(configMaps.map((configMap) => configMap.metadata?.name ?? ""));
    for (const name of parsed.keys()) if (!present.has(name)) parsed.delete(name);
    const records: LedgerRecord[] = [];
    for (const configMap of configMaps) {
      const record = await parse(configMap);
      if (record !== undefined) records.push(record);
    }
    const view = duelView(records);
    const text = JSON.stringify(view);
    if (text === shown) return;
    current = view;
    shown = text;
    for (const listener of listeners) listener(view);
  };

  const changed = (): Promise<void> => {
    asked += 1;
    if (running !== undefined) return running;
    running = (async () => {
      while (computed < asked) {
        computed = asked;
        await recompute();
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unsubscribe = informer.subscribe(() => {
    void changed();
  });

  return {
    view: () => current,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: async () => {
      await informer.start();
      await changed();
    },
    stop: async () => {
      unsubscribe();
      await informer.stop();
      await running;
    },
  };
}
