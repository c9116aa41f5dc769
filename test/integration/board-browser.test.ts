import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { chromiumArgs, defaultChromiumPath } from "../browser/report-page.js";
import {
  createOperator,
  followStream,
  removeOperator,
  startBoard,
  stopBoards,
  type RunningBoard,
  duelLedger,
  writeRunningDuel,
  type StreamEvent,
} from "./board-process.js";
import { ConfigMapHaltSwitch } from "../../src/kube/halt-switch.js";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/*
 * The board's page in Debian's Chromium against `broadside board` on the sandbox (issue 11, "Browser"):
 * the operator signs in with a ServiceAccount's token and opens a game from the page; three players on
 * phone-sized screens join and fire; each hit shows on the spectators' page within a second of the
 * shot's answer (the lags are printed), and each repair shows the ms the watch events gave. Then a player
 * fires by keyboard alone, and the phone layout is checked: no horizontal scroll, cells of 24 px or more.
 * A second game: a mine at a ship whose PodDisruptionBudget would be broken shows the shield holding (and
 * hits once the budget allows it), a fog and an anchor drift the ship, and the operator presses Halt:
 * everything is reverted within the 10 s, and the pages say so. The kill switch the halt holds is
 * released (`broadside resume`) before the file ends, and the release is checked, so later files run.
 * Last, the duel panel (issue 13): a duel's ledger records, written by the test in a duel's stead, show
 * on the spectators' page as they change, a field manager named as markup stays text.
 */

const namespace = useTestNamespace("board-ui");
const clusterRole = () => `broadside-board-ui-operator-${namespace()}`;
const replicas = 6;
const resultsDir = join(repoRoot, ".test-results");
const phone = { width: 390, height: 844 };

let browser: Browser;
/** Script errors and CSP violations of every page, with the page's name. */
const problems: string[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: defaultChromiumPath,
    headless: true,
    args: [...chromiumArgs],
  });
  mkdirSync(resultsDir, { recursive: true });
});

afterAll(async () => {
  await browser.close();
  stopBoards();
  await removeOperator(clusterRole());
  // The halt test releases the kill switch itself and checks it; this is the net under it, should that
  // test have failed before its own release: later files must not find chaos halted.
  await broadside("resume", "--kubeconfig", inject("adminKubeconfig"));
});

async function openPage(
  name: string,
  url: string,
  options: { mobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: options.mobile === true ? phone : { width: 1280, height: 900 },
    ...(options.mobile === true ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    // A refused request is logged by Chromium as a failed resource; the screens show those. What must
    // never happen is a script error or a CSP violation (an inline script or style).
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`${name}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${name}: ${error.message}`));
  // Only the board itself: anything else the page asked for would be a CDN or a leak.
  await context.route("**/*", (route) =>
    route.request().url().startsWith(url) ? route.continue() : route.abort(),
  );
  await page.goto(url + "/" + (name.startsWith("player") ? "#play" : name === "operator" ? "#operate" : ""));
  return { context, page };
}

/*
 * Functions passed to page.evaluate run in the page, serialised by Playwright: they reach the page's
 * globals through these few types (the test's tsconfig has Node's types, not the DOM's).
 */
interface InPageElement {
  getAttribute(name: string): string | null;
  matches(selector: string): boolean;
  getBoundingClientRect(): { readonly width: number; readonly height: number };
}
interface CellChange {
  readonly row: string;
  readonly col: string;
  readonly state: string;
  readonly at: number;
}
interface InPage {
  readonly document: {
    readonly activeElement: InPageElement | null;
    readonly body: unknown;
    readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
    querySelectorAll(selector: string): ArrayLike<InPageElement>;
  };
  readonly performance: {
    readonly timeOrigin: number;
    now(): number;
    getEntriesByType(type: string): ArrayLike<{ readonly name: string; readonly responseEnd: number }>;
  };
  readonly MutationObserver: new (
    callback: (records: readonly { readonly target: InPageElement }[]) => void,
  ) => {
    observe(target: unknown, options: object): void;
  };
  cellChanges: CellChange[];
}
interface Cell {
  readonly row: number;
  readonly col: number;
  readonly state: string;
  readonly repairedMs?: number;
  readonly pod?: {
    readonly name: string;
    readonly uid: string;
    readonly ready: boolean;
    readonly deleting: boolean;
  };
}

async function cellsNow(url: string): Promise<Cell[]> {
  const state = (await (await fetch(`${url}/api/board`)).json()) as {
    grids: { ships: { cells: Cell[] }[] }[];
  };
  return state.grids.flatMap((grid) => grid.ships.flatMap((ship) => ship.cells));
}

/** Records, in the page, the epoch ms (this machine's clock) at which each cell's data-state changes. */
async function watchCells(page: Page): Promise<void> {
  await page.evaluate(() => {
    const inPage = globalThis as unknown as InPage;
    inPage.cellChanges = [];
    new inPage.MutationObserver((records) => {
      const at = inPage.performance.timeOrigin + inPage.performance.now();
      for (const { target } of records) {
        const state = target.getAttribute("data-state");
        if (state === null) continue;
        const row = target.getAttribute("data-row") ?? "";
        inPage.cellChanges.push({ row, col: target.getAttribute("data-col") ?? "", state, at });
      }
    }).observe(inPage.document.body, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
  });
}

/** When the cell first turned `state` on the page (epoch ms), if it has. */
async function firstChange(
  page: Page,
  cell: { row: number; col: number },
  state: string,
): Promise<number | undefined> {
  return page.evaluate(
    (wanted) =>
      (globalThis as unknown as InPage).cellChanges.find(
        (change) =>
          change.row === String(wanted.row) &&
          change.col === String(wanted.col) &&
          change.state === wanted.state,
      )?.at,
    { row: cell.row, col: cell.col, state },
  );
}

/** When the page received the answer of its latest POST /api/shots (epoch ms, from resource timing). */
async function lastShotAnswered(page: Page): Promise<number> {
  return page.evaluate(() => {
    const inPage = globalThis as unknown as InPage;
    const shots = Array.from(inPage.performance.getEntriesByType("resource")).filter((entry) =>
      entry.name.endsWith("/api/shots"),
    );
    const last = shots.at(-1);
    return last === undefined ? Number.NaN : inPage.performance.timeOrigin + last.responseEnd;
  });
}

/** The focused element's cell, if a cell has the focus. */
async function focusedCell(page: Page): Promise<{ row: number; col: number } | undefined> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as InPage).document.activeElement;
    if (active === null || !active.matches("button.square")) return undefined;
    return { row: Number(active.getAttribute("data-row")), col: Number(active.getAttribute("data-col")) };
  });
}

/** The page's width against its scrolling width, and the smallest side of any firing cell, in CSS px. */
async function layoutOf(
  page: Page,
): Promise<{ scrollWidth: number; clientWidth: number; cells: number; smallest: number }> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as InPage;
    const sides = Array.from(document.querySelectorAll("button.square"), (square) => {
      const box = square.getBoundingClientRect();
      return Math.min(box.width, box.height);
    });
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      cells: sides.length,
      smallest: Math.min(...sides),
    };
  });
}
let operatorToken: Promise<string> | undefined;

/** The namespace opted in and the operator made, once for the file; the operator's token. */
function operatorOnce(): Promise<string> {
  operatorToken ??= (async () => {
    const annotated = await kubectl(
      inject("adminKubeconfig"),
      "annotate",
      "namespace",
      namespace(),
      "broadside.dev/chaos=enabled",
    );
    expect(annotated.code, annotated.stderr).toBe(0);
    return createOperator(namespace(), clusterRole());
  })();
  return operatorToken;
}

/** The sandbox's side: an opted-in namespace with web (6 pods), an operator, and `broadside board`. */
async function setUp(): Promise<{ token: string; board: RunningBoard; url: string }> {
  const token = await operatorOnce();
  await deployAndWait(namespace(), testDeployment("web", replicas));
  const board = startBoard();
  return { token, board, url: await board.url };
}

/** The operator signs in with the ServiceAccount's token pasted into the page. */
async function signIn(operator: Page, token: string): Promise<void> {
  const signedIn = operator.locator("[data-operator]");
  await eventually("the operator's ClusterRoleBinding to take effect", async () => {
    if ((await signedIn.count()) > 0) return true;
    await operator.fill("input[name=token]", token);
    await operator.click("form.login button[type=submit]");
    await operator.locator("[data-operator], form.login .error:not(:empty)").first().waitFor();
    return (await signedIn.count()) > 0 ? true : undefined;
  });
  expect(await operator.textContent("[data-operator]")).toBe(`system:serviceaccount:${namespace()}:operator`);
}

/** The operator signs in and opens a game with torpedo on the namespace; its code. */
async function openGameFromPage(operator: Page, token: string): Promise<string> {
  await signIn(operator, token);
  // A bad limit is named under its field, and no game opens.
  await operator.fill("input[name=namespaces]", namespace());
  await operator.fill("input[name='limits.player.per']", "1h");
  await operator.click("form.open-game button[type=submit]");
  await expect
    .poll(() => operator.textContent("[data-errors-for='limits.player.per']"))
    .toContain("at most 10m");
  await operator.fill("input[name='limits.player.per']", "3s");
  await operator.click("form.open-game button[type=submit]");
  const code = (await operator.locator("[data-game-code]").textContent({ timeout: 30_000 })) ?? "";
  expect(code).toMatch(/^[A-Z2-9]{6}$/);
  return code;
}

/**
 * A player joins on a phone; the weapon picker offers the game's weapons (torpedo unless told), and net
 * disabled with its reason.
 */
async function joinAs(
  url: string,
  code: string,
  nickname: string,
  weapons: readonly string[] = ["torpedo"],
): Promise<Page> {
  const { page } = await openPage(`player ${nickname}`, url, { mobile: true });
  await page.fill("input[name=code]", code.toLowerCase());
  await page.fill("input[name=nickname]", nickname);
  await page.click("form.join button[type=submit]");
  await page.locator("button.square.intact").first().waitFor();
  expect(await page.locator(`input[name=weapon][value=${weapons[0] ?? ""}]`).isChecked()).toBe(true);
  expect(await page.locator("input[name=weapon][value=net]").isDisabled()).toBe(true);
  expect(await page.textContent("fieldset.weapons")).toContain("needs the node daemon's network faults");
  for (const weapon of ["torpedo", "mine", "fog", "anchor"]) {
    const offered = await page.locator(`input[name=weapon][value=${weapon}]`).count();
    expect(offered, weapon).toBe(weapons.includes(weapon) ? 1 : 0);
  }
  return page;
}

/**
 * The player taps (or clicks) the target's cell and sees a hit; returns how long after the shot's answer
 * reached the player's page the cell turned to burning on the spectators' page (negative: before it).
 */
async function hitAndMeasure(player: Page, watch: Page, target: Cell, tap: boolean): Promise<number> {
  const square = player.locator(`button.square[data-row="${target.row}"][data-col="${target.col}"]`);
  if (tap) await square.tap();
  else await square.click();
  await expect.poll(() => player.getAttribute(".result", "data-result")).toBe("hit");
  expect(await player.textContent(".result")).toContain(target.pod?.name ?? "?");
  const answered = await lastShotAnswered(player);
  const shown = await eventually(
    "the hit on the spectators' page",
    () => firstChange(watch, target, "burning"),
    10_000,
  );
  return Math.round(shown - answered);
}

/** The repair of the target's pod as the stream told it, and the spectators' page showing the same ms. */
async function expectRepairShown(
  watch: Page,
  url: string,
  events: StreamEvent[],
  target: Cell,
): Promise<number> {
  const repaired = await eventually(
    `the repair of ${target.pod?.name ?? ""} on the stream`,
    () =>
      events.find((event) => {
        const sea = event.data["event"] as { type?: string; podUid?: string } | undefined;
        return event.event === "sea" && sea?.type === "repaired" && sea.podUid === target.pod?.uid;
      }),
    60_000,
  );
  const repairedMs = (repaired.data["event"] as { repairedMs: number }).repairedMs;
  const square = watch.locator(`.grid [data-row="${target.row}"][data-col="${target.col}"]`);
  await expect.poll(() => square.getAttribute("data-state")).toBe("repaired");
  expect(await square.getAttribute("data-repaired-ms")).toBe(String(repairedMs));
  expect(await square.locator(".ms").textContent()).toBe(String(repairedMs));
  expect(await square.getAttribute("aria-label")).toContain(`repaired in ${repairedMs} ms`);
  const served = (await cellsNow(url)).find((cell) => cell.row === target.row && cell.col === target.col);
  expect(served?.repairedMs).toBe(repairedMs);
  return repairedMs;
}

function nth<T>(list: readonly T[], index: number): T {
  const found = list[index];
  if (found === undefined) throw new Error(`no item ${index} of ${list.length}`);
  return found;
}

/** The arrow key that brings the focus one step closer to `to`. */
function stepToward(from: { row: number; col: number }, to: { row: number; col: number }): string {
  if (from.row !== to.row) return from.row < to.row ? "ArrowDown" : "ArrowUp";
  return from.col < to.col ? "ArrowRight" : "ArrowLeft";
}

/** Keyboard only: Tab into the grid, the arrow keys to the target, Enter (again while reloading). */
async function fireByKeyboard(player: Page, target: Cell): Promise<void> {
  await player.bringToFront();
  for (let presses = 0; presses < 30 && (await focusedCell(player)) === undefined; presses += 1) {
    await player.keyboard.press("Tab");
  }
  let at = await focusedCell(player);
  if (at === undefined) throw new Error("Tab never reached the grid");
  while (at !== undefined && (at.row !== target.row || at.col !== target.col)) {
    await player.keyboard.press(stepToward(at, target));
    at = await focusedCell(player);
  }
  await eventually(
    "the keyboard's shot to hit",
    async () => {
      await player.keyboard.press("Enter");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const text = (await player.textContent(".result")) ?? "";
      const refused = await player.getAttribute(".refused", "data-refusal");
      if (refused !== null) expect(await player.textContent(".refused")).toMatch(/^Refused, .+: \d+ s$/);
      return refused === null && text.startsWith("Hit!") && text.includes(target.pod?.name ?? "?")
        ? true
        : undefined;
    },
    20_000,
  );
}

/** Two shots at once: the second is refused, "reloading", counted down from Retry-After. */
async function expectReloading(player: Page): Promise<void> {
  const water = player.locator("button.square.water").first();
  await water.click();
  await water.click();
  await expect.poll(() => player.getAttribute(".refused", "data-refusal")).toBe("reloading");
  expect(await player.textContent(".refused")).toMatch(/^Refused, reloading: [1-3] s$/);
}

/** A phone's page: as wide as the phone with no horizontal scroll, every cell at least 24 px square. */
async function expectPhoneLayout(player: Page): Promise<void> {
  const layout = await layoutOf(player);
  expect(layout.clientWidth).toBe(phone.width);
  expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
  expect(layout.cells).toBeGreaterThanOrEqual(36);
  expect(layout.smallest).toBeGreaterThanOrEqual(24);
}

/** How long the page may take to show what the board answered (vitest's expect.poll waits 1 s by default). */
const slow = { timeout: 20_000, interval: 100 };

/** vault: 4 pods that mount ConfigMap vault-settings (a fog's target), under PDB vault-shield. */
const vault = { name: "vault", replicas: 4, config: "vault-settings", budget: "vault-shield" } as const;

async function deployVault(): Promise<void> {
  const kube = adminClients();
  await kube.core.createNamespacedConfigMap({
    namespace: namespace(),
    body: { metadata: { name: vault.config }, data: { level: "info" } },
  });
  const deployment = testDeployment(vault.name, vault.replicas);
  const spec = deployment.spec?.template.spec;
  if (spec === undefined) throw new Error("testDeployment has no pod spec");
  spec.volumes = [{ name: "settings", configMap: { name: vault.config } }];
  const container = spec.containers[0];
  if (container !== undefined) container.volumeMounts = [{ name: "settings", mountPath: "/etc/vault" }];
  await deployAndWait(namespace(), deployment);
}

/**
 * Sets vault-shield's minAvailable (creating it the first time) and waits until the disruption controller
 * has counted the pods for that generation: every vault pod healthy, `allowed` disruptions.
 */
async function shieldVault(minAvailable: number, allowed: number): Promise<void> {
  const policy = adminClients().policy;
  const body = {
    metadata: { name: vault.budget },
    spec: { minAvailable, selector: { matchLabels: { app: vault.name } } },
  };
  await policy.readNamespacedPodDisruptionBudget({ name: vault.budget, namespace: namespace() }).then(
    (found) =>
      policy.replaceNamespacedPodDisruptionBudget({
        name: vault.budget,
        namespace: namespace(),
        body: {
          ...body,
          metadata: { ...body.metadata, resourceVersion: found.metadata?.resourceVersion ?? "" },
        },
      }),
    () => policy.createNamespacedPodDisruptionBudget({ namespace: namespace(), body }),
  );
  await eventually(
    `${vault.budget} to allow ${allowed} disruptions of ${vault.replicas} healthy pods`,
    async () => {
      const found = await policy.readNamespacedPodDisruptionBudget({
        name: vault.budget,
        namespace: namespace(),
      });
      const status = found.status;
      return status?.observedGeneration === found.metadata?.generation &&
        status?.currentHealthy === vault.replicas &&
        status.disruptionsAllowed === allowed
        ? true
        : undefined;
    },
  );
}

/** vault's Ready, not terminating cells on the board, once all its pods are. */
async function vaultCells(url: string): Promise<Cell[]> {
  return eventually(`all ${vault.replicas} vault pods Ready on the board`, async () => {
    const state = (await (await fetch(`${url}/api/board`)).json()) as {
      grids: { ships: { key: string; cells: Cell[] }[] }[];
    };
    const ship = state.grids
      .flatMap((grid) => grid.ships)
      .find((each) => each.key === `Deployment/${vault.name}`);
    const ready = ship?.cells.filter((cell) => cell.pod?.ready === true && !cell.pod.deleting) ?? [];
    return ready.length === vault.replicas ? ready : undefined;
  });
}

/** What a fog and an anchor at vault change: its ConfigMap's data and its container's resources. */
async function vaultNow(): Promise<{ data: unknown; resources: unknown }> {
  const kube = adminClients();
  const config = await kube.core.readNamespacedConfigMap({ name: vault.config, namespace: namespace() });
  const deployment = await kube.apps.readNamespacedDeployment({ name: vault.name, namespace: namespace() });
  return {
    data: config.data,
    resources: JSON.parse(JSON.stringify(deployment.spec?.template.spec?.containers[0]?.resources ?? {})),
  };
}

/** The namespace's ledger records still open. */
async function openRecords(): Promise<number> {
  const records = await new ConfigMapLedgerStore(adminClients()).list();
  return records.filter((record) => record.target.namespace === namespace() && record.state !== "closed")
    .length;
}

/** The player picks `weapon` and fires at the cell; the result's data-result once it is shown. */
async function fireWith(player: Page, weapon: string, cell: Cell): Promise<string | null> {
  await player.check(`input[name=weapon][value=${weapon}]`);
  const before = await player.textContent(".result");
  await player.click(`button.square[data-row="${cell.row}"][data-col="${cell.col}"]`);
  await expect.poll(() => player.textContent(".result"), slow).not.toBe(before);
  return player.getAttribute(".result", "data-result");
}

/** The operator opens a game on the namespace with mine, fog and anchor, lasting 10 minutes; its code. */
async function openDriftGame(operator: Page): Promise<string> {
  await operator.fill("input[name=namespaces]", namespace());
  for (const weapon of ["mine", "fog", "anchor"])
    await operator.check(`input[name=weapons][value=${weapon}]`);
  await operator.uncheck("input[name=weapons][value=torpedo]");
  await operator.fill("input[name=revertAfter]", "10m");
  await operator.click("form.open-game button[type=submit]");
  const code = (await operator.locator("[data-game-code]").textContent({ timeout: 30_000 })) ?? "";
  expect(code).toMatch(/^[A-Z2-9]{6}$/);
  return code;
}

/** The kill switch is released and nothing holds it: later files may run chaos. */
async function releaseKillSwitch(): Promise<void> {
  const resumed = await broadside("resume", "--kubeconfig", inject("adminKubeconfig"));
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(await new ConfigMapHaltSwitch(adminClients()).read()).toBeUndefined();
}

describe("the board's page on the sandbox", () => {
  it("lets an operator open a game, three players hit pods that show at once, and shows each repair's ms", async () => {
    const { token, board, url } = await setUp();
    const stop = new AbortController();
    const events = followStream(url, stop.signal);
    const { page: operator } = await openPage("operator", url);
    const code = await openGameFromPage(operator, token);

    // The spectators' page, recording when each cell's state changes.
    const { page: watch } = await openPage("spectator", url);
    await watch.locator(`.grid[data-namespace="${namespace()}"] [data-state="intact"]`).first().waitFor();
    await watchCells(watch);
    const players = [
      await joinAs(url, code, "Ada"),
      await joinAs(url, code, "Grace"),
      await joinAs(url, code, "Linus"),
    ] as const;

    // Each fires at a different Ready pod of web (the ship's cap lets 3 of 6 go down at once); Ada taps.
    const ready = (await cellsNow(url)).filter((cell) => cell.pod?.ready === true && !cell.pod.deleting);
    expect(ready.length).toBe(replicas);
    const lags: number[] = [];
    for (const [index, player] of players.entries()) {
      lags.push(await hitAndMeasure(player, watch, nth(ready, index), index === 0));
    }
    console.log(
      `board page: each hit shown on the spectators' page ${lags.join(", ")} ms after the shot's answer reached the player (negative: before it)`,
    );
    // Every hit was shown (hitAndMeasure waits for it); its lag is printed and kept in docs/board.md, not
    // bounded here: performance is measured, never asserted as a time (the 1 s is met with the
    // hit shown before the player's own answer arrives, as the stream's event leaves first).
    expect(lags).toHaveLength(players.length);

    const repairs: number[] = [];
    for (const target of ready.slice(0, 3)) repairs.push(await expectRepairShown(watch, url, events, target));
    console.log(`board page: repairs shown with the watch events' ${repairs.join(", ")} ms`);
    await expect.poll(() => watch.textContent(".ticker tbody")).toContain("Repaired");
    expect(await watch.textContent("[data-announcer]")).toMatch(/repaired in \d+ ms|hit/);
    const scoreboard = (await watch.textContent(".scoreboard")) ?? "";
    for (const nickname of ["Ada", "Grace", "Linus"]) expect(scoreboard).toContain(nickname);
    expect(await watch.textContent("[data-figure='mttr-p50']")).toMatch(/^\d+ ms$/);
    await watch.screenshot({ path: join(resultsDir, "board-watch.png"), fullPage: true });

    // Grace fires by keyboard alone at a Ready pod.
    const intact = (await cellsNow(url)).find((cell) => cell.pod?.ready === true && !cell.pod.deleting);
    if (intact === undefined) throw new Error("no Ready pod to fire at");
    await fireByKeyboard(players[1], intact);
    await eventually("the keyboard's hit on the spectators' page", () =>
      firstChange(watch, intact, "burning"),
    );

    // Linus fires twice at once: the second is refused, "reloading", counted down from Retry-After.
    const linus = players[2];
    await expectReloading(linus);

    // The phone: no horizontal scroll, cells at least 24 px square.
    for (const player of players) await expectPhoneLayout(player);
    await linus.screenshot({ path: join(resultsDir, "board-phone.png"), fullPage: true });

    // The operator closes the game; the spectators' page hears it.
    await operator.click("text=Close the game");
    await expect.poll(() => watch.textContent("main")).toContain("No game is open");
    stop.abort();
    expect(problems).toEqual([]);
    expect(JSON.stringify(board.audit)).not.toContain(token);
    board.child.kill("SIGTERM");
    expect(await board.exited).toBe(0);
  });
  it("shows a mine held by a PDB's shield, and halts from the page: everything reverted within 10 s", async () => {
    const token = await operatorOnce();
    await deployVault();
    await shieldVault(vault.replicas, 0);
    const board = startBoard();
    const url = await board.url;
    const { page: operator } = await openPage("operator", url);
    await signIn(operator, token);
    const code = await openDriftGame(operator);
    const { page: watch } = await openPage("spectator", url);
    await watch.locator(`.grid[data-namespace="${namespace()}"] [data-state="intact"]`).first().waitFor();
    const weapons = ["mine", "fog", "anchor"];
    const [ada, grace, linus, hedy] = [
      await joinAs(url, code, "Ada", weapons),
      await joinAs(url, code, "Grace", weapons),
      await joinAs(url, code, "Linus", weapons),
      await joinAs(url, code, "Hedy", weapons),
    ];
    const before = await vaultNow();
    try {
      // Ada's mine would leave vault below its budget (4 of 4 must stay): the shield holds, the pod stands.
      const [shielded] = await vaultCells(url);
      if (shielded?.pod === undefined) throw new Error("no vault pod");
      expect(await fireWith(ada, "mine", shielded)).toBe("deflected");
      expect(await ada.getAttribute(".result", "data-shield")).toBe("held");
      expect(await ada.textContent(".result")).toContain(`Shield! The shield of PDB ${vault.budget} held`);
      await expect.poll(() => watch.textContent(".ticker tbody"), slow).toContain("Shielded");
      expect(await watch.textContent(".ticker tbody")).toContain(`the shield of PDB ${vault.budget} held`);
      await expect
        .poll(() => watch.textContent("[data-announcer]"), slow)
        .toContain(`The shield of PDB ${vault.budget} held against Ada's mine`);
      const stands = await adminClients().core.readNamespacedPod({
        name: shielded.pod.name,
        namespace: namespace(),
      });
      expect(stands.metadata?.uid).toBe(shielded.pod.uid);
      expect(stands.metadata?.deletionTimestamp).toBeUndefined();

      // With the budget at 3 of 4 the eviction is allowed: Grace's mine hits.
      await shieldVault(vault.replicas - 1, 1);
      const [target] = await vaultCells(url);
      if (target?.pod === undefined) throw new Error("no vault pod");
      expect(await fireWith(grace, "mine", target)).toBe("hit");
      expect(await grace.textContent(".result")).toContain(target.pod.name);

      // Once vault is whole again, Linus fogs it and Hedy anchors it (each lasts 10 minutes unless halted).
      const [cell] = await vaultCells(url);
      if (cell === undefined) throw new Error("no vault cell");
      expect(await fireWith(linus, "fog", cell)).toBe("hit");
      expect(await fireWith(hedy, "anchor", cell)).toBe("hit");
      const drifted = await vaultNow();
      expect(drifted.data).toEqual({ level: "broadside-fog" });
      expect(drifted.resources).toMatchObject({ limits: { cpu: "50m", memory: "64Mi" } });
      await expect.poll(() => watch.textContent(".ticker tbody"), slow).toContain("Drifted");
      expect(await openRecords()).toBeGreaterThanOrEqual(2);

      // The operator presses Halt, confirms, and everything is back within the 10 s.
      await operator.bringToFront();
      await operator.click("section.halt button.danger");
      const pressed = Date.now();
      await operator.click("text=Yes, halt everything");
      await eventually(
        "the fog and the anchor reverted and no record open",
        async () =>
          JSON.stringify(await vaultNow()) === JSON.stringify(before) && (await openRecords()) === 0
            ? true
            : undefined,
        30_000,
      );
      const revertedMs = Date.now() - pressed;
      console.log(
        `board page: halt pressed to everything reverted (API polled every 200 ms): ${revertedMs} ms`,
      );
      expect(revertedMs).toBeLessThanOrEqual(10_000);
      await expect
        .poll(() => operator.textContent(".operate [role=status]"), slow)
        .toMatch(/^Halted: \d+ faults reverted/);
      expect(await operator.textContent(".operate [role=status]")).toContain(
        "Chaos stays off until broadside resume",
      );
      await expect.poll(() => watch.textContent("main"), slow).toContain("No game is open");
      await expect.poll(() => watch.textContent("[data-announcer]"), slow).toBe("The game was halted.");
      const ticker = (await watch.textContent(".ticker tbody")) ?? "";
      expect(ticker.split("reverted by Broadside").length - 1).toBeGreaterThanOrEqual(2);
      expect(board.audit.some((line) => line["action"] === "halt")).toBe(true);
      expect(await new ConfigMapHaltSwitch(adminClients()).read()).toMatchObject({
        reason: "halt pressed on the board",
      });
      await watch.screenshot({ path: join(resultsDir, "board-halted.png"), fullPage: true });
    } finally {
      // The halt held the kill switch: released here, and checked, so later files may run chaos.
      await releaseKillSwitch();
    }
    expect(problems).toEqual([]);
    board.child.kill("SIGTERM");
    expect(await board.exited).toBe(0);
  });

  it("shows a running duel in its panel from the ledger, escapes what the cluster names, and goes quiet when it ends", async () => {
    const ledger = duelLedger(new ConfigMapLedgerStore(adminClients()));
    const board = startBoard();
    const url = await board.url;
    const { page: watch } = await openPage("duel spectator", url);
    await expect.poll(() => watch.textContent(".duel")).toContain("No duel is running");
    try {
      const { interval, drift, added } = await writeRunningDuel(ledger, namespace());
      await watch.locator(`.duel[data-duel="running"] [data-attack="${drift.id}"]`).waitFor();
      expect(await watch.textContent(`[data-attack="${drift.id}"]`)).toContain("holding");

      // Flux heals one; someone whose field manager is markup restores the other: shown as text, run never.
      const hostile = `<img src=x onerror="document.title='owned'">`;
      await ledger.close(drift, {
        kind: "healed-externally",
        at: drift.createdAt + 2_269,
        by: "kustomize-controller",
      });
      await ledger.close(added, { kind: "healed-externally", at: added.createdAt + 500, by: hostile });
      await expect
        .poll(() => watch.textContent(`[data-attack="${drift.id}"]`))
        .toContain("GitOps (kustomize-controller)");
      expect(await watch.textContent(`[data-attack="${drift.id}"]`)).toContain("2269 ms");
      await expect.poll(() => watch.textContent(`[data-attack="${added.id}"]`)).toContain(hostile);
      expect(await watch.locator(".duel img").count()).toBe(0);
      expect(await watch.title()).not.toBe("owned");
      expect(await watch.textContent("[data-figure='duel-tally']")).toContain("1 heal by GitOps");
      await watch.screenshot({ path: join(resultsDir, "board-duel.png"), fullPage: true });

      await ledger.close(interval, { kind: "reverted", at: Date.now() });
      await expect.poll(() => watch.textContent(".duel")).toContain("No duel is running");
    } finally {
      await ledger.closeAll();
    }
    expect(problems).toEqual([]);
    board.child.kill("SIGTERM");
    expect(await board.exited).toBe(0);
  });
});
