import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import {
  cgiEnvironment,
  parseCgiHead,
  parseGitServerArgs,
  routeGitRequest,
  type GitRoute,
} from "./git-server.js";

/*
 * The sandbox's git server answers the two requests of a smart-HTTP fetch of its one repository, and
 * refuses everything else before git runs: what reaches git http-backend is made here, never copied
 * from the request.
 */

const settings = { root: "/state/s1/flux/git", repository: "fleet", git: "git", path: "/usr/bin:/bin" };

describe("which requests reach git http-backend", () => {
  it.each<[string, string, GitRoute]>([
    ["GET", "/healthz", { kind: "health" }],
    [
      "GET",
      "/fleet.git/info/refs?service=git-upload-pack",
      { kind: "git", pathInfo: "/fleet.git/info/refs", query: "service=git-upload-pack" },
    ],
    [
      "POST",
      "/fleet.git/git-upload-pack",
      { kind: "git", pathInfo: "/fleet.git/git-upload-pack", query: "" },
    ],
  ])("serves %s %s", (method, url, route) => {
    expect(routeGitRequest(method, url, "fleet")).toEqual(route);
  });

  it.each([
    [
      "pushes (receive-pack), advertised or sent",
      "GET",
      "/fleet.git/info/refs?service=git-receive-pack",
      403,
    ],
    ["pushes (receive-pack), advertised or sent", "POST", "/fleet.git/git-receive-pack", 403],
    ["git's dumb protocol, which reads files", "GET", "/fleet.git/info/refs", 404],
    ["files of the repository", "GET", "/fleet.git/HEAD", 404],
    ["files of the repository", "GET", "/fleet.git/objects/info/packs", 404],
    ["another repository", "GET", "/other.git/info/refs?service=git-upload-pack", 404],
    ["a way out of the root", "GET", "/../fleet.git/../../etc/passwd", 404],
    ["a way out of the root, encoded", "GET", "/fleet.git/%2e%2e/%2e%2e/config", 404],
    ["the config file", "GET", "/fleet.git/config", 404],
    ["the wrong method", "POST", "/fleet.git/info/refs?service=git-upload-pack", 405],
    ["the wrong method", "GET", "/fleet.git/git-upload-pack", 405],
  ])("refuses %s: %s %s with %i", (_what, method, url, status) => {
    expect(routeGitRequest(method, url, "fleet")).toMatchObject({ kind: "refused", status });
  });

  it("says why a push is refused", () => {
    expect(routeGitRequest("POST", "/fleet.git/git-receive-pack", "fleet")).toMatchObject({
      reason: expect.stringContaining("read-only") as string,
    });
  });
});

describe("the CGI environment", () => {
  const route = { kind: "git", pathInfo: "/fleet.git/git-upload-pack", query: "" } as const;

  it("is complete in itself: nothing of the server's environment, no user or system git configuration", () => {
    const environment = cgiEnvironment(
      route,
      { method: "POST", headers: {}, remoteAddress: "127.0.0.1" },
      settings,
    );
    expect(environment).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/state/s1/flux/git",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: "/state/s1/flux/git",
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: "/fleet.git/git-upload-pack",
      QUERY_STRING: "",
      REQUEST_METHOD: "POST",
      REMOTE_ADDR: "127.0.0.1",
    });
  });

  it("passes the headers the protocol needs, and only in their expected shape", () => {
    const headers = {
      "content-type": "application/x-git-upload-pack-request",
      "content-length": "142",
      "content-encoding": "gzip",
      "git-protocol": "version=2",
      "x-forwarded-for": "10.0.0.9",
      cookie: "a=b",
    };
    const environment = cgiEnvironment(
      route,
      { method: "POST", headers, remoteAddress: undefined },
      settings,
    );
    expect(environment).toMatchObject({
      CONTENT_TYPE: "application/x-git-upload-pack-request",
      CONTENT_LENGTH: "142",
      HTTP_CONTENT_ENCODING: "gzip",
      GIT_PROTOCOL: "version=2",
    });
    expect(Object.keys(environment).filter((key) => /FORWARDED|COOKIE/.test(key))).toEqual([]);
    const odd = cgiEnvironment(
      route,
      {
        method: "POST",
        headers: {
          "content-type": "text/html",
          "content-length": "-1",
          "git-protocol": "version=2; rm -rf /",
        },
        remoteAddress: undefined,
      },
      settings,
    );
    expect(odd).not.toHaveProperty("CONTENT_TYPE");
    expect(odd).not.toHaveProperty("CONTENT_LENGTH");
    expect(odd).not.toHaveProperty("GIT_PROTOCOL");
  });
});

describe("the head of http-backend's answer", () => {
  it("is read up to its blank line, with its Status and headers", () => {
    const answer = Buffer.from(
      "Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT\r\n\r\nbody",
    );
    const head = parseCgiHead(answer);
    expect(head).toEqual({
      status: 404,
      headers: [
        ["Content-Type", "text/plain"],
        ["Expires", "Fri, 01 Jan 1980 00:00:00 GMT"],
      ],
      bodyStart: answer.length - 4,
    });
  });

  it("is 200 without a Status line, and accepts bare line feeds", () => {
    const answer = Buffer.from("Content-Type: application/x-git-upload-pack-advertisement\n\n001e# service");
    expect(parseCgiHead(answer)).toMatchObject({ status: 200, bodyStart: answer.indexOf("001e") });
  });

  it("waits for more while the blank line has not come, and gives up on a head that never ends", () => {
    expect(parseCgiHead(Buffer.from("Content-Type: text/plain\r\n"))).toBeUndefined();
    expect(() => parseCgiHead(Buffer.alloc(20_000, "a"))).toThrow("longer than 16 KiB");
  });

  it("refuses a Status that is not an HTTP status", () => {
    expect(() => parseCgiHead(Buffer.from("Status: teapot\n\n"))).toThrow("invalid Status");
    expect(() => parseCgiHead(Buffer.from("Status: 99\n\n"))).toThrow("invalid Status");
  });
});

describe("the git server's arguments", () => {
  it("takes an absolute root, a plain repository name and a port", () => {
    expect(parseGitServerArgs(["--root=/state/s1/flux/git", "--repository=fleet", "--port=4100"])).toEqual({
      root: "/state/s1/flux/git",
      repository: "fleet",
      port: 4100,
    });
  });

  it.each([
    [["--root=relative", "--repository=fleet", "--port=1"], "--root"],
    [["--root=/r", "--repository=../etc", "--port=1"], "--repository"],
    [["--root=/r", "--repository=Fleet", "--port=1"], "--repository"],
    [["--root=/r", "--repository=fleet", "--port=70000"], "--port"],
    [["--root=/r", "--repository=fleet"], "--port"],
    [["--root=/r", "--repository=fleet", "--port=1", "--push"], "--push"],
  ])("refuses %j, naming %s", (argv, flag) => {
    let failure: unknown;
    try {
      parseGitServerArgs(argv);
    } catch (error: unknown) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_USAGE");
    expect((failure as BroadsideError).message).toContain(flag);
  });
});
