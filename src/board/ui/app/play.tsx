import { useEffect, useState } from "preact/hooks";
import type { JSX } from "preact";
import { columnName } from "../cells.js";
import { keptWeapon, refusalOf, refusalText, weaponChoices, type Refusal } from "../player.js";
import type { PublicShot, Weapon } from "../protocol.js";
import { shieldName, type ViewState } from "../view-state.js";
import { callApi, errorMessage } from "./api.js";
import { FiringGrid, Legend } from "./sea.js";

/** The player's token lives in this tab's sessionStorage at most: never a cookie, never a URL. */
const storageKey = "broadside.player";

interface Player {
  readonly token: string;
  readonly nickname: string;
  readonly expiresAt: number;
}

function storedPlayer(): Player | undefined {
  try {
    const text = window.sessionStorage.getItem(storageKey);
    const player = text === null ? undefined : (JSON.parse(text) as Player);
    return player !== undefined && player.expiresAt > Date.now() ? player : undefined;
  } catch {
    return undefined;
  }
}

function keepPlayer(player: Player | undefined): void {
  try {
    if (player === undefined) window.sessionStorage.removeItem(storageKey);
    else window.sessionStorage.setItem(storageKey, JSON.stringify(player));
  } catch {
    // Storage may be off (a private window): the token then lives in memory only, which is fine.
  }
}

export function PlayScreen({ view }: { readonly view: ViewState }): JSX.Element {
  const [player, setPlayer] = useState<Player | undefined>(storedPlayer);
  const join = (joined: Player | undefined): void => {
    keepPlayer(joined);
    setPlayer(joined);
  };
  if (player === undefined) return <JoinForm onJoined={join} />;
  return (
    <Firing
      view={view}
      player={player}
      onLeave={() => {
        join(undefined);
      }}
    />
  );
}

function JoinForm({ onJoined }: { readonly onJoined: (player: Player) => void }): JSX.Element {
  const [code, setCode] = useState("");
  const [nickname, setNickname] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    const answer = await callApi("POST", "/api/join", { body: { code, nickname } });
    setBusy(false);
    if (answer.status !== 200) {
      setError(errorMessage(answer));
      return;
    }
    const body = answer.body as { token: string; nickname: string; expiresAt: number };
    onJoined({ token: body.token, nickname: body.nickname, expiresAt: body.expiresAt });
  };
  return (
    <form class="panel join" onSubmit={(event) => void submit(event)} aria-describedby="join-error">
      <h2>Join the game</h2>
      <label>
        Game code
        <input
          name="code"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          required
          maxLength={12}
          value={code}
          onInput={(event) => {
            setCode(event.currentTarget.value);
          }}
        />
      </label>
      <label>
        Nickname
        <input
          name="nickname"
          autocomplete="nickname"
          required
          maxLength={24}
          value={nickname}
          onInput={(event) => {
            setNickname(event.currentTarget.value);
          }}
        />
      </label>
      <button type="submit" disabled={busy}>
        Join
      </button>
      <p id="join-error" class="error" role="alert">
        {error ?? ""}
      </p>
    </form>
  );
}

type LastShot =
  | { readonly kind: "fired"; readonly shot: PublicShot; readonly reason?: string }
  | { readonly kind: "error"; readonly message: string };

function Firing({
  view,
  player,
  onLeave,
}: {
  readonly view: ViewState;
  readonly player: Player;
  readonly onLeave: () => void;
}): JSX.Element {
  const choices = weaponChoices(view.game);
  const [chosen, setChosen] = useState<Weapon | undefined>();
  const weapon = keptWeapon(choices, chosen);
  const [last, setLast] = useState<LastShot | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const now = useNow(refusal !== undefined);
  const waiting = refusalText(refusal, now);
  const fire = async (namespace: string, row: number, col: number): Promise<void> => {
    if (weapon === undefined) return;
    setRefusal(undefined);
    const answer = await callApi("POST", "/api/shots", {
      token: player.token,
      body: { namespace, row, col, weapon },
    });
    if (answer.status === 429) {
      setRefusal(refusalOf(answer.body, answer.headers.get("retry-after"), performance.now()));
      return;
    }
    if (answer.status === 401 || answer.status === 403) {
      setLast({ kind: "error", message: `${errorMessage(answer)}. Join again.` });
      onLeave();
      return;
    }
    setLast(
      answer.status === 200
        ? { kind: "fired", ...(answer.body as { shot: PublicShot; reason?: string }) }
        : { kind: "error", message: errorMessage(answer) },
    );
  };
  return (
    <div class="play">
      <div class="panel">
        <p>
          Playing as <strong>{player.nickname}</strong>.{" "}
          <button type="button" class="link" onClick={onLeave}>
            Leave
          </button>
        </p>
        <WeaponPicker choices={choices} weapon={weapon} onChoose={setChosen} />
        <p class="result" role="status" data-result={resultKind(last)} data-shield={shieldHeld(last)}>
          {describeLast(last)}
        </p>
        <p class="refused" role="status" data-refusal={waiting === undefined ? undefined : refusal?.reason}>
          {waiting === undefined ? "" : `Refused, ${waiting}`}
        </p>
      </div>
      {view.game === null ? <p class="quiet">Waiting for the operator to open a game.</p> : null}
      {view.grids.map((grid) => (
        <FiringGrid
          key={grid.namespace}
          grid={grid}
          disabled={weapon === undefined}
          onFire={(namespace, row, col) => void fire(namespace, row, col)}
        />
      ))}
      <Legend />
    </div>
  );
}

/** The result's kind for the page's data-result: hit, miss, deflected or error. */
function resultKind(last: LastShot | undefined): string | undefined {
  return last?.kind === "fired" ? last.shot.result : last?.kind;
}

/** "held" when the last shot was a mine a PodDisruptionBudget held off. */
function shieldHeld(last: LastShot | undefined): string | undefined {
  return last?.kind === "fired" && last.shot.shield !== undefined ? "held" : undefined;
}

function describeLast(last: LastShot | undefined): string {
  if (last === undefined) return "Pick a cell: click or tap it, or move with the arrow keys and press Enter.";
  if (last.kind === "error") return last.message;
  const { shot } = last;
  const where = `${shot.namespace} ${columnName(shot.col)}${shot.row + 1}`;
  if (shot.result === "hit") return `Hit! ${shot.pod ?? ""} in ${where} is going down.`;
  if (shot.result === "miss")
    return `Miss: ${where}${shot.pod === undefined ? " is water" : " was already going"}.`;
  if (shot.shield !== undefined)
    return `Shield! The shield of ${shieldName(shot.shield)} held at ${where}: ${shot.pod ?? "the pod"} stays up.`;
  return `Deflected at ${where}: ${last.reason ?? "the cluster refused"}.`;
}

function WeaponPicker({
  choices,
  weapon,
  onChoose,
}: {
  readonly choices: ReturnType<typeof weaponChoices>;
  readonly weapon: Weapon | undefined;
  readonly onChoose: (weapon: Weapon) => void;
}): JSX.Element {
  return (
    <fieldset class="weapons">
      <legend>Weapon</legend>
      {choices.map((choice) => (
        <label key={choice.weapon} class={choice.disabled === undefined ? "" : "disabled"}>
          <input
            type="radio"
            name="weapon"
            value={choice.weapon}
            checked={choice.weapon === weapon}
            disabled={choice.disabled !== undefined}
            onChange={() => {
              onChoose(choice.weapon);
            }}
          />
          {choice.label} <span class="quiet">({choice.fault})</span>
          {choice.disabled === undefined ? null : <span class="reason"> {choice.disabled}</span>}
        </label>
      ))}
    </fieldset>
  );
}

/** performance.now(), re-read four times a second while `ticking`, for a countdown. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(performance.now());
    const timer = window.setInterval(() => {
      setNow(performance.now());
    }, 250);
    return () => {
      window.clearInterval(timer);
    };
  }, [ticking]);
  return now;
}
