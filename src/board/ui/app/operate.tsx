import { useEffect, useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { defaultGameForm, fieldErrors, gameBody, weaponOrder, type GameForm } from "../player.js";
import type { GameSummary, Weapon } from "../protocol.js";
import { callApi, errorMessage } from "./api.js";

/**
 * The operator's screen: a Kubernetes bearer token pasted in (kept in this page's memory only, sent only
 * in the Authorization header), then the game: open one, read its code out to the room, close it, or
 * halt everything.
 */

interface Operator {
  readonly token: string;
  readonly user: string;
}

export function OperateScreen(): JSX.Element {
  const [operator, setOperator] = useState<Operator | undefined>();
  if (operator === undefined) return <LoginForm onLogin={setOperator} />;
  return (
    <GamePanel
      operator={operator}
      onLogout={() => {
        setOperator(undefined);
      }}
    />
  );
}

function LoginForm({ onLogin }: { readonly onLogin: (operator: Operator) => void }): JSX.Element {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(undefined);
    const trimmed = token.trim();
    const answer = await callApi("POST", "/api/operator/login", { token: trimmed });
    if (answer.status !== 200) {
      setError(errorMessage(answer));
      return;
    }
    setToken("");
    onLogin({ token: trimmed, user: (answer.body as { user: string }).user });
  };
  return (
    <form class="panel login" onSubmit={(event) => void submit(event)}>
      <h2>Operator</h2>
      <p class="quiet">
        Paste a Kubernetes bearer token, e.g. from <code>kubectl create token SA</code>. It stays in this
        page's memory and is sent only as a header.
      </p>
      <label>
        Bearer token
        <input
          type="password"
          name="token"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => {
            setToken(event.currentTarget.value);
          }}
        />
      </label>
      <button type="submit">Sign in</button>
      <p class="error" role="alert">
        {error ?? ""}
      </p>
    </form>
  );
}

interface OpenGame {
  readonly code: string;
  readonly game: GameSummary;
}

function GamePanel({
  operator,
  onLogout,
}: {
  readonly operator: Operator;
  readonly onLogout: () => void;
}): JSX.Element {
  const [open, setOpen] = useState<OpenGame | null | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const read = async (): Promise<void> => {
    const answer = await callApi("GET", "/api/operator/game", { token: operator.token });
    if (answer.status === 200) {
      const body = answer.body as { code?: string; game: GameSummary | null };
      setOpen(body.game === null || body.code === undefined ? null : { code: body.code, game: body.game });
    } else setMessage(errorMessage(answer));
  };
  useEffect(() => {
    // Read once when signed in; each action below reads again.
    void read();
  }, [operator.token]);
  const close = async (): Promise<void> => {
    const answer = await callApi("DELETE", "/api/operator/game", { token: operator.token });
    setMessage(answer.status === 200 ? "The game is closed." : errorMessage(answer));
    await read();
  };
  return (
    <div class="operate">
      <div class="panel">
        <p>
          Signed in as <strong data-operator>{operator.user}</strong>.{" "}
          <button type="button" class="link" onClick={onLogout}>
            Sign out
          </button>
        </p>
        <p role="status">{message ?? ""}</p>
      </div>
      {open === undefined ? null : open === null ? (
        <OpenGameForm
          token={operator.token}
          onOpened={(game) => {
            setOpen(game);
          }}
        />
      ) : (
        <section class="panel" aria-label="The open game">
          <h2>Game open</h2>
          <p>
            Code for the players:{" "}
            <strong class="code" data-game-code>
              {open.code}
            </strong>
          </p>
          <p class="quiet">
            Sea: {open.game.namespaces.join(", ")}; weapons:{" "}
            {weaponOrder
              .filter(({ weapon }) => open.game.weapons[weapon].allowed)
              .map(({ label }) => label)
              .join(", ")}
            {open.game.unsafe ? "; unsafe: ships can be sunk" : ""}.
          </p>
          <button type="button" onClick={() => void close()}>
            Close the game
          </button>
        </section>
      )}
      <HaltButton
        token={operator.token}
        onHalted={(text) => {
          setMessage(text);
          void read();
        }}
      />
    </div>
  );
}

function OpenGameForm({
  token,
  onOpened,
}: {
  readonly token: string;
  readonly onOpened: (game: OpenGame) => void;
}): JSX.Element {
  const [form, setForm] = useState<GameForm>(defaultGameForm);
  const [errors, setErrors] = useState<Map<string, string[]>>(new Map());
  const set = (change: Partial<GameForm>): void => {
    setForm({ ...form, ...change });
  };
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const answer = await callApi("POST", "/api/operator/game", { token, body: gameBody(form) });
    if (answer.status === 201) {
      setErrors(new Map());
      onOpened(answer.body as OpenGame);
      return;
    }
    const known = new Set([
      "namespaces",
      "weapons",
      "unsafe",
      "revertAfter",
      "limits.player.shots",
      "limits.player.per",
      "limits.game.shots",
      "limits.game.per",
    ]);
    const found = fieldErrors(errorMessage(answer));
    const placed = new Map<string, string[]>();
    for (const [field, problems] of found) {
      const key = known.has(field) ? field : field.startsWith("limits") ? limitField(field) : "(form)";
      placed.set(key, [...(placed.get(key) ?? []), ...problems]);
    }
    setErrors(placed);
  };
  const toggle = (weapon: Weapon, on: boolean): void => {
    set({ weapons: on ? [...form.weapons, weapon] : form.weapons.filter((kept) => kept !== weapon) });
  };
  return (
    <form class="panel open-game" onSubmit={(event) => void submit(event)} noValidate>
      <h2>Open a game</h2>
      <Field
        label="Namespaces (the sea: opted-in namespaces, separated by commas)"
        name="namespaces"
        errors={errors}
      >
        <input
          name="namespaces"
          value={form.namespaces}
          onInput={(event) => {
            set({ namespaces: event.currentTarget.value });
          }}
        />
      </Field>
      <fieldset>
        <legend>Weapons</legend>
        {weaponOrder.map(({ weapon, label, fault }) => (
          <label key={weapon} class={weapon === "net" ? "disabled" : ""}>
            <input
              type="checkbox"
              name="weapons"
              value={weapon}
              checked={form.weapons.includes(weapon)}
              disabled={weapon === "net"}
              onChange={(event) => {
                toggle(weapon, event.currentTarget.checked);
              }}
            />
            {label} <span class="quiet">({fault})</span>
            {weapon === "net" ? <span class="reason"> needs the node daemon's network faults</span> : null}
          </label>
        ))}
        <Problems name="weapons" errors={errors} />
      </fieldset>
      <label class="inline">
        <input
          type="checkbox"
          name="unsafe"
          checked={form.unsafe}
          onChange={(event) => {
            set({ unsafe: event.currentTarget.checked });
          }}
        />
        Unsafe: lift the per-ship cap, so a ship can be sunk
      </label>
      <Field label="Fog and anchor are reverted after (10s to 10m)" name="revertAfter" errors={errors}>
        <input
          name="revertAfter"
          value={form.revertAfter}
          onInput={(event) => {
            set({ revertAfter: event.currentTarget.value });
          }}
        />
      </Field>
      <fieldset class="limits">
        <legend>Limits</legend>
        <Field label="Shots per player" name="limits.player.shots" errors={errors}>
          <input
            name="limits.player.shots"
            inputMode="numeric"
            value={form.playerShots}
            onInput={(event) => {
              set({ playerShots: event.currentTarget.value });
            }}
          />
        </Field>
        <Field label="per" name="limits.player.per" errors={errors}>
          <input
            name="limits.player.per"
            value={form.playerPer}
            onInput={(event) => {
              set({ playerPer: event.currentTarget.value });
            }}
          />
        </Field>
        <Field label="Shots per game" name="limits.game.shots" errors={errors}>
          <input
            name="limits.game.shots"
            inputMode="numeric"
            value={form.gameShots}
            onInput={(event) => {
              set({ gameShots: event.currentTarget.value });
            }}
          />
        </Field>
        <Field label="per" name="limits.game.per" errors={errors}>
          <input
            name="limits.game.per"
            value={form.gamePer}
            onInput={(event) => {
              set({ gamePer: event.currentTarget.value });
            }}
          />
        </Field>
      </fieldset>
      <button type="submit">Open the game</button>
      <Problems name="(form)" errors={errors} />
    </form>
  );
}

/** `limits.player` (a whole object wrong) is shown under its shots field. */
function limitField(field: string): string {
  return field.startsWith("limits.game") ? "limits.game.shots" : "limits.player.shots";
}

function Field({
  label,
  name,
  errors,
  children,
}: {
  readonly label: string;
  readonly name: string;
  readonly errors: ReadonlyMap<string, string[]>;
  readonly children: JSX.Element;
}): JSX.Element {
  return (
    <div class="field" data-field={name}>
      <label>
        {label}
        {children}
      </label>
      <Problems name={name} errors={errors} />
    </div>
  );
}

function Problems({
  name,
  errors,
}: {
  readonly name: string;
  readonly errors: ReadonlyMap<string, string[]>;
}): JSX.Element | null {
  const problems = errors.get(name);
  if (problems === undefined) return null;
  return (
    <ul class="error" role="alert" data-errors-for={name}>
      {problems.map((problem) => (
        <li key={problem}>
          {name === "(form)" ? "" : `${name}: `}
          {problem}
        </li>
      ))}
    </ul>
  );
}

/** Halt asks once more before it acts: it reverts everything and keeps chaos off until `broadside resume`. */
function HaltButton({
  token,
  onHalted,
}: {
  readonly token: string;
  readonly onHalted: (text: string) => void;
}): JSX.Element {
  const [confirming, setConfirming] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // The safe choice takes the focus, so a stray Enter does not halt.
    if (confirming) cancel.current?.focus();
  }, [confirming]);
  const halt = async (): Promise<void> => {
    setConfirming(false);
    const answer = await callApi("POST", "/api/operator/halt", { token });
    const body = answer.body as { reverted?: number };
    onHalted(
      answer.status === 200
        ? `Halted: ${body.reverted ?? 0} faults reverted, the game closed. Chaos stays off until broadside resume.`
        : errorMessage(answer),
    );
  };
  return (
    <section class="panel halt" aria-label="Halt">
      {confirming ? (
        <div role="alertdialog" aria-label="Confirm halt" aria-describedby="halt-what">
          <p id="halt-what">
            Halt holds the kill switch, reverts every open fault and closes the game. Chaos stays off until{" "}
            <code>broadside resume</code>.
          </p>
          <button type="button" class="danger" onClick={() => void halt()}>
            Yes, halt everything
          </button>{" "}
          <button
            type="button"
            onClick={() => {
              setConfirming(false);
            }}
            ref={cancel}
          >
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          class="danger"
          onClick={() => {
            setConfirming(true);
          }}
        >
          Halt
        </button>
      )}
    </section>
  );
}
