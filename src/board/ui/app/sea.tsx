import { useEffect, useRef, useState } from "preact/hooks";
import type { JSX, TargetedKeyboardEvent } from "preact";
import {
  cellSymbols,
  clockTime,
  healsText,
  millis,
  percent,
  perMinute,
  squareLabel,
  squaresOf,
  type Square,
} from "../cells.js";
import { clampPosition, isFireKey, moveFocus, type GridPosition } from "../grid-nav.js";
import type { GridView, Scoreboard } from "../protocol.js";
import type { TickerLine } from "../view-state.js";

/** What a square shows: its state's symbol, and the repair's ms once repaired. */
function SquareFace({ square }: { readonly square: Square }): JSX.Element {
  const ms = square.state === "repaired" ? square.cell?.repairedMs : undefined;
  return (
    <>
      <span class="sym" aria-hidden="true">
        {cellSymbols[square.state]}
      </span>
      {ms === undefined ? null : (
        <span class="ms" aria-hidden="true">
          {ms}
        </span>
      )}
    </>
  );
}

function squareData(square: Square): Record<string, string> {
  return {
    "data-row": String(square.row),
    "data-col": String(square.col),
    "data-state": square.state,
    ...(square.cell?.pod === undefined ? {} : { "data-pod": square.cell.pod.name }),
    ...(square.cell?.repairedMs === undefined ? {} : { "data-repaired-ms": String(square.cell.repairedMs) }),
  };
}

/** A namespace's sea for spectators: read only, each square labelled for screen readers. */
export function SeaGrid({ grid }: { readonly grid: GridView }): JSX.Element {
  return (
    <section class="sea" aria-label={`Sea of ${grid.namespace}`}>
      <h3>{grid.namespace}</h3>
      <div class="sea-scroll">
        <div
          role="table"
          class="grid"
          aria-label={`${grid.namespace}, ${grid.side} by ${grid.side}`}
          data-namespace={grid.namespace}
        >
          {squaresOf(grid).map((row, index) => (
            <div role="row" class="grid-row" key={index}>
              {row.map((square) => (
                <span
                  role="cell"
                  key={square.col}
                  class={`square ${square.state}`}
                  aria-label={squareLabel(square)}
                  title={squareLabel(square)}
                  {...squareData(square)}
                >
                  <SquareFace square={square} />
                </span>
              ))}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}

/**
 * A namespace's sea to fire at: one square in the tab order at a time (a roving tabindex), the arrow keys
 * move it, Enter or Space fires, and so do a click and a tap.
 */
export function FiringGrid({
  grid,
  onFire,
  disabled,
}: {
  readonly grid: GridView;
  readonly onFire: (namespace: string, row: number, col: number) => void;
  readonly disabled: boolean;
}): JSX.Element {
  const [focus, setFocus] = useState<GridPosition>({ row: 0, col: 0 });
  const [moved, setMoved] = useState(false);
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const at = clampPosition(focus, grid.side);
  useEffect(() => {
    if (moved) buttons.current.get(`${at.row}:${at.col}`)?.focus();
  }, [at.row, at.col, moved]);
  const onKeyDown = (event: TargetedKeyboardEvent<HTMLElement>): void => {
    if (isFireKey(event.key)) {
      event.preventDefault();
      if (!disabled) onFire(grid.namespace, at.row, at.col);
      return;
    }
    const next = moveFocus(at, { key: event.key, ctrl: event.ctrlKey || event.metaKey }, grid.side);
    if (next === undefined) return;
    event.preventDefault();
    setMoved(true);
    setFocus(next);
  };
  return (
    <section class="sea" aria-label={`Sea of ${grid.namespace}`}>
      <h3>{grid.namespace}</h3>
      <div class="sea-scroll">
        <div
          role="grid"
          class="grid firing"
          aria-label={`${grid.namespace}: arrow keys move, Enter fires`}
          data-namespace={grid.namespace}
          onKeyDown={onKeyDown}
        >
          {squaresOf(grid).map((row, index) => (
            <div role="row" class="grid-row" key={index}>
              {row.map((square) => (
                <span role="gridcell" key={square.col} class="cell-wrap">
                  <button
                    type="button"
                    class={`square ${square.state}`}
                    tabIndex={square.row === at.row && square.col === at.col ? 0 : -1}
                    aria-label={squareLabel(square)}
                    aria-disabled={disabled ? "true" : undefined}
                    title={squareLabel(square)}
                    ref={(element) => {
                      if (element === null) buttons.current.delete(`${square.row}:${square.col}`);
                      else buttons.current.set(`${square.row}:${square.col}`, element);
                    }}
                    onClick={() => {
                      setFocus({ row: square.row, col: square.col });
                      if (!disabled) onFire(grid.namespace, square.row, square.col);
                    }}
                    {...squareData(square)}
                  >
                    <SquareFace square={square} />
                  </button>
                </span>
              ))}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}

export function Legend(): JSX.Element {
  const states = ["intact", "burning", "rebuilding", "repaired", "water"] as const;
  return (
    <ul class="legend" aria-label="Legend">
      {states.map((state) => (
        <li key={state}>
          <span class={`square ${state}`} aria-hidden="true">
            <span class="sym">{cellSymbols[state]}</span>
          </span>{" "}
          {state}
        </li>
      ))}
    </ul>
  );
}

export function ScoreboardPanel({ scoreboard }: { readonly scoreboard: Scoreboard | null }): JSX.Element {
  if (scoreboard === null) return <p class="quiet">No game is open.</p>;
  return (
    <section class="scoreboard" aria-label="Scoreboard">
      <h2>Scoreboard</h2>
      <dl class="figures">
        <div>
          <dt>MTTR p50</dt>
          <dd data-figure="mttr-p50">{millis(scoreboard.mttrP50Ms)}</dd>
        </div>
        <div>
          <dt>MTTR p95</dt>
          <dd data-figure="mttr-p95">{millis(scoreboard.mttrP95Ms)}</dd>
        </div>
        <div>
          <dt>Self-heal rate</dt>
          <dd data-figure="self-heal">{percent(scoreboard.selfHealRate)}</dd>
        </div>
        <div>
          <dt>Repaired / healing / not healed</dt>
          <dd>
            {scoreboard.repaired} / {scoreboard.healing} / {scoreboard.unhealed}
          </dd>
        </div>
        <div>
          <dt>Drifts (on now)</dt>
          <dd data-figure="drifts">
            {scoreboard.drifts.total} ({scoreboard.drifts.open}), {perMinute(scoreboard.drifts.perMinute)}
          </dd>
        </div>
        <div>
          <dt>Drift persisted p50 / p95</dt>
          <dd data-figure="drift-persisted">
            {millis(scoreboard.drifts.persistP50Ms)} / {millis(scoreboard.drifts.persistP95Ms)}
          </dd>
        </div>
        <div>
          <dt>Drift self-heal rate</dt>
          <dd data-figure="drift-self-heal">{percent(scoreboard.drifts.selfHealRate)}</dd>
        </div>
        <div>
          <dt>Heals by</dt>
          <dd data-figure="heals-by">{healsText(scoreboard.drifts.heals)}</dd>
        </div>
        <div>
          <dt>API requests p50 / p99</dt>
          <dd data-figure="api-latency">
            {millis(scoreboard.api.p50Ms)} / {millis(scoreboard.api.p99Ms)}
          </dd>
        </div>
        <div>
          <dt>Pod restarts</dt>
          <dd data-figure="restarts">
            {scoreboard.restarts.total}
            {scoreboard.restarts.ships.length === 0
              ? ""
              : ` (${scoreboard.restarts.ships
                  .slice(0, 3)
                  .map((ship) => `${ship.ship.split("/").slice(1).join("/")} ${ship.restarts}`)
                  .join(", ")})`}
          </dd>
        </div>
      </dl>
      {scoreboard.drifts.managers.length === 0 ? null : (
        <p class="quiet" data-figure="managers">
          Restored by:{" "}
          {scoreboard.drifts.managers.map((entry) => `${entry.manager} ${entry.heals}`).join(", ")}
        </p>
      )}
      <div class="table-scroll">
        <table class="players">
          <caption>Players</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Player</th>
              <th scope="col">Shots</th>
              <th scope="col">Hits</th>
              <th scope="col">Refused</th>
              <th scope="col">Best kill to repaired</th>
            </tr>
          </thead>
          <tbody>
            {scoreboard.players.map((player, rank) => (
              <tr key={player.playerId}>
                <td>{rank + 1}</td>
                <th scope="row">{player.nickname}</th>
                <td>{player.shots}</td>
                <td>{player.hits}</td>
                <td>{player.refused}</td>
                <td>{millis(player.bestKillToRepairedMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The live ticker, newest line first, with kubectl's columns. */
export function Ticker({ lines }: { readonly lines: readonly TickerLine[] }): JSX.Element {
  return (
    <section class="ticker" aria-label="Event ticker">
      <h2>Events</h2>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">TIME</th>
              <th scope="col">NAMESPACE</th>
              <th scope="col">NAME</th>
              <th scope="col">STATUS</th>
              <th scope="col">DETAIL</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((line) => (
              <tr key={line.id} class={`status-${line.status.toLowerCase()}`}>
                <td>{clockTime(line.at)}</td>
                <td>{line.namespace}</td>
                <td>{line.name}</td>
                <td>{line.status}</td>
                <td>{line.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
