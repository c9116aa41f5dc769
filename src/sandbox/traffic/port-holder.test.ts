import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { describeHolders, findPortHolders, listeningInodes, type ProcFiles } from "./port-holder.js";

/** A /proc of a few files and links, for the cases a real machine will not stage on demand. */
function memoryProc(
  files: Record<string, string>,
  links: Record<string, string>,
  denied: string[] = [],
): ProcFiles {
  const paths = [...Object.keys(files), ...Object.keys(links)];
  const errno = (code: string) => Object.assign(new Error(code), { code });
  return {
    readFile: (path) =>
      path in files ? Promise.resolve(files[path] ?? "") : Promise.reject(errno("ENOENT")),
    readlink: (path) =>
      path in links ? Promise.resolve(links[path] ?? "") : Promise.reject(errno("ENOENT")),
    readdir: (dir) => {
      if (denied.includes(dir)) return Promise.reject(errno("EACCES"));
      const names = paths
        .filter((path) => path.startsWith(`${dir}/`))
        .map((path) => path.slice(dir.length + 1).split("/")[0] ?? "");
      return Promise.resolve([...new Set(names)]);
    },
  };
}

const header =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
/** A /proc/net/tcp line: 0x4651 is port 18001. */
function row(address: string, state: string, inode: string): string {
  return `   0: ${address}:4651 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

describe("listeningInodes: the sockets that keep 127.0.0.1:PORT from being bound", () => {
  it("takes listeners on 127.0.0.1 and on the wildcard, not other addresses, states or ports", () => {
    const table =
      header +
      row("0100007F", "0A", "111") + // 127.0.0.1, LISTEN
      row("00000000", "0A", "222") + // 0.0.0.0, LISTEN
      row("0200007F", "0A", "333") + // 127.0.0.2: another address
      row("0100007F", "01", "444") + // an established connection
      row("0100007F", "0A", "0"); // no inode
    expect(listeningInodes(table, 18001)).toEqual(["111", "222"]);
    expect(listeningInodes(table, 18002)).toEqual([]);
  });

  it("takes IPv6 wildcard and IPv4-mapped loopback listeners", () => {
    const table =
      header +
      row("00000000000000000000000000000000", "0A", "555") +
      row("0000000000000000FFFF00000100007F", "0A", "666") +
      row("00000000000000000000000001000000", "0A", "777"); // ::1 does not block 127.0.0.1
    expect(listeningInodes(table, 18001)).toEqual(["555", "666"]);
  });
});

describe("findPortHolders", () => {
  it("names the process whose file descriptors hold the listening socket, by pid and command line", async () => {
    const proc = memoryProc(
      {
        "/proc/net/tcp": header + row("0100007F", "0A", "9001"),
        "/proc/4242/cmdline": ["python3", "-m", "http.server", "18001", ""].join("\0"),
        "/proc/77/cmdline": "sleep\0infinity\0",
      },
      { "/proc/4242/fd/3": "socket:[9001]", "/proc/4242/fd/1": "/dev/null", "/proc/77/fd/0": "socket:[12]" },
    );
    const lookup = await findPortHolders(18001, proc);
    expect(lookup).toEqual({ holders: [{ pid: 4242, command: "python3 -m http.server 18001" }] });
    expect(describeHolders(lookup)).toBe("pid 4242 (python3 -m http.server 18001)");
  });

  it("says why it cannot name one: another user's process, or no /proc at all", async () => {
    const hidden = memoryProc(
      { "/proc/net/tcp": header + row("0100007F", "0A", "9001") },
      { "/proc/1/fd/0": "/dev/null", "/proc/5/fd/0": "x" },
      ["/proc/5/fd"],
    );
    expect(describeHolders(await findPortHolders(18001, hidden))).toBe(
      "a process this user may not inspect (another user's: `sudo ss -ltnp` names it)",
    );
    expect(describeHolders(await findPortHolders(18001, memoryProc({}, {})))).toBe(
      "a process this system does not name (no /proc/net/tcp)",
    );
  });
});

describe("findPortHolders on this machine's /proc", () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const clean of cleanup.splice(0)) clean();
  });

  it("names this test's own process when it listens on the port", async () => {
    const server: Server = createServer();
    cleanup.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const lookup = await findPortHolders(port);
    expect(lookup).toMatchObject({ holders: [{ pid: process.pid }] });
  });

  it("names another process with its command line", async () => {
    const script =
      "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))";
    const child: ChildProcess = spawn(process.execPath, ["-e", script, "--", "port-holder-test"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanup.push(() => child.kill());
    const [chunk] = (await once(child.stdout ?? child, "data")) as [Buffer];
    const lookup = await findPortHolders(Number(chunk.toString().trim()));
    expect(lookup).toEqual({
      holders: [{ pid: child.pid, command: `${process.execPath} -e ${script} -- port-holder-test` }],
    });
  });
});
