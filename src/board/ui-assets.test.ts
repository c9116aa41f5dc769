import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { boardFixture } from "./board-fixture.js";
import { buildBoardApp, contentSecurityPolicy } from "./server.js";

/*
 * The board serves its page from a fixed map of three built files: nothing a request says becomes a
 * path, every answer carries the strict CSP, and a board whose page was not built still serves its API.
 */

const built = await mkdtemp(join(tmpdir(), "board-ui-"));
await writeFile(
  join(built, "index.html"),
  '<!doctype html><script type="module" src="/assets/board.js"></script>',
);
await writeFile(join(built, "board.js"), "console.log('board');");
await writeFile(join(built, "board.css"), "body{margin:0}");
// A file beside them that no route names: it must stay out of reach.
await writeFile(join(built, "secret.txt"), "not for the web");
afterAll(() => rm(built, { recursive: true, force: true }));

function appOver(uiDirectory: string) {
  const { board, reviewer } = boardFixture();
  return buildBoardApp({
    board,
    reviewer,
    operatorNamespace: "broadside-system",
    log: { error: () => undefined },
    uiDirectory,
  }).app;
}

describe("the board's page", () => {
  it("serves the page, its script and its stylesheet by their fixed names, with the strict CSP", async () => {
    const app = appOver(built);
    const expected = [
      ["/", "text/html; charset=utf-8", "<!doctype html>"],
      ["/assets/board.js", "text/javascript; charset=utf-8", "console.log"],
      ["/assets/board.css", "text/css; charset=utf-8", "body{margin:0}"],
    ] as const;
    for (const [url, type, start] of expected) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers["content-type"], url).toBe(type);
      expect(response.body.startsWith(start), url).toBe(true);
      expect(response.headers["content-security-policy"], url).toBe(contentSecurityPolicy);
    }
  });

  it("reaches no other file, however the URL is spelled", async () => {
    const app = appOver(built);
    for (const url of [
      "/assets/secret.txt",
      "/assets/../secret.txt",
      "/assets/%2e%2e/secret.txt",
      "/secret.txt",
      "/index.html",
      "/assets/board.js/",
      "/assets/",
    ]) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode, url).not.toBe(200);
      expect(response.body, url).not.toContain("not for the web");
    }
  });

  it("says the page is not built, and keeps serving the API, when dist/board-ui is missing", async () => {
    const app = appOver(join(built, "missing"));
    const page = await app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain("npm run build");
    expect((await app.inject({ method: "GET", url: "/api/board" })).statusCode).toBe(200);
  });
});
