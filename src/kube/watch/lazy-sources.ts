import type { WatchSource, WatchSources } from "./source.js";

/**
 * Watch sources whose client is loaded on first use: the pod verbs watch only to time a recovery, after
 * the shot, so a `kill --no-wait` never loads client-node's Watch, and a waiting one loads it once the
 * DELETE is sent (issue 14). Each collection's source is made once, when its first list or watch starts.
 */
export function lazyWatchSources(load: () => Promise<WatchSources>): WatchSources {
  let loaded: Promise<WatchSources> | undefined;
  return (collection) => {
    let source: Promise<WatchSource> | undefined;
    const made = (): Promise<WatchSource> =>
      (source ??= (loaded ??= load()).then((sources) => sources(collection)));
    return {
      list: async (signal, page) => (await made()).list(signal, page),
      watch: async (resourceVersion, onEvent, onDone) =>
        (await made()).watch(resourceVersion, onEvent, onDone),
    };
  };
}
