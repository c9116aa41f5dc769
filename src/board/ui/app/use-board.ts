import { useEffect, useReducer, useRef } from "preact/hooks";
import { parseStreamMessage, streamEventNames, type BoardState, type StreamMessage } from "../protocol.js";
import { emptyView, reduce, type ViewState } from "../view-state.js";
import { callApi } from "./api.js";

/** Resyncs with GET /api/board are at least this far apart: a burst of kills costs one read. */
const syncSpacingMs = 300;

export interface BoardConnection {
  readonly view: ViewState;
  /** The stream is open (EventSource readyState OPEN). */
  readonly live: boolean;
}

/**
 * The board as the stream tells it: GET /api/board/events (which starts with the whole board), each
 * event through the reducer, and GET /api/board again whenever the reducer asks for a resync. EventSource
 * reconnects by itself after a broken connection, and the board sends its whole state again on each.
 */
export function useBoard(): BoardConnection {
  const [state, dispatch] = useReducer(
    (current: { view: ViewState; live: boolean }, action: StreamMessage | { type: "live"; live: boolean }) =>
      action.type === "live"
        ? { ...current, live: action.live }
        : { ...current, view: reduce(current.view, action) },
    { view: emptyView, live: false },
  );
  useEffect(() => {
    const source = new EventSource("/api/board/events");
    for (const name of streamEventNames) {
      source.addEventListener(name, (event: MessageEvent<string>) => {
        const message = parseStreamMessage(name, event.data);
        if (message !== undefined) dispatch(message);
      });
    }
    source.onopen = () => {
      dispatch({ type: "live", live: true });
    };
    source.onerror = () => {
      dispatch({ type: "live", live: false });
    };
    return () => {
      source.close();
    };
  }, []);
  useResync(state.view.needsSync, dispatch);
  return state;
}

/** Reads GET /api/board when `wanted` changes, one read at a time and `syncSpacingMs` apart. */
function useResync(wanted: number, dispatch: (message: StreamMessage) => void): void {
  const sync = useRef({ running: false, again: false, timer: 0 });
  useEffect(() => {
    if (wanted === 0) return;
    const status = sync.current;
    const run = async (): Promise<void> => {
      status.running = true;
      status.again = false;
      const answer = await callApi("GET", "/api/board");
      if (answer.status === 200) dispatch({ type: "state", state: answer.body as BoardState });
      status.timer = window.setTimeout(() => {
        status.running = false;
        if (status.again) void run();
      }, syncSpacingMs);
    };
    if (status.running) status.again = true;
    else void run();
  }, [wanted, dispatch]);
  useEffect(
    () => () => {
      window.clearTimeout(sync.current.timer);
    },
    [],
  );
}
