import { describe, expect, it } from "vitest";
import { gamedayLines, loopbackWarning, qrCode } from "./gameday-command.js";
import { gamedayDefaults, planGameday } from "./gameday-plan.js";
import { onlyColours } from "./main.js";

/*
 * What the presenter reads once the GameDay is up: where the players go and the code, the rules in one
 * line, where the operator's token is (never the token itself unless asked), and a QR code that encodes
 * exactly the players' URL.
 */

const plan = planGameday(
  {
    name: gamedayDefaults.name,
    keep: false,
    listen: "0.0.0.0:8090",
    weapons: "torpedo,mine",
    unsafe: false,
    limitPlayers: "100",
    dir: gamedayDefaults.dir,
    printToken: false,
  },
  "/home/presenter",
);

const gameday = {
  boardUrl: "http://0.0.0.0:8090",
  playerUrl: "http://192.168.1.20:8090/",
  code: "ABC234",
  operatorUser: "system:serviceaccount:broadside-system:gameday-operator",
  operatorToken: "eyJhbGciOiJSUzI1NiJ9.secret",
  expiresAt: Date.UTC(2026, 11, 7, 22, 0, 0),
};

describe("what broadside gameday prints", () => {
  it("names the players' URL and code, the rules, where the operator's token is, and the audit log", () => {
    const lines = gamedayLines(gameday, plan, {
      cwd: "/home/presenter",
      logFile: "/home/presenter/broadside-gameday/board.log",
    });
    expect(lines).toEqual([
      'GameDay on sandbox "gameday": the board listens on http://0.0.0.0:8090',
      "",
      "Players: open http://192.168.1.20:8090/ and join with the code ABC234",
      "Game: torpedo and mine on demo-shop, demo-payments, demo-batch; each player 1 per 3s, the fleet 3 per 1s, up to 100 players; no ship can be sunk",
      "Operator: log in at http://127.0.0.1:8090/ on this machine as system:serviceaccount:broadside-system:gameday-operator with the token in broadside-gameday/operator-token (mode 0600, valid until 2026-12-07T22:00:00.000Z)",
      "Audit log: broadside-gameday/board.log",
      "",
    ]);
    expect(lines.join("\n")).not.toContain(gameday.operatorToken);
  });

  it("warns that phones cannot reach a board on loopback, and says how to let them in", () => {
    const loopback = planGameday(
      {
        name: "gameday",
        listen: "127.0.0.1:8090",
        weapons: "torpedo",
        dir: "d",
        keep: false,
        unsafe: false,
        printToken: false,
      },
      "/",
    );
    expect(loopbackWarning(loopback)).toBe(
      "The board listens on 127.0.0.1 only: phones cannot reach it. To let the audience in, run with --listen 0.0.0.0:8090 (or put it behind a tunnel and pass --public-url).",
    );
  });
});

describe("the QR code", () => {
  it("is drawn with qrcode's terminal renderer in colours only for a terminal, in plain blocks otherwise", async () => {
    const url = "http://192.168.1.20:8090/";
    const terminal = await qrCode(url, true);
    const plain = await qrCode(url, false);
    // Colours only: main lets a drawing with nothing but colour sequences through as it is.
    expect(terminal).toContain("\u001b[47m");
    expect(onlyColours(terminal)).toBe(true);
    expect(plain).not.toContain("\u001b");
    expect(plain).toMatch(/^[ ▀▄█\n]+$/);
    // Square: as many rows (two modules each) as the modules across, plus the margins.
    const rows = plain.split("\n");
    const width = rows[0]?.length ?? 0;
    expect(rows.every((row) => row.length === width)).toBe(true);
    expect(rows.length).toBe(Math.ceil(width / 2));
    // Another URL is another picture.
    expect(await qrCode("http://192.168.1.21:8090/", false)).not.toBe(plain);
  });

  it("lets main refuse any escape sequence but colours in a drawing", () => {
    expect(onlyColours("\u001b[47m\u001b[30m █▀\u001b[0m\n")).toBe(true);
    expect(onlyColours("\u001b[2J")).toBe(false);
    expect(onlyColours("\u001b]52;c;aGk=\u0007")).toBe(false);
    expect(onlyColours("line\roverwritten")).toBe(false);
  });
});
