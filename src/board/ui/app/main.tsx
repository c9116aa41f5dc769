import { render, type JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { DuelPanel } from "./duel.js";
import { OperateScreen } from "./operate.js";
import { PlayScreen } from "./play.js";
import { Legend, ScoreboardPanel, SeaGrid, Ticker } from "./sea.js";
import { useBoard } from "./use-board.js";

/**
 * The board's page: one bundle, three screens chosen by the URL's fragment (never a query: the board
 * refuses those): #watch for spectators (the default), #play for players, #operate for the operator.
 * Every screen follows the same stream.
 */

type Screen = "watch" | "play" | "operate";

function screenOf(hash: string): Screen {
  return hash === "#play" ? "play" : hash === "#operate" ? "operate" : "watch";
}

function useScreen(): Screen {
  const [screen, setScreen] = useState(() => screenOf(window.location.hash));
  useEffect(() => {
    const onChange = (): void => {
      setScreen(screenOf(window.location.hash));
    };
    window.addEventListener("hashchange", onChange);
    return () => {
      window.removeEventListener("hashchange", onChange);
    };
  }, []);
  return screen;
}

const screens: readonly { readonly screen: Screen; readonly label: string }[] = [
  { screen: "watch", label: "Watch" },
  { screen: "play", label: "Play" },
  { screen: "operate", label: "Operate" },
];

function App(): JSX.Element {
  const screen = useScreen();
  const { view, live } = useBoard();
  return (
    <>
      <header>
        <h1>Broadside</h1>
        <nav aria-label="Screens">
          {screens.map((entry) => (
            <a
              key={entry.screen}
              href={`#${entry.screen}`}
              aria-current={entry.screen === screen ? "page" : undefined}
            >
              {entry.label}
            </a>
          ))}
        </nav>
        <span class={`live ${live ? "on" : "off"}`} data-live={live ? "on" : "off"}>
          {live ? "● live" : "○ reconnecting"}
        </span>
      </header>
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-announcer>
        {view.announcement}
      </div>
      <main id="main" tabIndex={-1}>
        {screen === "play" ? <PlayScreen view={view} /> : null}
        {screen === "operate" ? <OperateScreen /> : null}
        {screen === "watch" ? (
          <div class="watch">
            <div class="seas">
              {view.game === null ? (
                <p class="quiet">No game is open. The operator opens one at #operate.</p>
              ) : null}
              {view.grids.map((grid) => (
                <SeaGrid key={grid.namespace} grid={grid} />
              ))}
              <Legend />
            </div>
            <ScoreboardPanel scoreboard={view.scoreboard} />
            <DuelPanel duel={view.duel} />
            <Ticker lines={view.ticker} />
          </div>
        ) : null}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
