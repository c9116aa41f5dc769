import { isIPv6 } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { parseListenAddress, type ListenAddress } from "../agent/http/address.js";
import { checkGameRules } from "../core/board/rules.js";
import { usageError } from "../core/errors.js";
import { demoNamespaces } from "../demo/fleet.js";
import { defaultFrontDoorPorts, type FrontDoorPorts } from "../demo/front-door-ports.js";
import { SandboxName } from "../sandbox/sandbox-name.js";

/**
 * `broadside gameday`'s plan: every flag checked, and the game's rules checked the way the board will
 * check them, before the sandbox starts. A bad flag is a usage error naming it; nothing is created.
 */

export interface GamedayFlags {
  readonly name: string;
  readonly keep: boolean;
  readonly listen: string;
  readonly publicUrl?: string;
  readonly weapons: string;
  readonly unsafe: boolean;
  readonly limitPlayer?: string;
  readonly limitGame?: string;
  readonly limitPlayers?: string;
  readonly dir: string;
  readonly tokenFile?: string;
  readonly printToken: boolean;
  readonly frontDoorPorts?: FrontDoorPorts;
}

/** The rules' body the operator's screen would send: what the board opens the game with. */
export interface GameBody {
  readonly namespaces: readonly string[];
  readonly weapons: readonly string[];
  readonly unsafe: boolean;
  readonly limits: {
    readonly player?: { readonly shots: number; readonly per: string };
    readonly game?: { readonly shots: number; readonly per: string };
    readonly players?: number;
  };
}

export interface GamedayPlan {
  readonly sandboxName: SandboxName;
  readonly keepSandbox: boolean;
  readonly listen: ListenAddress;
  /** The URL printed and drawn as a QR code for the players; derived from --listen unless --public-url. */
  readonly publicUrl: string | undefined;
  readonly game: GameBody;
  /** Where the board's audit log and its identity's kubeconfig are written. */
  readonly dir: string;
  /** Where the operator's token is written (mode 0600). */
  readonly tokenFile: string;
  readonly printToken: boolean;
  readonly frontDoorPorts: FrontDoorPorts;
}

export const gamedayDefaults = {
  name: "gameday",
  listen: "127.0.0.1:8090",
  weapons: "torpedo,mine,fog,anchor",
  dir: "broadside-gameday",
} as const;

/** The rule each flag sets, as the game's rules JSON names it: a problem with the rule names the flag. */
const flagOfRule: readonly (readonly [RegExp, string])[] = [
  [/^weapons/, "--weapons"],
  [/^unsafe/, "--unsafe"],
  [/^limits\.players/, "--limit-players"],
  [/^limits\.player/, "--limit-player"],
  [/^limits\.game/, "--limit-game"],
];

/** Checks every flag; throws BRD_USAGE naming the first flag at fault (every problem of the rules at once). */
export function planGameday(flags: GamedayFlags, cwd: string): GamedayPlan {
  const sandboxName = SandboxName.parse(flags.name, "--name");
  const listen = parseListenAddress(flags.listen, "--listen");
  const publicUrl = flags.publicUrl === undefined ? undefined : parsePublicUrl(flags.publicUrl);
  const game = gameBody(flags);
  const dir = resolve(cwd, nonEmpty(flags.dir, "--dir"));
  const tokenFile =
    flags.tokenFile === undefined
      ? join(dir, "operator-token")
      : resolve(cwd, nonEmpty(flags.tokenFile, "--token-file"));
  return {
    sandboxName,
    keepSandbox: flags.keep,
    listen,
    publicUrl,
    game,
    dir,
    tokenFile,
    printToken: flags.printToken,
    frontDoorPorts: flags.frontDoorPorts ?? defaultFrontDoorPorts,
  };
}

function nonEmpty(path: string, flag: string): string {
  if (path.trim() === "") throw usageError(flag, "must be a path, got an empty one");
  return path;
}

/** The game's rules from the flags, checked by the rules' own check and the board's weapons. */
export function gameBody(
  flags: Pick<GamedayFlags, "weapons" | "unsafe" | "limitPlayer" | "limitGame" | "limitPlayers">,
): GameBody {
  const weapons = flags.weapons.split(",").map((weapon) => weapon.trim());
  const limits = {
    ...(flags.limitPlayer === undefined ? {} : { player: parseRate(flags.limitPlayer, "--limit-player") }),
    ...(flags.limitGame === undefined ? {} : { game: parseRate(flags.limitGame, "--limit-game") }),
    ...(flags.limitPlayers === undefined
      ? {}
      : { players: parseCount(flags.limitPlayers, "--limit-players") }),
  };
  const body: GameBody = {
    namespaces: demoNamespaces().map((namespace) => namespace.metadata?.name ?? ""),
    weapons,
    unsafe: flags.unsafe,
    limits,
  };
  const checked = checkGameRules(body);
  if (!checked.ok) {
    const [first] = checked.problems;
    const flag = flagOfRule.find(([pattern]) => pattern.test(first?.field ?? ""))?.[1] ?? "(rules)";
    throw usageError(flag, checked.problems.map(({ field, problem }) => `${field}: ${problem}`).join("; "));
  }
  return body;
}

/** "1/3s": shots per duration, as the rules' `limits.player` and `limits.game` hold them. */
function parseRate(text: string, flag: string): { shots: number; per: string } {
  const match = /^\s*(\d{1,6})\s*\/\s*(\S+)\s*$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw usageError(flag, `${JSON.stringify(text)} is not SHOTS/DURATION, e.g. 1/3s or 3/1s`);
  }
  return { shots: Number(match[1]), per: match[2] };
}

function parseCount(text: string, flag: string): number {
  if (!/^\s*\d{1,9}\s*$/.test(text)) throw usageError(flag, `${JSON.stringify(text)} is not a whole number`);
  return Number(text);
}

/** A URL the players' phones open: http or https, no credentials, query or fragment (the board takes none). */
function parsePublicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(
      "--public-url",
      `${JSON.stringify(text)} is not a URL; give e.g. https://gameday.example.org/`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError("--public-url", `must be http or https, got ${url.protocol}`);
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
    throw usageError("--public-url", "must hold no credentials, query or fragment: the board takes none");
  return url.href;
}

/**
 * The URL the players open: --public-url, else the board's own address, and for a board on every
 * interface (0.0.0.0, ::) this machine's first non-internal IPv4 address, which phones on the same
 * network can reach.
 */
export function playerUrl(
  plan: Pick<GamedayPlan, "publicUrl" | "listen">,
  boundPort: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  if (plan.publicUrl !== undefined) return plan.publicUrl;
  const wildcard = plan.listen.host === "0.0.0.0" || plan.listen.host === "::";
  const host = wildcard ? (lanAddress(interfaces) ?? "127.0.0.1") : plan.listen.host;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${boundPort}/`;
}

function lanAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const addresses = Object.values(interfaces).flatMap((list) => list ?? []);
  return addresses.find((address) => address.family === "IPv4" && !address.internal)?.address;
}

/** Only loopback: the presenter's laptop reaches it, the audience's phones do not. */
export function isLoopbackOnly(plan: Pick<GamedayPlan, "publicUrl" | "listen">): boolean {
  const host = plan.listen.host;
  return plan.publicUrl === undefined && (host === "localhost" || host === "::1" || host.startsWith("127."));
}

/** A path as the presenter will type it: relative to where they are when it is below. */
export function shownPath(path: string, cwd: string): string {
  return isAbsolute(path) && path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

/**
 * Whether a file at --token-file is one a GameDay wrote, so replacing it loses nothing: a regular file of
 * mode 0600 (no bits for group or others) holding one line, a TokenRequest token (a JWT: three base64url
 * parts joined by dots). Anything else is someone's file, and `gameday` refuses to replace it.
 */
export function isGamedayTokenFile(
  file: { readonly regular: boolean; readonly mode: number },
  text: string,
): boolean {
  if (!file.regular || (file.mode & 0o777) !== 0o600) return false;
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n?$/.test(text);
}
