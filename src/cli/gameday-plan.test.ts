import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { defaultFrontDoorPorts } from "../demo/front-door-ports.js";
import {
  gamedayDefaults,
  isGamedayTokenFile,
  isLoopbackOnly,
  planGameday,
  playerUrl,
  type GamedayFlags,
} from "./gameday-plan.js";

/*
 * `broadside gameday` checks everything a presenter typed before the sandbox starts: each bad flag is
 * named, the game's rules are checked as the board will check them, and the players' URL is one their
 * phones can open.
 */

const defaults: GamedayFlags = {
  name: gamedayDefaults.name,
  keep: false,
  listen: gamedayDefaults.listen,
  weapons: gamedayDefaults.weapons,
  unsafe: false,
  dir: gamedayDefaults.dir,
  printToken: false,
};

function refusal(flags: Partial<GamedayFlags>): string {
  try {
    planGameday({ ...defaults, ...flags }, "/home/presenter");
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return `${error.code} ${error.message}`;
    throw error;
  }
  throw new Error("the plan was accepted");
}

describe("planning a GameDay", () => {
  it("opens the demo fleet's namespaces with torpedo, mine, fog and anchor, the rules' default limits, on loopback", () => {
    const plan = planGameday(defaults, "/home/presenter");
    expect(plan).toMatchObject({
      sandboxName: "gameday",
      keepSandbox: false,
      listen: { host: "127.0.0.1", port: 8090 },
      publicUrl: undefined,
      game: {
        namespaces: ["demo-shop", "demo-payments", "demo-batch"],
        weapons: ["torpedo", "mine", "fog", "anchor"],
        unsafe: false,
        limits: {},
      },
      dir: "/home/presenter/broadside-gameday",
      tokenFile: "/home/presenter/broadside-gameday/operator-token",
      printToken: false,
    });
    expect(plan.frontDoorPorts).toBe(defaultFrontDoorPorts);
  });

  it("takes the rules' limits from flags named after them", () => {
    const plan = planGameday(
      {
        ...defaults,
        weapons: "mine",
        unsafe: true,
        limitPlayer: "2/5s",
        limitGame: " 10 / 2s ",
        limitPlayers: "120",
        tokenFile: "/run/user/1000/op",
      },
      "/home/presenter",
    );
    expect(plan.game).toEqual({
      namespaces: ["demo-shop", "demo-payments", "demo-batch"],
      weapons: ["mine"],
      unsafe: true,
      limits: { player: { shots: 2, per: "5s" }, game: { shots: 10, per: "2s" }, players: 120 },
    });
    expect(plan.tokenFile).toBe("/run/user/1000/op");
  });

  it.each([
    [{ weapons: "torpedo,laser" }, "--weapons: weapons[1]: must be one of torpedo, mine, fog, anchor, net"],
    [{ weapons: "torpedo,torpedo" }, '--weapons: weapons[1]: "torpedo" is listed twice'],
    [{ weapons: "net" }, "--weapons: weapons[0]: net is disabled: needs the node daemon's network faults"],
    [{ limitPlayer: "1 per 3s" }, '--limit-player: "1 per 3s" is not SHOTS/DURATION'],
    [{ limitPlayer: "11/3s" }, "--limit-player: limits.player.shots: must be at most 10"],
    [{ limitGame: "3/100ms" }, '--limit-game: limits.game.per: must be at least 1s, got "100ms"'],
    [{ limitPlayers: "many" }, '--limit-players: "many" is not a whole number'],
    [{ limitPlayers: "10001" }, "--limit-players: limits.players: must be at most 10000"],
    [{ listen: "8090" }, '--listen: "8090" has no port'],
    [{ listen: "example.org:8090" }, '--listen: "example.org" is not an IP address or localhost'],
    [{ name: "Game Day" }, '--name: "Game Day" must be 1-32 lowercase letters'],
    [{ publicUrl: "gameday.example.org" }, '--public-url: "gameday.example.org" is not a URL'],
    [
      { publicUrl: "https://gameday.example.org/?code=ABC234" },
      "--public-url: must hold no credentials, query",
    ],
    [{ publicUrl: "https://user:pw@gameday.example.org/" }, "--public-url: must hold no credentials, query"],
    [{ dir: " " }, "--dir: must be a path, got an empty one"],
    [{ tokenFile: "" }, "--token-file: must be a path, got an empty one"],
  ] satisfies [Partial<GamedayFlags>, string][])("refuses %j naming the flag", (flags, message) => {
    expect(refusal(flags)).toContain(`BRD_USAGE ${message}`);
  });
});

describe("the players' URL", () => {
  const interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {
    lo: [{ address: "127.0.0.1", family: "IPv4", internal: true } as NetworkInterfaceInfo],
    docker0: [],
    wlan0: [
      { address: "fe80::1", family: "IPv6", internal: false } as NetworkInterfaceInfo,
      { address: "192.168.1.20", family: "IPv4", internal: false } as NetworkInterfaceInfo,
    ],
  };

  it("is the board's own address, or this machine's LAN address when it listens on every interface", () => {
    const plan = (listen: string, publicUrl?: string) =>
      planGameday({ ...defaults, listen, ...(publicUrl === undefined ? {} : { publicUrl }) }, "/");
    expect(playerUrl(plan("127.0.0.1:8090"), 8090, interfaces)).toBe("http://127.0.0.1:8090/");
    expect(playerUrl(plan("0.0.0.0:8090"), 8090, interfaces)).toBe("http://192.168.1.20:8090/");
    expect(playerUrl(plan("[::]:0"), 41234, interfaces)).toBe("http://192.168.1.20:41234/");
    expect(playerUrl(plan("[::1]:8090"), 8090, interfaces)).toBe("http://[::1]:8090/");
    expect(playerUrl(plan("0.0.0.0:8090"), 8090, { lo: interfaces["lo"] ?? [] })).toBe(
      "http://127.0.0.1:8090/",
    );
    expect(playerUrl(plan("0.0.0.0:8090", "https://gameday.example.org/"), 8090, interfaces)).toBe(
      "https://gameday.example.org/",
    );
  });

  it("tells when only this laptop can reach the board", () => {
    const loopback = (listen: string, publicUrl?: string) =>
      isLoopbackOnly(
        planGameday({ ...defaults, listen, ...(publicUrl === undefined ? {} : { publicUrl }) }, "/"),
      );
    expect(loopback("127.0.0.1:8090")).toBe(true);
    expect(loopback("localhost:8090")).toBe(true);
    expect(loopback("[::1]:8090")).toBe(true);
    expect(loopback("0.0.0.0:8090")).toBe(false);
    expect(loopback("192.168.1.20:8090")).toBe(false);
    expect(loopback("127.0.0.1:8090", "https://tunnel.example.org/")).toBe(false);
  });
});

describe("the operator's token file", () => {
  const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcCJ9.c2lnbmF0dXJl\n";
  it("is replaced only when a GameDay wrote it: a regular file of mode 0600 holding one token", () => {
    expect(isGamedayTokenFile({ regular: true, mode: 0o100600 }, token)).toBe(true);
    expect(isGamedayTokenFile({ regular: true, mode: 0o100644 }, token)).toBe(false);
    expect(isGamedayTokenFile({ regular: false, mode: 0o120600 }, token)).toBe(false);
    expect(isGamedayTokenFile({ regular: true, mode: 0o100600 }, "my notes\nabout the talk\n")).toBe(false);
    expect(isGamedayTokenFile({ regular: true, mode: 0o100600 }, `${token}${token}`)).toBe(false);
  });
});
